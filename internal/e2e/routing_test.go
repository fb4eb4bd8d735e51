package e2e

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/demo"
)

// handleChats has Ana answer and end n short chats through the protocol, so the engine has a handling-time history
// to estimate waits from, as it would after a morning's work.
func handleChats(t *testing.T, env *apptest.Env, n int) {
	t.Helper()
	desk := env.OpenDesk(t, demo.AnaEmail)
	desk.Send("presence.set", "p", map[string]any{"channel": "chat", "status": "available"})
	desk.Expect("ack", "p")
	for i := 0; i < n; i++ {
		v, _, err := env.DialVisitor(t, env.URL)
		if err != nil {
			t.Fatal(err)
		}
		v.Hello(map[string]any{"token": env.VisitorToken(t)})
		v.Send("message.send", "m", map[string]any{"client_msg_id": "m", "body": "a quick question"})
		var conv string
		for conv == "" {
			f := desk.Next()
			if f.Type != "event" {
				continue
			}
			var e struct {
				ConversationID string `json:"conversation_id"`
				Type           string `json:"type"`
			}
			json.Unmarshal(f.Data, &e)
			if e.Type == "assigned" {
				conv = e.ConversationID
			}
		}
		desk.Send("conversation.end", fmt.Sprint("end", i), map[string]any{"conversation_id": conv})
		for f := desk.Next(); f.Type != "ack"; f = desk.Next() {
		}
		v.WS.CloseNow()
	}
	desk.WS.CloseNow()
}

// setChatCapacity changes an agent's chat slots through the admin API.
func setChatCapacity(t *testing.T, env *apptest.Env, email string, slots int) {
	t.Helper()
	admin := env.NewHTTP(t)
	admin.Login(demo.AdminEmail, demo.Password)
	var agents struct {
		Agents []struct{ ID, Email string } `json:"agents"`
	}
	admin.Do("GET", "/api/admin/agents", nil, &agents)
	for _, a := range agents.Agents {
		if a.Email == email {
			if st := admin.Do("PATCH", "/api/admin/agents/"+a.ID, map[string]any{"chat_capacity": slots}, nil); st != 200 {
				t.Fatalf("set %s's chat capacity: %d", email, st)
			}
			return
		}
	}
	t.Fatalf("no agent %s", email)
}

// Ana, with one chat slot, is busy: a second visitor waits with a position and an estimated wait, and is connected
// to Ana, without reloading, as soon as she ends her first conversation.
func TestWaitingRoomUntilTheAgentIsFree(t *testing.T) {
	env := apptest.Start(t, nil)
	handleChats(t, env, 3)
	setChatCapacity(t, env, demo.AnaEmail, 1)

	browser := newBrowser(t)
	first, second, agent := newTab(t, browser, "first visitor"), newTab(t, browser, "second visitor"), newTab(t, browser, "Ana")

	// 1. Ana takes a chat: her only slot.
	loginDesk(agent, env.URL, demo.AnaEmail)
	startChat(first, env.URL, "I need help with my order")
	agent.waitFor("Ana has the first chat", hasMessage("document", "visitor", "I need help with my order")+
		" || [...document.querySelectorAll('[data-testid=\"conversation-item\"]')].some(i => i.innerText.includes('my order'))")
	first.waitFor("the first visitor is connected", hasMessage(widgetDoc, "system", "Ana"))

	// 2. The second visitor waits, with a position and an estimated wait.
	startChat(second, env.URL, "Is anyone there?")
	second.waitFor("the waiting room", visible(byTestID(widgetDoc, "waiting-room")))
	second.waitFor("position 1", byTestID(widgetDoc, "queue-position")+".innerText.includes('1')")
	second.waitFor("an estimated wait", visible(byTestID(widgetDoc, "eta"))+" && "+byTestID(widgetDoc, "eta")+".dataset.bucket !== 'unknown'")
	// Ana supervises the group: her desk's panel counts the visitor waiting, herself available, and the handling
	// time of the chats she ended before.
	agent.waitFor("the panel counts one visitor waiting for chat", supervisorStat("chat", "waiting")+" === '1'")
	agent.waitFor("the panel counts Ana available for chat", supervisorStat("chat", "agents_available")+" === '1'")
	agent.waitFor("the panel counts nobody available for video", supervisorStat("video", "agents_available")+" === '0' && "+
		supervisorStat("video", "agents_offline")+" === '2'")
	agent.waitFor("the panel shows a chat handling time", supervisorStat("chat", "avg_handling")+" !== '—'")

	// 3. Ana ends the first conversation.
	agent.click(fmt.Sprintf("[...document.querySelectorAll('[data-testid=\"conversation-item\"]')].find(i => i.innerText.includes(%q))", "my order"))
	agent.click(byTestID("document", "end-conversation"))
	first.waitFor("the first visitor sees the end", visible(byTestID(widgetDoc, "new-conversation")))

	// 4. The second visitor is connected to Ana without reloading.
	second.waitFor("the waiting room closes", "!("+visible(byTestID(widgetDoc, "waiting-room"))+")")
	second.waitFor("Ana joins", hasMessage(widgetDoc, "system", "Ana"))
	agent.click(fmt.Sprintf("[...document.querySelectorAll('[data-testid=\"conversation-item\"]')].find(i => i.innerText.includes(%q))", "anyone there"))
	agent.typeInto(byTestID("document", "message-input"), "Hello, I'm here now!")
	agent.click(byTestID("document", "send-message"))
	second.waitFor("the reply arrives", hasMessage(widgetDoc, "agent", "I'm here now"))
	agent.waitFor("the panel counts nobody waiting", supervisorStat("chat", "waiting")+" === '0'")
}

