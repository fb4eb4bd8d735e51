package media

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/transport/v4/vnet"
)

// visitorIP2 is the visitor's second address on the virtual network: where it moves when its network changes.
const visitorIP2 = "198.51.100.4"

// TestICERestartAfterAddressChange: the visitor's network changes (its address stops working, and it has a new
// one), it restarts ICE with a new offer from the same connection, the relay renegotiates the existing leg, and
// media comes back both ways within 5 s, without the leg being replaced or reported failed.
func TestICERestartAfterAddressChange(t *testing.T) {
	router, nets := newVNet(t, vnetOptions{delay: 10 * time.Millisecond, more: map[string][]string{visitorIP: {visitorIP2}}})
	var dead atomic.Pointer[net.IP] // an address the network no longer carries
	router.AddChunkFilter(func(c vnet.Chunk) bool {
		d := dead.Load()
		if d == nil {
			return true
		}
		src, _ := c.SourceAddr().(*net.UDPAddr)
		dst, _ := c.DestinationAddr().(*net.UDPAddr)
		return !(src != nil && src.IP.Equal(*d) || dst != nil && dst.IP.Equal(*d))
	})
	startVNet(t, router)

	r := newTestRelay(t, Config{ListenIP: relayIP, Net: nets[relayIP]})
	ev := newEvents()
	lc := connectPeers(t, r, ev, vnetPeer(nets, visitorIP), vnetPeer(nets, agentIP))
	callID, visitor, agent := lc.callID, lc.visitor, lc.agent
	c, err := r.call(callID)
	if err != nil {
		t.Fatal(err)
	}
	legBefore := c.legs[SideVisitor.index()].Load()
	ufragBefore := iceUfrag(legBefore.pc.LocalDescription().SDP)

	// The visitor's network changes: its old address goes dark, and a new one comes up.
	old := net.ParseIP(visitorIP)
	dead.Store(&old)
	time.Sleep(500 * time.Millisecond) // the browser notices (its `online` event, or ICE disconnected)
	a0, v0 := visitor.Received()
	if err := visitor.SetLocalIP(visitorIP2); err != nil {
		t.Fatal(err)
	}
	changed := time.Now()
	offer, err := visitor.RestartICE()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	answer, err := r.Restart(ctx, callID, SideVisitor, offer)
	if err != nil {
		t.Fatalf("Restart: %v", err)
	}
	if u := iceUfrag(answer); u == "" || u == ufragBefore {
		t.Fatalf("the answer's ICE credentials are not new (%q, were %q)", u, ufragBefore)
	}
	if err := visitor.SetAnswer(answer); err != nil {
		t.Fatal(err)
	}
	// Media must come back both ways within 5 s of the change.
	a1, v1 := agent.Received()
	eventually(t, 5*time.Second, "media after the ICE restart", func() bool {
		va, vv := visitor.Received()
		aa, av := agent.Received()
		return va > a0+10 && vv > v0+10 && aa > a1+10 && av > v1+10
	})
	took := time.Since(changed)
	t.Logf("media back %v after the address change and ICE restart", took.Round(time.Millisecond))

	if c.legs[SideVisitor.index()].Load() != legBefore {
		t.Error("the restart replaced the visitor's leg")
	}
	if n := ev.get(ev.failed, SideVisitor); n != 0 {
		t.Errorf("the visitor's leg was reported failed %d times", n)
	}
	if n := ev.get(ev.connected, SideVisitor); n != 1 {
		t.Errorf("the visitor's leg was reported connected %d times, want once", n)
	}
}

// TestRestartNeedsTheLegsOwnConnection: a restart needs a leg, and an offer from that leg's RTCPeerConnection;
// another connection's offer (a reloaded page) is ErrNoLeg, for the caller to join instead.
func TestRestartNeedsTheLegsOwnConnection(t *testing.T) {
	r := newTestRelay(t, Config{TCPPort: -1})
	callID := newCallID()
	ev := newEvents()
	if err := r.Open(callID, ev.hooks()); err != nil {
		t.Fatal(err)
	}
	visitor := newTestPeer(t, PeerConfig{Audio: true, Video: true})
	offer, err := visitor.Offer()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := r.Restart(ctx, callID, SideVisitor, offer); !errors.Is(err, ErrNoLeg) {
		t.Fatalf("Restart before Join: %v, want ErrNoLeg", err)
	}
	if _, err := r.Restart(ctx, "nope", SideVisitor, offer); !errors.Is(err, ErrNoCall) {
		t.Fatalf("Restart of an unknown call: %v, want ErrNoCall", err)
	}
	_ = visitor.Close()
	visitor = newTestPeer(t, PeerConfig{Audio: true, Video: true})
	join(t, r, ev, callID, SideVisitor, visitor, false)
	waitConnected(t, visitor)

	reloaded := newTestPeer(t, PeerConfig{Audio: true, Video: true})
	offer, err = reloaded.Offer()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Restart(ctx, callID, SideVisitor, offer); !errors.Is(err, ErrNoLeg) {
		t.Fatalf("Restart with another connection's offer: %v, want ErrNoLeg", err)
	}
	offer, err = visitor.RestartICE()
	if err != nil {
		t.Fatal(err)
	}
	answer, err := r.Restart(ctx, callID, SideVisitor, offer)
	if err != nil {
		t.Fatalf("Restart with the leg's own connection: %v", err)
	}
	if err := visitor.SetAnswer(answer); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Restart(ctx, callID, SideVisitor, "v=0"); !errors.Is(err, ErrBadSDP) {
		t.Fatalf("Restart with a bad offer: %v, want ErrBadSDP", err)
	}
}
