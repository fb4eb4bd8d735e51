package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/demo"
)

// chatWith has the visitor start a chat on the demo shop, assigned to the agent already signed in to the desk, and
// the agent open it, able to reply.
func chatWith(visitor, agent *tab, url, name, text string) {
	visitor.t.Helper()
	startChat(visitor, url, text)
	visitor.waitFor(name+" joins the chat", hasMessage(widgetDoc, "system", name))
	agent.click(fmt.Sprintf("[...document.querySelectorAll('[data-testid=\"conversation-item\"]')].find(i => i.innerText.includes(%q))", text))
	agent.waitFor("the chat is on the desk", hasMessage("document", "visitor", text))
	agent.waitFor("the chat is the agent's", visible(byTestID("document", "end-conversation")))
}

// escalateAndJoin has Ana escalate the chat to video, the visitor accept the invitation and join from the lobby,
// and checks that media flows both ways, at once (no waiting room, no ringing).
func escalateAndJoin(visitor, agent *tab) {
	visitor.t.Helper()
	agent.click(byTestID("document", "escalate-video"))
	agent.waitFor("Ana sees that the invitation waits", visible(byTestID("document", "escalation-pending")))
	agent.waitFor("the button goes while the invitation waits", "!("+visible(byTestID("document", "escalate-video"))+")")
	agent.waitFor("so does Transfer (the call will be Ana's)", "!("+visible(byTestID("document", "transfer-conversation"))+")")

	invite := byTestID(widgetDoc, "escalation-invite")
	visitor.waitFor("the visitor is invited", visible(invite))
	if text := eval[string](visitor, invite+".innerText"); !strings.Contains(text, "Ana") || !strings.Contains(text, "video call") {
		visitor.t.Fatalf("the invitation says %q", text)
	}
	visitor.click(byTestID(widgetDoc, "accept-escalation"))
	visitor.waitFor("the lobby opens", visible(byTestID(widgetDoc, "video-lobby")))
	visitor.waitFor("the invitation goes", "!("+visible(invite)+")")
	visitor.waitFor("the self-preview plays", byTestID(widgetDoc, "self-preview")+".videoWidth > 0")
	agent.waitFor("Ana sees that the visitor accepted", visible(byTestID("document", "escalation-accepted")))
	visitor.click(byTestID(widgetDoc, "join-now"))

	advancing(visitor, "the visitor sees Ana", widgetDoc)
	advancing(agent, "Ana sees the visitor", "document")
	if eval[bool](visitor, visible(byTestID(widgetDoc, "waiting-room"))) {
		visitor.t.Fatal("an escalated call went through the waiting room")
	}
	if eval[bool](agent, visible(byTestID("document", "escalate-video"))) {
		agent.t.Fatal("Escalate to video is offered during the call")
	}
}

// Ana, who may escalate, moves her chat to video: the visitor accepts, goes through the lobby and media flows both
// ways. After the visitor hangs up, the visitor can't start video again by themselves, but Ana can invite them
// again, successfully.
func TestEscalationAcceptedAndAgain(t *testing.T) {
	env := apptest.Start(t, nil)
	visitor := newTab(t, newBrowser(t), "visitor")
	agent := newTab(t, newBrowser(t), "Ana")
	loginDesk(agent, env.URL, demo.AnaEmail) // available for chat only: an escalation needs no video presence
	chatWith(visitor, agent, env.URL, "Ana", "Could you show me the oak table?")

	escalateAndJoin(visitor, agent)

	// The visitor hangs up: the chat goes on, join-video is not offered, and Ana may escalate again.
	visitor.click(byTestID(widgetDoc, "hangup"))
	ended := `[...%s.querySelectorAll('[data-testid="message"][data-author="system"]')].some(m => /video call ended/i.test(m.innerText))`
	visitor.waitFor("the visitor's transcript shows the end of the call", fmt.Sprintf(ended, widgetDoc))
	agent.waitFor("Ana's transcript shows the end of the call", fmt.Sprintf(ended, "document"))
	agent.waitFor("the call panel goes", "!("+visible(byTestID("document", "remote-video"))+")")
	agent.waitFor("Escalate to video is back", visible(byTestID("document", "escalate-video")))
	if eval[bool](visitor, visible(byTestID(widgetDoc, "join-video"))) {
		t.Fatal("join-video is offered again after the call")
	}

	escalateAndJoin(visitor, agent)
}

