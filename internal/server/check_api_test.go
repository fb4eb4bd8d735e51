package server_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/media"
)

type checkConfig struct {
	WSURL string `json:"ws_url"`
	Media struct {
		UDPPort int `json:"udp_port"`
		TCPPort int `json:"tcp_port"`
	} `json:"media"`
	ICEServers []media.ICEServer `json:"ice_servers"`
	Echo       struct {
		URL        string `json:"url"`
		Available  bool   `json:"available"`
		MaxSeconds int    `json:"max_seconds"`
	} `json:"echo"`
}

// TestCheckConfig: the check gets the relay's ports, the check socket's URL and TURN servers with credentials of
// its own; another origin needs a site that allows it; the API is rate-limited per address.
func TestCheckConfig(t *testing.T) {
	env := apptest.Start(t, nil)
	h := env.NewHTTP(t)
	var c checkConfig
	if st := h.Do("GET", "/api/check/config", nil, &c); st != 200 {
		t.Fatalf("GET /api/check/config: %d", st)
	}
	if c.Media.UDPPort == 0 || c.Media.TCPPort == 0 || !strings.HasPrefix(c.WSURL, "ws://") ||
		!strings.HasSuffix(c.WSURL, "/ws/check") || !c.Echo.Available || c.Echo.MaxSeconds != 10 {
		t.Fatalf("config %+v", c)
	}
	if len(c.ICEServers) != 1 || !strings.Contains(c.ICEServers[0].Username, ":check-") ||
		c.ICEServers[0].Credential == "" || !strings.HasPrefix(c.ICEServers[0].URLs[0], "turn:") {
		t.Fatalf("TURN servers %+v", c.ICEServers)
	}

	foreign := env.NewHTTP(t)
	foreign.Origin = "https://elsewhere.example"
	var e apiErr
	if st := foreign.Do("GET", "/api/check/config", nil, &e); st != 404 && st != 403 {
		t.Fatalf("another origin without a site: %d %+v", st, e)
	}
	if st := foreign.Do("GET", "/api/check/config?site="+env.Site.PublicID, nil, &e); st != 403 {
		t.Fatalf("an origin the site doesn't allow: %d %+v", st, e)
	}

	limited := 0
	for range 40 {
		if st := h.Do("GET", "/api/check/config", nil, &e); st == 429 {
			limited++
		}
	}
	if limited == 0 || e.Error.Code != "rate_limited" {
		t.Fatalf("40 configs in a row from one address: none refused (%+v)", e)
	}
}

// TestCheckEcho: a browser (a pion peer) sends video to the relay's echo and gets it back; the relay reports the
// bitrate it received; a bad offer is refused.
func TestCheckEcho(t *testing.T) {
	env := apptest.Start(t, nil)
	h := env.NewHTTP(t)
	peer, out := startEcho(t, h, media.PeerConfig{Video: true, VideoKbps: 400})
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, v := peer.Received(); v > 60 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no video came back from the echo")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var st struct {
		EchoID       string  `json:"echo_id"`
		ReceivedKbps float64 `json:"received_kbps"`
		Connected    bool    `json:"connected"`
	}
	if code := h.Do("GET", "/api/check/echo/"+out.EchoID, nil, &st); code != 200 || !st.Connected ||
		st.ReceivedKbps < 250 || st.ReceivedKbps > 700 {
		t.Fatalf("echo stats: %d %+v, want about 400 kb/s", code, st)
	}
	if out.MaxSeconds != 10 {
		t.Errorf("max_seconds %d, want 10", out.MaxSeconds)
	}
	var e apiErr
	if code := h.Do("GET", "/api/check/echo/echo_nope", nil, &e); code != 404 {
		t.Fatalf("stats of an unknown session: %d", code)
	}
	if code := h.Do("DELETE", "/api/check/echo/echo_nope", nil, &e); code != 404 {
		t.Fatalf("ending an unknown session: %d", code)
	}
	if code := h.Do("POST", "/api/check/echo", map[string]string{"sdp": "v=0"}, &e); code != 400 || e.Error.Code != "bad_sdp" {
		t.Fatalf("a bad offer: %d %+v", code, e)
	}
}

// TestCheckEchoAgain: a visitor whose lobby ran its quick check opens /check and presses "Check again" twice as soon
// as it lets them: every run's three sessions at once are accepted, because each run ends its sessions (DELETE)
// when it is done with them, as the page does.
func TestCheckEchoAgain(t *testing.T) {
	env := apptest.Start(t, nil)
	h := env.NewHTTP(t)
	lobby, out := startEcho(t, h, media.PeerConfig{Video: true})
	waitEchoConnected(t, lobby)
	endEcho(t, h, lobby, out.EchoID)
	for run := 1; run <= 3; run++ {
		var ids []string
		var peers []*media.Peer
		for range 3 { // UDP with the bandwidth test, ICE-TCP, TURN
			p, out := startEcho(t, h, media.PeerConfig{Video: true})
			peers, ids = append(peers, p), append(ids, out.EchoID)
		}
		waitEchoConnected(t, peers...)
		for i, p := range peers {
			endEcho(t, h, p, ids[i])
		}
		t.Logf("run %d: three echo sessions", run)
	}
}

