package realtime_test

import (
	"fmt"
	"testing"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/demo"
	"github.com/parley/parley/internal/store"
)

// Two nodes share PostgreSQL and NATS, as in production behind a load balancer: a visitor on one node and an agent
// on the other talk in both directions, and a resume on the other node replays what was missed. It needs
// PostgreSQL, so it runs when PARLEY_TEST_POSTGRES_URL is set, which CI always does.
func TestTwoNodesSharePostgresAndNATS(t *testing.T) {
	pg, ok := apptest.PostgresURL(t)
	if !ok {
		return
	}
	shared := func(c *config.Config) {
		c.Database.URL = store.TestPostgresURL(t, pg)
		c.Bus.NATSURL = apptest.NATSURL(t)
	}
	var dbURL, bus string
	a := apptest.Start(t, func(c *config.Config) { shared(c); dbURL, bus = c.Database.URL, c.Bus.NATSURL })
	b := apptest.Start(t, func(c *config.Config) { c.Database.URL, c.Bus.NATSURL = dbURL, bus })

	token := a.VisitorToken(t)
	v := visitor(t, a, token, nil)
	first := send(t, v, "1", map[string]any{"client_msg_id": "q1", "body": "hello from node A"})

	desk := deskOnline(t, b, demo.AnaEmail) // node B assigns the conversation waiting since node A
	desk.Send("message.send", "r1", map[string]any{"conversation_id": first.ConversationID, "client_msg_id": "r1", "body": "hello from node B"})
	if e := nextEvent(t, v); e.Type != "assigned" {
		t.Fatalf("visitor on A got %+v, want the assignment", e)
	}
	if e := nextEvent(t, v); e.Body != "hello from node B" {
		t.Fatalf("visitor on A got %+v", e)
	}
	v.WS.CloseNow()
	for i := 0; i < 3; i++ {
		desk.Send("message.send", fmt.Sprint("m", i), map[string]any{"conversation_id": first.ConversationID, "client_msg_id": fmt.Sprint("m", i), "body": fmt.Sprint("while away ", i)})
	}
	for acks := 0; acks < 4; {
		if f := desk.Next(); f.Type == "ack" {
			acks++
		}
	}
	// The visitor comes back through node B and gets exactly what it missed.
	v2 := visitor(t, b, token, map[string]int64{first.ConversationID: 3})
	for i := 0; i < 3; i++ {
		if e := nextEvent(t, v2); e.Seq != int64(4+i) || e.Body != fmt.Sprint("while away ", i) {
			t.Fatalf("replay %d: %+v", i, e)
		}
	}
	send(t, v2, "2", map[string]any{"client_msg_id": "q2", "body": "back, via B"})
	for {
		if e := nextEvent(t, desk); e.Body == "back, via B" {
			break
		}
	}
}
