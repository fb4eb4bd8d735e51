package call_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/demo"
)

type inviteView struct {
	InviteID       string `json:"invite_id"`
	ConversationID string `json:"conversation_id"`
	AgentName      string `json:"agent_name"`
	State          string `json:"state"`
	Auto           bool   `json:"auto"`
}

// chatting starts a conversation that the agent's desk (available for chat) is assigned.
func chatting(t *testing.T, env *apptest.Env, email string) (*client, *client, string) {
	t.Helper()
	agent := desk(t, env, email, true)
	agent.sock.Send("presence.set", "chat-on", map[string]any{"channel": "chat", "status": "available"})
	agent.ack("chat-on")
	v := visitor(t, env)
	convID := startChat(v)
	agent.wait("the assignment", func(f apptest.Frame) bool {
		var e struct {
			Type string `json:"type"`
		}
		json.Unmarshal(f.Data, &e)
		return f.Type == "event" && e.Type == "assigned"
	})
	return agent, v, convID
}

func (c *client) invite(state string) inviteView {
	c.t.Helper()
	var v inviteView
	c.wait("invitation "+state, func(f apptest.Frame) bool {
		if f.Type != "call.invite" {
			return false
		}
		json.Unmarshal(f.Data, &v)
		return v.State == state
	})
	return v
}

// escalate has the agent invite the visitor, the visitor accept and join, and returns the live call's id.
func escalate(t *testing.T, ana, v *client, convID, id string) string {
	t.Helper()
	ana.sock.Send("call.invite", id, map[string]any{"conversation_id": convID})
	ana.ack(id)
	inv := v.invite("pending")
	if inv.AgentName != "Ana" || inv.ConversationID != convID || inv.Auto {
		t.Fatalf("invitation %+v", inv)
	}
	v.sock.Send("call.invite.answer", id+"-yes", map[string]any{"invite_id": inv.InviteID, "accept": true})
	v.ack(id + "-yes")
	ana.invite("accepted")
	v.sock.Send("call.request", id+"-join", map[string]any{"conversation_id": convID, "client_msg_id": id, "invite_id": inv.InviteID})
	var a struct {
		Call callView `json:"call"`
	}
	v.ack(id+"-join").Decode(t, &a)
	if a.Call.State != "live" || a.Call.AgentName != "Ana" {
		t.Fatalf("escalated call %+v: it goes straight to Ana", a.Call)
	}
	ana.callState("live")
	return a.Call.CallID
}

// Ana escalates her chat to video; the visitor accepts; media flows both ways without any routing; they hang up,
// and Ana escalates again, successfully.
func TestEscalationAcceptedAndAgain(t *testing.T) {
	env := apptest.Start(t, nil)
	ana, v, convID := chatting(t, env, demo.AnaEmail)

	callID := escalate(t, ana, v, convID, "esc1")
	flowing(t, v.connect(callID), ana.connect(callID))
	v.sock.Send("call.hangup", "bye", map[string]any{"call_id": callID})
	v.ack("bye")
	ana.callState("ended")

	// The visitor can't start video again by themselves, but Ana can invite them again.
	v.sock.Send("call.request", "self", map[string]any{"conversation_id": convID, "client_msg_id": "self"})
	if code := v.refused("self"); code != 110 {
		t.Fatalf("a visitor's own second call: code %d, want 110", code)
	}
	callID = escalate(t, ana, v, convID, "esc2")
	flowing(t, v.connect(callID), ana.connect(callID))
}

// A declined invitation tells the agent; escalations that break the rules are refused with clear errors.
func TestEscalationDeclinedAndRefused(t *testing.T) {
	env := apptest.Start(t, nil)
	ana, v, convID := chatting(t, env, demo.AnaEmail)

	ben := desk(t, env, demo.BenEmail, false)
	ben.sock.Send("call.invite", "ben", map[string]any{"conversation_id": convID})
	if code := ben.refused("ben"); code != 110 {
		t.Fatalf("an agent without the permission: code %d, want 110", code)
	}
	ana.sock.Send("call.invite", "foreign", map[string]any{"conversation_id": "cv_not_hers"})
	if code := ana.refused("foreign"); code != 105 {
		t.Fatalf("someone else's conversation: code %d, want 105", code)
	}

	ana.sock.Send("call.invite", "first", map[string]any{"conversation_id": convID})
	ana.ack("first")
	ana.sock.Send("call.invite", "second", map[string]any{"conversation_id": convID})
	if code := ana.refused("second"); code != 111 {
		t.Fatalf("a second invitation while one waits: code %d, want 111", code)
	}
	inv := v.invite("pending")
	v.sock.Send("call.invite.answer", "no", map[string]any{"invite_id": inv.InviteID, "accept": false})
	v.ack("no")
	if got := ana.invite("declined"); got.InviteID != inv.InviteID {
		t.Fatalf("declined %+v", got)
	}
	v.sock.Send("call.invite.answer", "late", map[string]any{"invite_id": inv.InviteID, "accept": true})
	if code := v.refused("late"); code != 111 {
		t.Fatalf("answering a declined invitation: code %d, want 111", code)
	}

	// While a call runs, no invitation.
	escalate(t, ana, v, convID, "esc")
	ana.sock.Send("call.invite", "during", map[string]any{"conversation_id": convID})
	if code := ana.refused("during"); code != 111 {
		t.Fatalf("an invitation during a call: code %d, want 111", code)
	}
}

// A bot's handover to video: the first agent to take the conversation is in a call with the visitor, who goes to
// the lobby without being asked.
func TestHandoverToVideoWhenAnAgentTakesTheChat(t *testing.T) {
	env := apptest.Start(t, nil)
	v := visitor(t, env)
	convID := startChat(v) // nobody is available: it waits
	// What Service.VideoOnAssign records while nobody has the conversation (the node's service acts on it).
	if err := env.Store.SetVideoOnAssign(context.Background(), convID, true); err != nil {
		t.Fatal(err)
	}
	ana := desk(t, env, demo.AnaEmail, true)
	ana.sock.Send("presence.set", "chat-on", map[string]any{"channel": "chat", "status": "available"})
	ana.ack("chat-on")

	inv := v.invite("accepted")
	if !inv.Auto || inv.AgentName != "Ana" {
		t.Fatalf("handover invitation %+v", inv)
	}
	v.sock.Send("call.request", "join", map[string]any{"conversation_id": convID, "client_msg_id": "join", "invite_id": inv.InviteID})
	var a struct {
		Call callView `json:"call"`
	}
	v.ack("join").Decode(t, &a)
	ana.callState("live")
	flowing(t, v.connect(a.Call.CallID), ana.connect(a.Call.CallID))
}