// supervisorStat is an expression for the text of one figure of a channel in the desk's supervisor panel ("" while
// it loads).
func supervisorStat(channel, key string) string {
	return fmt.Sprintf("(document.querySelector('[data-testid=\"supervisor-panel\"] [data-stat=%q] [data-channel=%q]')?.innerText ?? '')", key, channel)
}

// With nobody available, the waiting room says so instead of "we can't estimate", and offers to leave a message
// while keeping the place in line: the visitor leaves an e-mail address and a message, and when Ana comes online
// she gets the conversation, with the address to answer.
func TestNobodyAvailableOffersAMessageWhileWaiting(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	visitor, agent := newTab(t, browser, "visitor"), newTab(t, browser, "Ana")

	startChat(visitor, env.URL, "Do you deliver to Lyon?")
	eta := byTestID(widgetDoc, "eta")
	visitor.waitFor("the waiting room says nobody is available", visible(eta)+" && "+eta+".dataset.reason === 'no_agent' && "+
		eta+".innerText.includes('Nobody is available')")
	visitor.click(byTestID(widgetDoc, "leave-message-open"))
	visitor.typeInto(byTestID(widgetDoc, "leave-message-email"), "client@example.com")
	visitor.typeInto(byTestID(widgetDoc, "leave-message-body"), "Please answer by e-mail about delivery.")
	visitor.click(byTestID(widgetDoc, "leave-message-submit"))
	visitor.waitFor("thanks for the message", visible(byTestID(widgetDoc, "leave-message-thanks"))+" && "+
		byTestID(widgetDoc, "leave-message-thanks")+".innerText.includes('client@example.com')")
	visitor.waitFor("the visitor keeps the place in line", visible(byTestID(widgetDoc, "queue-position")))
	visitor.waitFor("the message is in the chat", hasMessage(widgetDoc, "visitor", "about delivery"))

	loginDesk(agent, env.URL, demo.AnaEmail)
	visitor.waitFor("Ana joins", hasMessage(widgetDoc, "system", "Ana"))
	visitor.waitFor("the waiting room closes", "!("+visible(byTestID(widgetDoc, "waiting-room"))+")")
	agent.click(fmt.Sprintf("[...document.querySelectorAll('[data-testid=\"conversation-item\"]')].find(i => i.innerText.includes(%q))", "delivery"))
	agent.waitFor("Ana sees the address to answer", byTestID("document", "contact-email")+"?.innerText === 'client@example.com'")
	agent.waitFor("and the message", hasMessage("document", "visitor", "about delivery"))
}

