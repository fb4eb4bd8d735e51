package server_test

import (
	"io"
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
// bitrate it received; a bad offer is refused, and so is a fourth session at once.
func TestCheckEcho(t *testing.T) {
	env := apptest.Start(t, nil)
	h := env.NewHTTP(t)
	peer, err := media.NewPeer(media.PeerConfig{Video: true, VideoKbps: 400}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	offer, err := peer.Offer()
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		EchoID     string `json:"echo_id"`
		SDP        string `json:"sdp"`
		MaxSeconds int    `json:"max_seconds"`
	}
	if st := h.Do("POST", "/api/check/echo", map[string]string{"sdp": offer}, &out); st != 200 || out.SDP == "" {
		t.Fatalf("POST /api/check/echo: %d %+v", st, out)
	}
	if err := peer.SetAnswer(out.SDP); err != nil {
		t.Fatal(err)
	}
	peer.Start()
	select {
	case <-peer.Connected():
	case <-time.After(5 * time.Second):
		t.Fatal("the echo session did not connect")
	}
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
	var e apiErr
	if code := h.Do("GET", "/api/check/echo/echo_nope", nil, &e); code != 404 {
		t.Fatalf("stats of an unknown session: %d", code)
	}
	if code := h.Do("POST", "/api/check/echo", map[string]string{"sdp": "v=0"}, &e); code != 400 || e.Error.Code != "bad_sdp" {
		t.Fatalf("a bad offer: %d %+v", code, e)
	}
	// One session and one refused offer so far: a third is allowed, a fourth within 10 s is not.
	other, _ := media.NewPeer(media.PeerConfig{Video: true}, nil)
	t.Cleanup(func() { other.Close() })
	offer2, _ := other.Offer()
	if code := h.Do("POST", "/api/check/echo", map[string]string{"sdp": offer2}, &out); code != 200 {
		t.Fatalf("a third echo: %d", code)
	}
	if code := h.Do("POST", "/api/check/echo", map[string]string{"sdp": offer2}, &e); code != 429 || e.Error.Code != "rate_limited" {
		t.Fatalf("a fourth echo at once from one address: %d %+v, want 429", code, e)
	}
}
