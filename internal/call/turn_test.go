package call_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/demo"
	"github.com/parley/parley/internal/media"
)

// liveCall waits for c's CALL frame in state live and returns its TURN servers.
func liveICEServers(c *client) []media.ICEServer {
	c.t.Helper()
	var v struct {
		State      string            `json:"state"`
		ICEServers []media.ICEServer `json:"ice_servers"`
	}
	c.wait("live call", func(f apptest.Frame) bool {
		if f.Type != "call" {
			return false
		}
		json.Unmarshal(f.Data, &v)
		return v.State == "live"
	})
	return v.ICEServers
}

// Each participant of a live call gets TURN servers with credentials of its own, and nobody gets any before; a
// visitor allowed only relayed connections (iceTransportPolicy "relay") connects through the embedded TURN server
// with them, and media flows both ways.
func TestLiveCallCarriesTURNCredentials(t *testing.T) {
	env := apptest.Start(t, nil)
	ana := desk(t, env, demo.AnaEmail, true)
	v := visitor(t, env)
	convID := startChat(v)
	v.sock.Send("call.request", "video", map[string]any{"conversation_id": convID, "client_msg_id": "video"})
	f := v.ack("video")
	if strings.Contains(string(f.Data), "ice_servers") {
		t.Fatalf("a queued call carries TURN credentials: %s", f.Data)
	}
	var a struct {
		Call callView `json:"call"`
	}
	f.Decode(t, &a)
	callID := a.Call.CallID

	o := ana.offer()
	ana.sock.Send("offer.accept", "take", map[string]any{"offer_id": o.OfferID})
	ana.ack("take")
	visitorServers := liveICEServers(v)
	agentServers := liveICEServers(ana)
	for side, servers := range map[string][]media.ICEServer{"visitor": visitorServers, "agent": agentServers} {
		if len(servers) != 1 || len(servers[0].URLs) == 0 || servers[0].Credential == "" {
			t.Fatalf("%s's TURN servers: %+v", side, servers)
		}
		if want := ":" + callID + "-" + side; !strings.HasSuffix(servers[0].Username, want) {
			t.Errorf("%s's TURN username %q, want it to end with %q", side, servers[0].Username, want)
		}
		if !strings.HasPrefix(servers[0].URLs[0], "turn:127.0.0.1:") {
			t.Errorf("%s's TURN URLs: %q", side, servers[0].URLs)
		}
	}

	vp := v.connectWith(callID, media.PeerConfig{Video: true, Audio: true, VideoKbps: 300, RelayOnly: true,
		UDPAndTCP: true, ICEServers: visitorServers})
	ap := ana.connect(callID)
	flowing(t, vp, ap)
}
