package server_test

import (
	"testing"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/demo"
)

// Read receipts over the sockets: Ana reads the visitor's message, the visitor hears it (and finds it again in the
// hello after a reconnect); the visitor reads Ana's reply, Ana's desk hears it and the summary keeps it. A read of
// someone else's conversation is refused.
func TestReadReceipts(t *testing.T) {
	env := apptest.Start(t, nil)
	token := env.VisitorToken(t)
	visitor, desk, ack := chatWithAna(t, env, token, "Hello?")

	desk.Send("read", "r1", map[string]any{"conversation_id": ack.ConversationID, "seq": ack.Seq})
	desk.Expect("ack", "r1")
	var read struct {
		ConversationID string `json:"conversation_id"`
		Reader         string `json:"reader"`
		Seq            int64  `json:"seq"`
	}
	visitor.Expect("read", "").Decode(t, &read)
	if read.ConversationID != ack.ConversationID || read.Reader != "agent" || read.Seq != ack.Seq {
		t.Fatalf("the visitor hears: %+v", read)
	}

	desk.Send("message.send", "a1", map[string]any{"conversation_id": ack.ConversationID, "client_msg_id": "x1", "body": "Yes, hello!"})
	var reply struct {
		Seq int64 `json:"seq"`
	}
	desk.Expect("ack", "a1").Decode(t, &reply)
	visitor.Send("read", "r2", map[string]any{"conversation_id": ack.ConversationID, "seq": reply.Seq})
	visitor.Expect("ack", "r2")
	desk.Expect("read", "").Decode(t, &read)
	if read.Reader != "visitor" || read.Seq != reply.Seq {
		t.Fatalf("Ana's desk hears: %+v", read)
	}
	sm, err := env.Store.ConversationSummary(t.Context(), ack.ConversationID)
	if err != nil || sm.VisitorReadSeq != reply.Seq || sm.AgentReadSeq != ack.Seq {
		t.Fatalf("the summary: %+v %v", sm, err)
	}

	// After a reconnect, the hello says how far Ana has read.
	again, _, err := env.DialVisitor(t, env.URL)
	if err != nil {
		t.Fatal(err)
	}
	var welcome struct {
		Conversation struct {
			AgentReadSeq int64 `json:"agent_read_seq"`
		} `json:"conversation"`
	}
	apptest.Frame{Data: again.Hello(map[string]any{"token": token})}.Decode(t, &welcome)
	if welcome.Conversation.AgentReadSeq != ack.Seq {
		t.Fatalf("the hello: %+v", welcome)
	}

	// Another visitor may not read this conversation; Ben may not mark it read for Ana.
	other, _, err := env.DialVisitor(t, env.URL)
	if err != nil {
		t.Fatal(err)
	}
	other.Hello(map[string]any{"token": env.VisitorToken(t)})
	other.Send("read", "r3", map[string]any{"conversation_id": ack.ConversationID, "seq": 1})
	other.ExpectError("r3", 105)
	ben := env.OpenDesk(t, demo.BenEmail)
	ben.Send("read", "r4", map[string]any{"conversation_id": ack.ConversationID, "seq": 1})
	ben.ExpectError("r4", 105)
}