// An invitation that arrives while the chatbox is minimized shows on the launcher; the visitor declines: Ana is
// told, and may invite again later.
func TestEscalationDeclined(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	visitor := newTab(t, browser, "visitor")
	agent := newTab(t, browser, "Ana")
	loginDesk(agent, env.URL, demo.AnaEmail)
	chatWith(visitor, agent, env.URL, "Ana", "Just a question about delivery")
	visitor.click(byTestID(widgetDoc, "minimize"))
	visitor.waitFor("the chatbox is minimized", visible(byTestID(widgetRoot, "launcher")))
	if eval[bool](visitor, visible(byTestID(widgetRoot, "unread-badge"))) {
		t.Fatal("an unread badge before the invitation")
	}

	agent.click(byTestID("document", "escalate-video"))
	agent.waitFor("Ana sees that the invitation waits", visible(byTestID("document", "escalation-pending")))
	visitor.waitFor("the launcher draws attention to the invitation", visible(byTestID(widgetRoot, "unread-badge")))
	visitor.click(byTestID(widgetRoot, "launcher"))
	visitor.waitFor("the visitor is invited", visible(byTestID(widgetDoc, "escalation-invite")))
	visitor.click(byTestID(widgetDoc, "decline-escalation"))
	visitor.waitFor("the invitation goes", "!("+visible(byTestID(widgetDoc, "escalation-invite"))+")")

	declined := byTestID("document", "escalation-declined")
	agent.waitFor("Ana sees the refusal", visible(declined))
	if text := eval[string](agent, declined+".innerText"); !strings.Contains(text, "declined") {
		t.Fatalf("the refusal says %q", text)
	}
	agent.waitFor("Escalate to video is back", visible(byTestID("document", "escalate-video")))
	agent.waitFor("and Transfer", visible(byTestID("document", "transfer-conversation")))
	if eval[bool](visitor, visible(byTestID(widgetDoc, "video-lobby"))) {
		t.Fatal("the lobby opened after a refusal")
	}
}

// Ben may not escalate: his chats have no "Escalate to video".
func TestEscalationNotOfferedWithoutPermission(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	visitor := newTab(t, browser, "visitor")
	agent := newTab(t, browser, "Ben")
	loginDesk(agent, env.URL, demo.BenEmail)
	chatWith(visitor, agent, env.URL, "Ben", "Hello, anyone there?")

	button := byTestID("document", "escalate-video")
	agent.waitFor("the desk has its conversation header", button+" !== null")
	agent.typeInto(byTestID("document", "message-input"), "Hello, Ben here.")
	agent.click(byTestID("document", "send-message"))
	visitor.waitFor("Ben's reply arrives", hasMessage(widgetDoc, "agent", "Ben here"))
	if eval[bool](agent, visible(button)) {
		t.Fatal("Ben, without the permission, is offered Escalate to video")
	}
}

// A bot's handover to video (what the transfer card's phrase triggers): as soon as Ana takes the chat, the visitor
// goes straight to the lobby, which says Ana is ready, and Ana's desk switches to the call by itself once the
// visitor joins.
func TestEscalationByBotHandoverGoesStraightToTheLobby(t *testing.T) {
	env := apptest.Start(t, nil)
	visitor := newTab(t, newBrowser(t), "visitor")
	agent := newTab(t, newBrowser(t), "Ana")

	const text = "I'd like to see the sofa by video"
	startChat(visitor, env.URL, text) // nobody is signed in: the chat waits
	// The widget remembers its conversation in its frame's localStorage (widget/saved_conversation.js).
	saved := `(() => {
		const ls = ` + widgetRoot + `.querySelector('iframe').contentWindow.localStorage;
		const key = Object.keys(ls).find((k) => k.startsWith('parley.conversation.'));
		return key ? JSON.parse(ls.getItem(key)).id || '' : '';
	})()`
	visitor.waitFor("the conversation is created", saved)
	convID := eval[string](visitor, saved)
	// What the bots' handover records while nobody has the conversation.
	if err := env.Store.SetVideoOnAssign(context.Background(), convID, true); err != nil {
		t.Fatal(err)
	}

	loginDesk(agent, env.URL, demo.AnaEmail) // Ana takes the chat: the conversation moves to video
	visitor.waitFor("the lobby opens by itself", visible(byTestID(widgetDoc, "video-lobby")))
	if eval[bool](visitor, visible(byTestID(widgetDoc, "escalation-invite"))) {
		t.Fatal("a handover asks the visitor to accept")
	}
	ready := byTestID(widgetDoc, "lobby-invited")
	visitor.waitFor("the lobby says Ana is ready", visible(ready)+" && "+ready+".innerText.includes('Ana')")
	visitor.waitFor("the self-preview plays", byTestID(widgetDoc, "self-preview")+".videoWidth > 0")
	visitor.click(byTestID(widgetDoc, "join-now"))

	advancing(visitor, "the visitor sees Ana", widgetDoc)
	advancing(agent, "Ana's desk connected the call by itself", "document")
	agent.waitFor("Ana's desk shows the conversation", hasMessage("document", "visitor", text))
}
