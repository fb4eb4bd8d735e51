package realtime_test

import (
	"testing"
	"time"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/demo"
	"github.com/parley/parley/internal/store"
)

type queueView struct {
	ConversationID string `json:"conversation_id"`
	State          string `json:"state"`
	Position       int    `json:"position"`
	ETA            *struct {
		Bucket string `json:"bucket"`
	} `json:"eta"`
}

// nextOf returns the next frame of type typ, passing over any other.
func nextOf(t *testing.T, s *apptest.Socket, typ string) apptest.Frame {
	t.Helper()
	s.Skip = map[string]bool{}
	for {
		if f := s.Next(); f.Type == typ {
			return f
		}
	}
}

// Offers and presence over the sockets, with the bad input the issue lists: another agent's offer, another agent's
// presence, an accept after the offer ended. None changes any state.
func TestOffersOverTheSockets(t *testing.T) {
	env := apptest.Start(t, nil)
	env.SetGroup(t, map[string]any{"chat_mode": "offer"})
	ana := deskOnline(t, env, demo.AnaEmail)
	ben := deskOnline(t, env, demo.BenEmail)
	ben.Send("presence.set", "away", map[string]any{"channel": "chat", "status": "away"})
	nextOf(t, ben, "ack")

	v := visitor(t, env, env.VisitorToken(t), nil)
	v.Send("message.send", "1", map[string]any{"client_msg_id": "q", "body": "hello"})
	var offer struct {
		OfferID        string `json:"offer_id"`
		ConversationID string `json:"conversation_id"`
		Deadline       int64  `json:"deadline"`
	}
	nextOf(t, ana, "offer").Decode(t, &offer)
	if offer.OfferID == "" || offer.Deadline == 0 {
		t.Fatalf("offer %+v", offer)
	}
	var q queueView
	for q.State != "offered" {
		nextOf(t, v, "queue").Decode(t, &q)
	}

	// Ben can't answer Ana's offer, nor set Ana's presence.
	ben.Send("offer.accept", "steal", map[string]any{"offer_id": offer.OfferID})
	if code := errorCode(t, ben, "steal"); code != 105 {
		t.Fatalf("steal: code %d, want 105", code)
	}
	ben.Send("offer.decline", "steal2", map[string]any{"offer_id": offer.OfferID})
	if code := errorCode(t, ben, "steal2"); code != 105 {
		t.Fatalf("steal2: code %d, want 105", code)
	}
	ben.Send("presence.set", "hers", map[string]any{"channel": "chat", "status": "offline", "agent_id": "someone-else"})
	if code := errorCode(t, ben, "hers"); code != 100 {
		t.Fatalf("hers: code %d, want 100", code)
	}
	ben.Send("presence.set", "bad", map[string]any{"channel": "chat", "status": "not_responding"})
	if code := errorCode(t, ben, "bad"); code != 100 {
		t.Fatalf("bad: code %d, want 100", code)
	}

	ana.Send("offer.accept", "take", map[string]any{"offer_id": offer.OfferID})
	if f := nextOf(t, ana, "ack"); f.ID != "take" {
		t.Fatalf("accept answered %s", f.Data)
	}
	ana.Send("offer.accept", "again", map[string]any{"offer_id": offer.OfferID})
	if code := errorCode(t, ana, "again"); code != 111 {
		t.Fatalf("accepting an ended offer: code %d, want 111", code)
	}
	for q.State != "assigned" {
		nextOf(t, v, "queue").Decode(t, &q)
	}
	c, err := env.Store.Conversation(t.Context(), offer.ConversationID)
	if err != nil || c.AgentID == "" {
		t.Fatalf("conversation %+v %v", c, err)
	}
	p, _ := env.Store.AgentPresence(t.Context(), c.AgentID)
	if p.Chat != "available" {
		t.Fatalf("Ana's presence changed to %s", p.Chat)
	}
}

// errorCode waits for the error frame answering request id, passing over other frames, and returns its code.
func errorCode(t *testing.T, s *apptest.Socket, id string) int {
	t.Helper()
	for {
		f := nextOf(t, s, "error")
		if f.ID != id {
			continue
		}
		var e struct {
			Code int `json:"code"`
		}
		f.Decode(t, &e)
		return e.Code
	}
}

// The server restarts while an offer rings: the deadline, kept in the database, is still enforced afterwards.
func TestOfferDeadlineSurvivesAServerRestart(t *testing.T) {
	env := apptest.Start(t, nil)
	env.SetGroup(t, map[string]any{"chat_mode": "offer", "offer_timeout_seconds": 5})
	ana := deskOnline(t, env, demo.AnaEmail)
	v := visitor(t, env, env.VisitorToken(t), nil)
	v.Send("message.send", "1", map[string]any{"client_msg_id": "q", "body": "hello"})
	var offer struct {
		OfferID        string `json:"offer_id"`
		ConversationID string `json:"conversation_id"`
	}
	nextOf(t, ana, "offer").Decode(t, &offer)

	env.Stop()
	time.Sleep(5500 * time.Millisecond) // the deadline passes while no node runs
	env.Resume()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := env.Store.LatestRequest(t.Context(), offer.ConversationID, "chat")
		if err == nil && r.State == "queued" && r.Attempts == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the offer was not timed out after the restart: %+v %v", r, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ana2 := env.NewHTTP(t)
	ana2.Login(demo.AnaEmail, demo.Password)
	var me struct {
		Account struct{ ID string } `json:"account"`
	}
	ana2.Do("GET", "/api/auth/me", nil, &me)
	if p, _ := env.Store.AgentPresence(t.Context(), me.Account.ID); p.Chat != "not_responding" {
		t.Fatalf("Ana missed the offer but is %s", p.Chat)
	}
}

// A request the server has read is carried out even if its socket goes at once: an agent who ends a conversation
// and closes the desk straight away still has it ended, its routing request closed and the slot freed. The
// server's writes to the closed socket fail while the end is under way, which must not cut the end short.
func TestEndIsCarriedOutWhenTheSocketGoesAtOnce(t *testing.T) {
	env := apptest.Start(t, nil)
	for i := range 20 {
		ana := deskOnline(t, env, demo.AnaEmail)
		v := visitor(t, env, env.VisitorToken(t), nil)
		conv := send(t, v, "m", map[string]any{"client_msg_id": "m", "body": "hello"}).ConversationID
		for e := nextEvent(t, ana); e.ConversationID != conv || e.Type != "assigned"; e = nextEvent(t, ana) {
		}
		ana.Send("conversation.end", "end", map[string]any{"conversation_id": conv})
		ana.WS.CloseNow()
		v.WS.CloseNow()

		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := env.Store.Conversation(t.Context(), conv)
			if err != nil {
				t.Fatal(err)
			}
			r, err := env.Store.LatestRequest(t.Context(), conv, store.ChannelChat)
			if err != nil {
				t.Fatal(err)
			}
			if c.Status == store.StatusClosed && r.State == store.RequestClosed {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: conversation %s is %s and its request %s", i, conv, c.Status, r.State)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
