package call_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/demo"
	"github.com/parley/parley/internal/media"
)

// TestMediaSurvivesSignallingDrop: the visitor's socket is killed for 10 s in the middle of a call. Media goes
// through the relay, not the socket, so it keeps flowing both ways the whole time. Then the visitor's page comes
// back on a new socket: its hello shows the call still live, and an ICE restart offered from that socket by the
// same RTCPeerConnection renegotiates the existing leg (a new leg would wait for a DTLS handshake the browser
// never starts, and media would stop).
func TestMediaSurvivesSignallingDrop(t *testing.T) {
	env := apptest.Start(t, nil)
	ana := desk(t, env, demo.AnaEmail, true)
	token := env.VisitorToken(t)
	sock, _, err := env.DialVisitor(t, env.URL)
	if err != nil {
		t.Fatal(err)
	}
	sock.Hello(map[string]any{"token": token})
	v := newClient(t, "visitor", sock)
	convID := startChat(v)
	callID := requestCall(v, convID)
	o := ana.offer()
	ana.sock.Send("offer.accept", "take", map[string]any{"offer_id": o.OfferID})
	ana.ack("take")
	v.callState("live")
	vp := v.connect(callID)
	ap := ana.connect(callID)
	flowing(t, vp, ap)

	sock.WS.CloseNow()
	dropped := time.Now()
	for time.Since(dropped) < 10*time.Second {
		// Every second of the drop, both sides keep receiving.
		va, vv := vp.Received()
		aa, av := ap.Received()
		time.Sleep(time.Second)
		va2, vv2 := vp.Received()
		aa2, av2 := ap.Received()
		if va2 < va+20 || vv2 < vv+10 || aa2 < aa+20 || av2 < av+10 {
			t.Fatalf("%v into the signalling drop, media stalled: visitor got %d audio and %d video packets in 1 s, "+
				"agent %d and %d", time.Since(dropped).Round(time.Second), va2-va, vv2-vv, aa2-aa, av2-av)
		}
	}

	// The page's socket comes back.
	sock2, _, err := env.DialVisitor(t, env.URL)
	if err != nil {
		t.Fatal(err)
	}
	var hello struct {
		Call *callView `json:"call"`
	}
	if err := json.Unmarshal(sock2.Hello(map[string]any{"token": token}), &hello); err != nil {
		t.Fatal(err)
	}
	if hello.Call == nil || hello.Call.CallID != callID || hello.Call.State != "live" {
		t.Fatalf("after the drop, hello's call is %+v, want %s live", hello.Call, callID)
	}
	v2 := newClient(t, "visitor again", sock2)
	v2.mu.Lock()
	v2.peer = vp
	v2.mu.Unlock()
	vp.OnCandidate(func(c *media.Candidate) {
		sock2.Send("call.candidate", "", map[string]any{"call_id": callID, "candidate": c})
	})

	// An ICE restart from the resumed socket, by the same connection.
	offer, err := vp.RestartICE()
	if err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	sock2.Send("call.connect", "restart", map[string]any{"call_id": callID, "sdp": offer})
	var a struct {
		SDP string `json:"sdp"`
	}
	v2.ack("restart").Decode(t, &a)
	if err := vp.SetAnswer(a.SDP); err != nil {
		t.Fatal(err)
	}
	flowing(t, vp, ap)
	t.Logf("media flowed through a 10 s signalling drop; ICE restart answered and media flowing %v later",
		time.Since(restarted).Round(time.Millisecond))
}