// A group without a queue refuses a visitor when nobody is free: the widget says so and offers the message form;
// "Stay in the chat" closes it and the chat goes on.
func TestARefusedVisitorMayStayInTheChat(t *testing.T) {
	env := apptest.Start(t, nil)
	env.SetGroup(t, map[string]any{"queue_places": 0})
	visitor := newTab(t, newBrowser(t), "visitor")

	startChat(visitor, env.URL, "Is the walnut chair in stock?")
	busy := byTestID(widgetDoc, "busy-panel")
	visitor.waitFor("the widget says nobody can answer now", visible(busy)+" && "+busy+".dataset.state === 'refused' && "+
		visible(byTestID(widgetDoc, "leave-message-form")))
	visitor.click(byTestID(widgetDoc, "stay-in-chat"))
	visitor.waitFor("the panel closes", "!("+visible(busy)+")")
	visitor.typeInto(byTestID(widgetDoc, "message-input"), "I'll wait here then")
	visitor.click(byTestID(widgetDoc, "send-message"))
	visitor.waitFor("the chat goes on", hasMessage(widgetDoc, "visitor", "I'll wait here then"))
}

// In a group whose chats ring, Ana (available for chat and video) lets a chat ring out: both channels are marked
// not responding, the desk says so, and "I'm back" makes her available on both again.
func TestAMissedOfferWaitsForTheAgentToComeBack(t *testing.T) {
	env := apptest.Start(t, nil)
	env.SetGroup(t, map[string]any{"chat_mode": "offer", "offer_timeout_seconds": 5})
	browser := newBrowser(t)
	agent, visitor := newTab(t, browser, "Ana"), newTab(t, browser, "visitor")

	loginDesk(agent, env.URL, demo.AnaEmail)
	setAvailable(agent, "video")
	startChat(visitor, env.URL, "Is anybody there?")
	agent.waitFor("the chat rings", visible(byTestID("document", "incoming-chat")))
	agent.waitFor("the chat stops ringing", "!"+visible(byTestID("document", "incoming-chat")))

	for _, channel := range []string{"chat", "video"} {
		agent.waitFor(channel+" is marked not responding", byTestID("document", "presence-"+channel)+".dataset.status === 'not_responding'")
	}
	banner := byTestID("document", "presence-banner")
	agent.waitFor("the desk says why nothing rings", visible(banner)+" && "+banner+".innerText.includes('not responding for chat and video')")
	agent.click(byTestID("document", "presence-back"))
	for _, channel := range []string{"chat", "video"} {
		agent.waitFor(channel+" is available again", byTestID("document", "presence-"+channel)+".getAttribute('aria-pressed') === 'true'")
	}
	agent.waitFor("the banner is gone", "!"+visible(banner))
}

// A chat in which nothing is said for chat.close_inactive_after (3 s here) is closed: the visitor and Ana are told
// why, and Ana's only slot goes to the next visitor in line at once.
func TestAnIdleChatIsClosedAndFreesTheSlot(t *testing.T) {
	env := apptest.Start(t, func(c *config.Config) { c.Chat.CloseInactiveAfter = 3 * time.Second })
	setChatCapacity(t, env, demo.AnaEmail, 1)
	browser := newBrowser(t)
	first, second, agent := newTab(t, browser, "first visitor"), newTab(t, browser, "second visitor"), newTab(t, browser, "Ana")

	loginDesk(agent, env.URL, demo.AnaEmail)
	startChat(first, env.URL, "Just looking around")
	first.waitFor("the first visitor is connected to Ana", hasMessage(widgetDoc, "system", "Ana"))
	startChat(second, env.URL, "Can someone help me?")
	second.waitFor("the second visitor waits", visible(byTestID(widgetDoc, "waiting-room")))

	// Nobody says anything more in the first chat.
	first.waitFor("the first visitor is told why the chat ended", hasMessage(widgetDoc, "system", "closed after 3 s with nothing said"))
	first.waitFor("the first visitor may start again", visible(byTestID(widgetDoc, "new-conversation")))
	second.waitFor("the second visitor gets Ana's freed slot", hasMessage(widgetDoc, "system", "Ana"))
	agent.click(fmt.Sprintf("[...document.querySelectorAll('[data-testid=\"conversation-item\"]')].find(i => i.innerText.includes(%q))", "Just looking"))
	agent.waitFor("Ana's desk says why the chat ended", hasMessage("document", "system", "Closed after 3 s with nothing said"))
}