// TestCheckEchoAbuse: an address can't run more than four echo sessions at once, ending a session closes it at the
// relay and frees its place, and an address gets 20 sessions a minute, however short.
func TestCheckEchoAbuse(t *testing.T) {
	env := apptest.Start(t, nil)
	h := env.NewHTTP(t)
	refused := func(what string) {
		t.Helper()
		var e apiErr
		if code := h.Do("POST", "/api/check/echo", map[string]string{"sdp": silentOffer(t)}, &e); code != 429 || e.Error.Code != "rate_limited" {
			t.Fatalf("%s: %d %+v, want 429 rate_limited", what, code, e)
		}
	}
	started := 0
	sending, out := startEcho(t, h, media.PeerConfig{Video: true, VideoKbps: 400})
	waitEchoConnected(t, sending)
	ids := []string{out.EchoID}
	for range 3 {
		ids = append(ids, postEcho(t, h, silentOffer(t)))
	}
	started += 4
	refused("a fifth session at once")

	// A session its page ended frees its place...
	endEcho(t, h, nil, ids[1])
	ids[1] = postEcho(t, h, silentOffer(t))
	started++
	// Ending a session closes it at the relay: nothing more comes back, and its place is free.
	if code := h.Do("DELETE", "/api/check/echo/"+ids[0], nil, nil); code != 204 {
		t.Fatalf("DELETE the sending session: %d", code)
	}
	time.Sleep(500 * time.Millisecond)
	_, before := sending.Received()
	time.Sleep(time.Second)
	if _, after := sending.Received(); after > before {
		t.Fatalf("the relay still echoed %d packets after the session was ended", after-before)
	}
	ids[0] = postEcho(t, h, silentOffer(t))
	started++
	refused("a fifth session at once, again")
	if code := h.Do("DELETE", "/api/check/echo/"+ids[0]+"x", nil, nil); code != 404 {
		t.Fatalf("DELETE an unknown session: %d, want 404", code)
	}

	// Short sessions, each ended at once: 20 a minute.
	for _, id := range ids {
		endEcho(t, h, nil, id)
	}
	for ; started < 20; started++ {
		endEcho(t, h, nil, postEcho(t, h, silentOffer(t)))
	}
	refused("the 21st session within a minute")
}

// TestCheckSocketLimit: an address opens the check socket 30 times a minute at most.
func TestCheckSocketLimit(t *testing.T) {
	env := apptest.Start(t, nil)
	h := env.NewHTTP(t)
	var e apiErr
	for i := range 30 {
		// A plain GET, not an upgrade: refused by the socket, after the limit has counted it.
		if code := h.Do("GET", "/ws/check", nil, nil); code == 429 {
			t.Fatalf("check socket %d refused", i+1)
		}
	}
	if code := h.Do("GET", "/ws/check", nil, &e); code != 429 || e.Error.Code != "rate_limited" {
		t.Fatalf("the 31st check socket in a minute: %d %+v, want 429 rate_limited", code, e)
	}
}

type echoAnswer struct {
	EchoID     string `json:"echo_id"`
	SDP        string `json:"sdp"`
	MaxSeconds int    `json:"max_seconds"`
}

// startEcho connects a peer to an echo session, as the check page does.
func startEcho(t *testing.T, h *apptest.HTTP, cfg media.PeerConfig) (*media.Peer, echoAnswer) {
	t.Helper()
	peer, offer := newOfferer(t, cfg)
	var out echoAnswer
	if st := h.Do("POST", "/api/check/echo", map[string]string{"sdp": offer}, &out); st != 200 || out.SDP == "" {
		t.Fatalf("POST /api/check/echo: %d %+v", st, out)
	}
	if err := peer.SetAnswer(out.SDP); err != nil {
		t.Fatal(err)
	}
	peer.Start()
	return peer, out
}

func waitEchoConnected(t *testing.T, peers ...*media.Peer) {
	t.Helper()
	for _, p := range peers {
		select {
		case <-p.Connected():
		case <-time.After(5 * time.Second):
			t.Fatal("the echo session did not connect")
		}
	}
}

// endEcho closes a session's peer (if any), then tells the server, as the check page does.
func endEcho(t *testing.T, h *apptest.HTTP, p *media.Peer, id string) {
	t.Helper()
	if p != nil {
		p.Close()
	}
	if code := h.Do("DELETE", "/api/check/echo/"+id, nil, nil); code != 204 {
		t.Fatalf("DELETE /api/check/echo/%s: %d, want 204", id, code)
	}
}

// newOfferer makes a peer, closed when the test ends, and its offer.
func newOfferer(t *testing.T, cfg media.PeerConfig) (*media.Peer, string) {
	t.Helper()
	p, err := media.NewPeer(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	offer, err := p.Offer()
	if err != nil {
		t.Fatal(err)
	}
	return p, offer
}

// silentOffer is an offer from a peer that never connects: a session that costs the relay little.
func silentOffer(t *testing.T) string {
	t.Helper()
	_, offer := newOfferer(t, media.PeerConfig{Video: true})
	return offer
}

// postEcho starts an echo session for offer, and returns its id.
func postEcho(t *testing.T, h *apptest.HTTP, offer string) string {
	t.Helper()
	var out echoAnswer
	if code := h.Do("POST", "/api/check/echo", map[string]string{"sdp": offer}, &out); code != 200 {
		t.Fatalf("POST /api/check/echo: %d", code)
	}
	return out.EchoID
}
