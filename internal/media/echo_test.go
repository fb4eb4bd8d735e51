package media

import (
	"context"
	"errors"
	"testing"
	"time"
)

// startEcho connects a peer to an echo session and returns the session's id.
func startEcho(t *testing.T, e *Echo, p *Peer) string {
	t.Helper()
	offer, err := p.Offer()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	id, answer, err := e.Start(ctx, offer)
	if err != nil {
		t.Fatalf("echo Start: %v", err)
	}
	if err := p.SetAnswer(answer); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestEchoSendsBackWhatItReceives: a browser's video comes back to it through the relay, and the relay reports
// the bitrate it received; the session ends by itself after MaxDuration.
func TestEchoSendsBackWhatItReceives(t *testing.T) {
	r := newTestRelay(t, Config{TCPPort: -1})
	e := NewEcho(r, EchoConfig{MaxSessions: 1, MaxDuration: 3 * time.Second})
	t.Cleanup(e.Close)
	p := newTestPeer(t, PeerConfig{Video: true, VideoKbps: 400})
	id := startEcho(t, e, p)
	p.Start()
	waitConnected(t, p)
	eventually(t, 5*time.Second, "the video to come back", func() bool {
		_, video := p.Received()
		return video > 30
	})

	// One session at a time here.
	other := newTestPeer(t, PeerConfig{Video: true})
	offer, err := other.Offer()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Start(context.Background(), offer); !errors.Is(err, ErrEchoBusy) {
		t.Fatalf("a second session: %v, want ErrEchoBusy", err)
	}

	time.Sleep(1500 * time.Millisecond)
	st, err := e.Stats(id)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("echo stats: %+v", st)
	if !st.Connected || st.VideoKbps < 300 || st.VideoKbps > 600 {
		t.Errorf("received %.0f kb/s of video, want about 400: %+v", st.VideoKbps, st)
	}
	eventually(t, 5*time.Second, "the session to end after MaxDuration", func() bool {
		st, err := e.Stats(id)
		return err == nil && st.Ended
	})
	if _, err := e.Stats("echo_unknown"); !errors.Is(err, ErrNoEcho) {
		t.Errorf("Stats of an unknown session: %v", err)
	}
	// Once it ended, another may start.
	startEcho(t, e, newTestPeer(t, PeerConfig{Video: true}))
}

func TestEchoOfferChecks(t *testing.T) {
	for name, offer := range map[string]string{"empty": "", "not sdp": "hello", "no media": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"} {
		if err := checkEchoOffer(offer); !errors.Is(err, ErrBadSDP) {
			t.Errorf("%s: %v, want ErrBadSDP", name, err)
		}
	}
}
