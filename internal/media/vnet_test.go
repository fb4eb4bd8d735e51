package media

import (
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/transport/v4/vnet"
)

// Addresses inside the virtual network (RFC 5737 documentation addresses): no packet leaves the process.
const (
	vnetCIDR  = "198.51.100.0/24"
	relayIP   = "198.51.100.1"
	visitorIP = "198.51.100.2"
	agentIP   = "198.51.100.3"
)

// vnetOptions shape a virtual network: the delay its router adds to every packet, more addresses for a host (by its
// first address), and, if set, what the router sees of a host instead of its interface (a queue that shapes it).
type vnetOptions struct {
	delay time.Duration
	more  map[string][]string
	nic   func(t *testing.T, ip string, n *vnet.Net) vnet.NIC
}

// vnetBuild serializes the making of virtual networks: pion's vnet numbers MAC addresses with an unguarded
// package counter, and some of these tests run in parallel.
var vnetBuild sync.Mutex

// newVNet makes a virtual network with a router and a host for the relay and for each peer. Start it with
// startVNet once its filters are set.
func newVNet(t *testing.T, o vnetOptions) (*vnet.Router, map[string]*vnet.Net) {
	t.Helper()
	vnetBuild.Lock()
	defer vnetBuild.Unlock()
	router, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: vnetCIDR, MinDelay: o.delay,
		LoggerFactory: newPionLogs(testLog())})
	if err != nil {
		t.Fatal(err)
	}
	nets := map[string]*vnet.Net{}
	for _, ip := range []string{relayIP, visitorIP, agentIP} {
		n, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: append([]string{ip}, o.more[ip]...)})
		if err != nil {
			t.Fatal(err)
		}
		nets[ip] = n
		var nic vnet.NIC = n
		if o.nic != nil {
			nic = o.nic(t, ip, n)
		}
		if err := router.AddNet(nic); err != nil {
			t.Fatal(err)
		}
	}
	return router, nets
}

// vnetPeer is the configuration of a peer that sends audio and video from host ip of a virtual network.
func vnetPeer(nets map[string]*vnet.Net, ip string) PeerConfig {
	return PeerConfig{Audio: true, Video: true, LocalIP: ip, Net: nets[ip]}
}

func startVNet(t *testing.T, router *vnet.Router) {
	t.Helper()
	if err := router.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = router.Stop() })
}

func TestListenOnAllAddresses(t *testing.T) {
	// Bound to 0.0.0.0, the relay binds and advertises each interface address but loopback, and browsers
	// connect through them. (On the virtual network, so that no test sends to a real non-loopback address.)
	router, nets := newVNet(t, vnetOptions{})
	startVNet(t, router)
	r := newTestRelay(t, Config{ListenIP: "0.0.0.0", Net: nets[relayIP]})
	if r.UDPAddr().Port == 0 || !r.UDPAddr().IP.IsUnspecified() {
		t.Errorf("UDPAddr() = %v", r.UDPAddr())
	}
	c := connectPeers(t, r, newEvents(), vnetPeer(nets, visitorIP), vnetPeer(nets, agentIP))
	if !strings.Contains(c.visitorAnswer, " "+relayIP+" ") || strings.Contains(c.visitorAnswer, " 127.0.0.1 ") {
		t.Errorf("answer's candidates are not the relay's interface address:\n%s", c.visitorAnswer)
	}
}

// TestMediaUnderLossAndDelay runs a call over pion's virtual network (this machine's kernel has no netem): 50 ms
// of delay each way and 5% loss on every packet, in both directions. Media must keep flowing, NACKs must win back
// lost video, and the leg's measures must show the loss and the delay.
func TestMediaUnderLossAndDelay(t *testing.T) {
	const (
		delay    = 50 * time.Millisecond
		lossRate = 0.05
	)
	router, nets := newVNet(t, vnetOptions{delay: delay})
	// Loss starts once both legs are up: a lost DTLS flight costs a second's retransmission timer, which would
	// only slow the test down.
	var lossy atomic.Bool
	var dropped atomic.Int64
	router.AddChunkFilter(func(vnet.Chunk) bool {
		if lossy.Load() && rand.Float64() < lossRate {
			dropped.Add(1)
			return false
		}
		return true
	})
	startVNet(t, router)

	r := newTestRelay(t, Config{ListenIP: relayIP, Net: nets[relayIP]})
	c := connectPeers(t, r, newEvents(), vnetPeer(nets, visitorIP), vnetPeer(nets, agentIP))
	callID, visitor, agent := c.callID, c.visitor, c.agent

	lossy.Store(true)
	time.Sleep(4 * time.Second)
	mediaAdvances(t, visitor, "visitor under loss", true)
	mediaAdvances(t, agent, "agent under loss", true)
	if dropped.Load() == 0 {
		t.Fatal("the virtual network dropped nothing")
	}

	call, err := r.call(callID)
	if err != nil {
		t.Fatal(err)
	}
	leg := call.legs[SideVisitor.index()].Load()
	in := leg.totals()
	audioLoss := float64(in.audioLost) / float64(in.audioExpected) * 100
	videoLoss := float64(in.videoLost) / float64(in.videoExpected) * 100
	recovered := leg.in[kindVideo].lateCount()
	t.Logf("visitor -> relay: audio loss %.1f%% (no NACK for audio), video loss %.1f%% after NACK, "+
		"%d video packets recovered", audioLoss, videoLoss, recovered)
	if audioLoss < 1 || audioLoss > 15 {
		t.Errorf("audio loss %.1f%%, want about %.0f%%", audioLoss, lossRate*100)
	}
	if recovered == 0 {
		t.Error("no video packet was recovered by NACK")
	}

	stats, err := r.End(callID)
	if err != nil {
		t.Fatal(err)
	}
	for side, s := range map[Side]LegStats{SideVisitor: stats.Visitor, SideAgent: stats.Agent} {
		t.Logf("%s: %+v", side, s)
		if s.LossPct <= 0 || s.LossPct > 15 {
			t.Errorf("%s loss = %.2f%%, want it to show the network's loss", side, s.LossPct)
		}
		if s.RTTMs < 2*delay.Seconds()*1000*0.9 || s.RTTMs > 400 {
			t.Errorf("%s RTT = %.1f ms, want about %v", side, s.RTTMs, 2*delay)
		}
		if s.Packets == 0 || s.BitrateKbps == 0 {
			t.Errorf("%s sent nothing: %+v", side, s)
		}
	}
}
