package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/chat"
	"github.com/parley/parley/internal/demo"
)

// A visitor on the demo shop chats with Ana; both reload and keep their transcripts; Ana ends the conversation and
// the visitor sees it end and can start a new one.
func TestChatFromWidgetToDesk(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	visitor := newTab(t, browser, "visitor")
	agent := newTab(t, browser, "agent")

	// 1. The visitor opens the launcher on the demo shop and sends a message.
	const question = "Hello, is the oak table in stock?"
	startChat(visitor, env.URL, question)

	// 2. Ana logs in to the desk, sees the conversation and replies.
	loginDesk(agent, env.URL, demo.AnaEmail)
	agent.click(byTestID("document", "conversation-item"))
	agent.waitFor("the question reaches the desk", hasMessage("document", "visitor", question))
	const reply = "Yes! We have two left."
	agent.typeInto(byTestID("document", "message-input"), reply)
	agent.click(byTestID("document", "send-message"))
	agent.waitFor("the reply is shown in the desk", hasMessage("document", "agent", reply))

	// 3. The visitor sees the reply; both sides reload and find the same transcript.
	visitor.waitFor("the reply reaches the visitor", hasMessage(widgetDoc, "agent", reply))
	wantVisitor := []string{"visitor: " + question, "agent: " + reply}
	if got := bodies(visitor.messages(widgetDoc), question, reply); !slices.Equal(got, wantVisitor) {
		t.Fatalf("visitor transcript before reload: %v", got)
	}
	visitor.reload()
	agent.reload()
	visitor.waitFor("the chatbox is back after the reload", visible(byTestID(widgetDoc, "chatbox")))
	visitor.waitFor("the transcript is back", hasMessage(widgetDoc, "agent", reply))
	if got := bodies(visitor.messages(widgetDoc), question, reply); !slices.Equal(got, wantVisitor) {
		t.Fatalf("visitor transcript after reload: %v", got)
	}
	agent.click(byTestID("document", "conversation-item"))
	agent.waitFor("the desk transcript is back", hasMessage("document", "agent", reply))
	if got := bodies(agent.messages("document"), question, reply); !slices.Equal(got, wantVisitor) {
		t.Fatalf("agent transcript after reload: %v", got)
	}

	// 4. Ana ends the conversation; the visitor sees that it ended, and can start a new one.
	agent.click(byTestID("document", "end-conversation"))
	visitor.waitFor("the visitor sees the end", visible(byTestID(widgetDoc, "new-conversation")))
	visitor.waitFor("the input is disabled", byTestID(widgetDoc, "message-input")+".disabled")
	visitor.click(byTestID(widgetDoc, "new-conversation"))
	visitor.waitFor("the input is enabled again", "!"+byTestID(widgetDoc, "message-input")+".disabled")
	const second = "One more question about the chairs"
	visitor.typeInto(byTestID(widgetDoc, "message-input"), second)
	visitor.click(byTestID(widgetDoc, "send-message"))
	agent.waitFor("the new conversation reaches the desk", "[...document.querySelectorAll('[data-testid=\"conversation-item\"]')].some(i => i.innerText.includes('chairs'))")
}

// While the chatbox is minimized, the launcher counts the agent's unread messages.
func TestUnreadBadgeWhileMinimized(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	visitor := newTab(t, browser, "visitor")
	agent := newTab(t, browser, "agent")

	startChat(visitor, env.URL, "Hi there")
	visitor.click(byTestID(widgetDoc, "minimize"))
	visitor.waitFor("the chatbox is hidden", "!("+visible(byTestID(widgetDoc, "chatbox"))+") || !"+visible(widgetRoot+".querySelector('iframe')"))

	loginDesk(agent, env.URL, demo.BenEmail)
	agent.click(byTestID("document", "conversation-item"))
	for _, text := range []string{"Hello!", "How can I help?"} {
		agent.typeInto(byTestID("document", "message-input"), text)
		agent.click(byTestID("document", "send-message"))
		agent.waitFor("sent", hasMessage("document", "agent", text))
	}
	visitor.waitFor("the badge shows 2 unread", visible(byTestID(widgetRoot, "unread-badge"))+" && "+byTestID(widgetRoot, "unread-badge")+".textContent.trim() === '2'")
	visitor.click(byTestID(widgetRoot, "launcher"))
	visitor.waitFor("the replies are shown", hasMessage(widgetDoc, "agent", "How can I help?"))
	visitor.waitFor("the badge is gone", "!("+visible(byTestID(widgetRoot, "unread-badge"))+")")
}

// Ana sees which page of the shop the visitor is on, as a link, and it follows the visitor when they move to
// another page of a single-page site.
func TestTheDeskShowsTheVisitorsPage(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	visitor, agent := newTab(t, browser, "visitor"), newTab(t, browser, "Ana")

	startChat(visitor, env.URL, "Is the oak table solid wood?")
	loginDesk(agent, env.URL, demo.AnaEmail)
	agent.click(byTestID("document", "conversation-item"))
	link := byTestID("document", "visitor-page") + ".querySelector('a')"
	agent.waitFor("the desk shows the shop page", visible(link)+" && "+link+".textContent === 'Demo Shop: Parley' && "+
		link+fmt.Sprintf(".href === %q", env.URL+"/demo/"))

	// The shop changes page without a reload, as a single-page site does.
	eval[bool](visitor, "(() => { history.pushState({}, '', '/demo/oak-table'); document.title = 'Oak table: Demo Shop'; return true; })()")
	agent.waitFor("the desk follows the visitor", link+".textContent === 'Oak table: Demo Shop' && "+
		link+fmt.Sprintf(".href === %q", env.URL+"/demo/oak-table"))
	if rel := eval[string](agent, link+".rel"); rel != "noopener noreferrer" {
		t.Fatalf("the link's rel is %q", rel)
	}
}

// Ana transfers a chat to her group: Ben, free, gets it with its transcript, the visitor is told and stays in the
// same conversation, and it is no longer Ana's to answer.
func TestAnAgentTransfersAChatToAColleague(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	visitor, ana, ben := newTab(t, browser, "visitor"), newTab(t, browser, "Ana"), newTab(t, browser, "Ben")

	chatWithAna(visitor, ana, env.URL, "I need a quote for twelve chairs")
	loginDesk(ben, env.URL, demo.BenEmail)

	ana.click(byTestID("document", "conversation-item"))
	ana.click(byTestID("document", "transfer-conversation"))
	ana.click(byTestID("document", "transfer-to-group"))
	visitor.waitFor("the visitor is told", hasMessage(widgetDoc, "system", "Ana is passing you to a colleague"))
	visitor.waitFor("Ben joins", hasMessage(widgetDoc, "system", "Ben joined"))

	ben.click(fmt.Sprintf("[...document.querySelectorAll('[data-testid=\"conversation-item\"]')].find(i => i.innerText.includes(%q))", "twelve chairs"))
	ben.waitFor("Ben reads the whole conversation", hasMessage("document", "visitor", "twelve chairs")+" && "+
		hasMessage("document", "system", "Ana transferred the conversation to the group"))
	ben.typeInto(byTestID("document", "message-input"), "Ben here: twelve chairs, no problem.")
	ben.click(byTestID("document", "send-message"))
	visitor.waitFor("Ben's reply reaches the visitor", hasMessage(widgetDoc, "agent", "twelve chairs, no problem"))
	// Ana, who still has it on screen, sees it is Ben's now, and can no longer end or transfer it.
	ana.waitFor("Ana sees Ben has it", "document.querySelector('.view__meta').innerText.includes('Assigned to Ben') && !"+
		visible(byTestID("document", "transfer-conversation"))+" && !"+visible(byTestID("document", "end-conversation")))
}

// Ana hands a chat to Ben by name. The Transfer menu shows whether each colleague can take a chat now: Ben, who
// has switched chat off, is listed but can't be chosen; once he is back, Ana picks him, he has the conversation
// at once, and the visitor is told who they are talking to.
func TestAnAgentHandsAChatToAColleagueByName(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	visitor, ana, ben := newTab(t, browser, "visitor"), newTab(t, browser, "Ana"), newTab(t, browser, "Ben")

	chatWithAna(visitor, ana, env.URL, "Can someone from the workshop tell me about oak finishes?")
	loginDesk(ben, env.URL, demo.BenEmail)
	toggle := byTestID("document", "presence-chat")
	ben.click(toggle)
	ben.waitFor("Ben has switched chat off", toggle+".getAttribute('aria-pressed') === 'false'")

	ana.click(byTestID("document", "conversation-item"))
	benItem := byTestID("document", "transfer-to-agent")
	ana.click(byTestID("document", "transfer-conversation"))
	ana.waitFor("the menu lists Ben, who can't take it now", visible(byTestID("document", "transfer-menu"))+" && "+
		benItem+" && "+benItem+".disabled && "+benItem+".innerText.includes('Ben') && !"+benItem+".innerText.includes('Available')")

	setAvailable(ben, "chat")
	ana.click(byTestID("document", "transfer-conversation")) // closes the menu
	ana.waitFor("the menu is closed", "!"+visible(byTestID("document", "transfer-menu")))
	ana.click(byTestID("document", "transfer-conversation"))
	ana.waitFor("Ben can be chosen now", benItem+" && !"+benItem+".disabled && "+benItem+".innerText.includes('3 free slots')")
	ana.click(benItem)

	visitor.waitFor("the visitor is told who takes over", hasMessage(widgetDoc, "system", "Ana is passing you to Ben"))
	ben.click(fmt.Sprintf("[...document.querySelectorAll('[data-testid=\"conversation-item\"]')].find(i => i.innerText.includes(%q))", "oak finishes"))
	ben.waitFor("Ben has it, with its history", hasMessage("document", "visitor", "oak finishes")+" && "+
		hasMessage("document", "system", "Ana transferred the conversation to Ben")+" && !"+byTestID("document", "message-input")+".disabled")
	ben.typeInto(byTestID("document", "message-input"), "Ben from the workshop: our oak is oiled, not varnished.")
	ben.click(byTestID("document", "send-message"))
	visitor.waitFor("Ben's reply reaches the visitor", hasMessage(widgetDoc, "agent", "oiled, not varnished"))
	ana.waitFor("Ana sees Ben has it", "document.querySelector('.view__meta').innerText.includes('Assigned to Ben')")
}

// Ana leaves a note on her chat for her colleagues: it shows in her transcript, marked as a note, and never reaches
// the visitor (nor does a typing indicator while she writes it). She hands the chat to Ben, who reads the note with
// the conversation, also after reloading his desk.
func TestAgentsLeaveNotesTheVisitorNeverSees(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	visitor, ana, ben := newTab(t, browser, "visitor"), newTab(t, browser, "Ana"), newTab(t, browser, "Ben")

	chatWithAna(visitor, ana, env.URL, "I'd like twelve oak chairs for a restaurant")
	loginDesk(ben, env.URL, demo.BenEmail)

	ana.click(byTestID("document", "conversation-item"))
	ana.click(byTestID("document", "composer-note"))
	ana.waitFor("the box is in note mode", "document.querySelector('.composer').classList.contains('composer--note') && "+
		byTestID("document", "send-message")+".innerText === 'Add note'")
	ana.typeInto(byTestID("document", "message-input"), "Restaurant order: quoted 10% off for twelve chairs")
	ana.click(byTestID("document", "send-message"))
	note := byTestID("document", "note")
	ana.waitFor("Ana's note is in her transcript", note+" && "+note+".innerText.includes('quoted 10% off') && "+
		note+".innerText.includes('Note by Ana')")

	// A note being written stays a note: switching to Reply empties the box, and switching back brings it back.
	ana.typeInto(byTestID("document", "message-input"), "Ask the workshop about")
	ana.click(byTestID("document", "composer-reply"))
	ana.waitFor("the reply box is empty", byTestID("document", "message-input")+".value === ''")
	ana.typeInto(byTestID("document", "message-input"), "Let me check the stock for you.")
	ana.click(byTestID("document", "send-message"))
	visitor.waitFor("Ana's reply reaches the visitor", hasMessage(widgetDoc, "agent", "check the stock"))
	ana.click(byTestID("document", "composer-note"))
	ana.waitFor("the unfinished note is back", byTestID("document", "message-input")+".value === 'Ask the workshop about'")
	if text := eval[string](visitor, widgetDoc+".body.innerText"); strings.Contains(text, "10% off") || strings.Contains(text, "Note by") {
		t.Fatalf("the visitor's widget shows the note: %q", text)
	}

	ana.click(byTestID("document", "transfer-conversation"))
	ana.click(byTestID("document", "transfer-to-agent"))
	ben.click(byTestID("document", "conversation-item")) // his only one
	ben.waitFor("Ben reads Ana's note with the conversation", note+" && "+note+".innerText.includes('quoted 10% off')")
	ben.reload()
	ben.click(byTestID("document", "conversation-item")) // his only one
	ben.waitFor("the note is still there after a reload", note+" && "+note+".innerText.includes('quoted 10% off')")
	if text := eval[string](visitor, widgetDoc+".body.innerText"); strings.Contains(text, "10% off") {
		t.Fatalf("the visitor's widget shows the note: %q", text)
	}
}

// Once Ana has ended the chat, the visitor rates it: four stars and a comment. The widget thanks them (also after a
// reload, without asking again), Ana's desk shows the rating with the conversation, and the supervision panel
// counts it.
func TestTheVisitorRatesTheChat(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	visitor, ana := newTab(t, browser, "visitor"), newTab(t, browser, "Ana")

	chatWithAna(visitor, ana, env.URL, "Do you deliver to Lyon?")
	ana.click(byTestID("document", "conversation-item"))
	ana.typeInto(byTestID("document", "message-input"), "Yes, within five days.")
	ana.click(byTestID("document", "send-message"))
	visitor.waitFor("Ana's reply reaches the visitor", hasMessage(widgetDoc, "agent", "five days"))
	if eval[bool](visitor, visible(byTestID(widgetDoc, "rating"))) {
		t.Fatal("the rating is asked while the conversation is open")
	}
	ana.click(byTestID("document", "end-conversation"))

	visitor.waitFor("the visitor is asked to rate", visible(byTestID(widgetDoc, "rating-star")))
	if eval[bool](visitor, visible(byTestID(widgetDoc, "rating-send"))) {
		t.Fatal("Send shows before a score is chosen")
	}
	visitor.click(widgetDoc + ".querySelector('[data-testid=\"rating-star\"][data-score=\"4\"]')")
	visitor.typeInto(byTestID(widgetDoc, "rating-comment"), "Clear answer, thanks")
	visitor.click(byTestID(widgetDoc, "rating-send"))
	visitor.waitFor("the visitor is thanked", visible(byTestID(widgetDoc, "rating-thanks"))+" && !"+visible(byTestID(widgetDoc, "rating-star")))

	rating := byTestID("document", "conversation-rating")
	ana.waitFor("Ana sees the rating", visible(rating)+" && "+rating+".innerText.includes('★★★★☆') && "+rating+".innerText.includes('Clear answer, thanks')")
	stat := "(document.querySelector('[data-testid=\"supervisor-panel\"] [data-stat=\"rating\"]')?.innerText ?? '')"
	ana.waitFor("the supervision panel counts it", stat+".includes('4.0 / 5 from 1 rating')")

	visitor.reload()
	visitor.waitFor("after a reload the conversation is still over, and rated", visible(byTestID(widgetDoc, "rating-thanks"))+
		" && !"+visible(byTestID(widgetDoc, "rating-star")))
}

// A visitor comes back: Ben, who answers them this time, sees that they talked with Ana before, and reads that
// conversation (read-only) from the header.
func TestAReturningVisitorsEarlierConversation(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	visitor, ana, ben := newTab(t, browser, "visitor"), newTab(t, browser, "Ana"), newTab(t, browser, "Ben")

	chatWithAna(visitor, ana, env.URL, "First visit: is the oak table in stock?")
	ana.click(byTestID("document", "conversation-item"))
	if eval[bool](ana, visible(byTestID("document", "visitor-history"))) {
		t.Fatal("a first-time visitor has a history")
	}
	ana.click(byTestID("document", "end-conversation"))
	ana.click(byTestID("document", "presence-chat")) // Ana stops taking chats
	ana.waitFor("Ana is away", byTestID("document", "presence-chat")+".getAttribute('aria-pressed') === 'false'")

	loginDesk(ben, env.URL, demo.BenEmail)
	visitor.click(byTestID(widgetDoc, "new-conversation"))
	visitor.typeInto(byTestID(widgetDoc, "message-input"), "Back again about the oak table")
	visitor.click(byTestID(widgetDoc, "send-message"))
	visitor.waitFor("Ben answers", hasMessage(widgetDoc, "system", "Ben joined"))

	ben.click(fmt.Sprintf("[...document.querySelectorAll('[data-testid=\"conversation-item\"]')].find(i => i.innerText.includes(%q))", "Back again"))
	history := byTestID("document", "visitor-history")
	ben.waitFor("Ben sees there was an earlier conversation", visible(history)+" && "+history+".innerText.includes('1 earlier conversation')")
	ben.click(history)
	item := byTestID("document", "history-item")
	ben.waitFor("it was with Ana", visible(item)+" && "+item+".innerText.includes('Ana') && "+item+".innerText.includes('oak table in stock')")
	ben.click(item)
	ben.waitFor("Ben reads it, read-only", hasMessage("document", "visitor", "First visit")+" && "+
		"document.querySelector('.view__meta').innerText.includes('Closed') && !"+visible(byTestID("document", "message-input")))
}

// Ana looks for the visitor who asked about Lyon: the search box finds that closed conversation among others by a
// word of its messages, opens it, and emptying the box brings the list back.
func TestAnAgentFindsAConversationBySearching(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	visitor, other, ana := newTab(t, browser, "visitor"), newTab(t, browser, "other visitor"), newTab(t, browser, "Ana")

	chatWithAna(visitor, ana, env.URL, "Do you deliver walnut chairs to Lyon?")
	startChat(other, env.URL, "What are your opening hours?")
	other.waitFor("Ana answers the other visitor", hasMessage(widgetDoc, "system", "Ana joined"))
	ana.click(fmt.Sprintf("[...document.querySelectorAll('[data-testid=\"conversation-item\"]')].find(i => i.innerText.includes(%q))", "Lyon"))
	ana.click(byTestID("document", "end-conversation"))
	visitor.waitFor("the conversation is over", visible(byTestID(widgetDoc, "new-conversation")))

	search := byTestID("document", "conversation-search")
	result := byTestID("document", "search-result")
	ana.typeInto(search, "LYON")
	ana.waitFor("one result, the closed conversation", visible(result)+" && document.querySelectorAll('[data-testid=\"search-result\"]').length === 1 && "+
		result+".innerText.includes('Closed') && !"+visible(byTestID("document", "open-conversations")))
	ana.click(result)
	ana.waitFor("it opens", hasMessage("document", "visitor", "walnut chairs to Lyon"))
	eval[bool](ana, "(el => { el.value = ''; el.dispatchEvent(new Event('input')); return true; })("+search+")")
	ana.waitFor("the list is back", visible(byTestID("document", "open-conversations"))+" && !"+visible(result))
}

// A customer signed in to the demo shop chats: the shop's page vouches for them (data-visitor-* on the widget's tag,
// signed with the site's identity secret), and Ana's desk shows their name and address instead of "Visitor 3F2A".
func TestASignedInCustomerIsNamedOnTheDesk(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	visitor, ana := newTab(t, browser, "Claire"), newTab(t, browser, "Ana")
	loginDesk(ana, env.URL, demo.AnaEmail)

	visitor.navigate(env.URL + "/demo/?customer=claire")
	visitor.waitFor("the shop says who is signed in", visible(byTestID("document", "demo-signed-in")))
	visitor.click(byTestID(widgetRoot, "launcher"))
	visitor.typeInto(byTestID(widgetDoc, "message-input"), "Where is my order?")
	visitor.click(byTestID(widgetDoc, "send-message"))
	visitor.waitFor("Ana answers", hasMessage(widgetDoc, "system", "Ana joined"))

	item := byTestID("document", "conversation-item")
	ana.waitFor("the list names the customer", visible(item)+" && "+item+".innerText.includes("+fmt.Sprintf("%q", demo.CustomerName)+")")
	ana.click(item)
	identity := byTestID("document", "visitor-identity")
	ana.waitFor("the header names the customer, with the address the shop signed",
		"document.querySelector('.view__title').innerText === "+fmt.Sprintf("%q", demo.CustomerName)+" && "+
			visible(identity)+" && "+identity+".innerText.includes("+fmt.Sprintf("%q", demo.CustomerEmail)+")")

	// The admin finds the secret the shop signs with in the Sites tab.
	secret := env.IdentitySecret(t)
	admin := newTab(t, browser, "admin")
	signInAdmin(admin, env.URL, "#sites")
	admin.click(fmt.Sprintf("[...document.querySelectorAll('.item-list__item')].find(i => i.innerText.includes(%q))", demo.SiteName))
	admin.waitFor("the Sites tab shows the identity secret", byTestID("document", "site-identity-secret")+"?.value === "+fmt.Sprintf("%q", secret))
}

// A single-page shop signs its customer in during the chat: Parley.identify names them on Ana's desk at once.
func TestASiteIdentifiesItsVisitorFromJavaScript(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	visitor, ana := newTab(t, browser, "visitor"), newTab(t, browser, "Ana")
	chatWithAna(visitor, ana, env.URL, "I just signed in")
	secret := env.IdentitySecret(t)
	const email = "jo@example.com"
	eval[bool](visitor, fmt.Sprintf("(window.Parley.identify({email: %q, name: 'Jo Lambert', hash: %q}), true)", email, chat.SignIdentity(secret, email)))
	item := byTestID("document", "conversation-item")
	ana.waitFor("the list names the customer", visible(item)+" && "+item+".innerText.includes('Jo Lambert')")
}

// A chat nobody could take waits in the group: Ana and Ben both have it on screen, and the note Ben writes on it
// shows on Ana's desk at once, without a reload.
func TestANoteReachesAColleagueLive(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	visitor, ana, ben := newTab(t, browser, "visitor"), newTab(t, browser, "Ana"), newTab(t, browser, "Ben")

	startChat(visitor, env.URL, "Nobody there? I need a quote")
	signInDesk(ana, env.URL, demo.AnaEmail)
	signInDesk(ben, env.URL, demo.BenEmail)
	for _, agent := range []*tab{ana, ben} {
		agent.click(byTestID("document", "conversation-item"))
		agent.waitFor("the waiting chat is on screen", hasMessage("document", "visitor", "need a quote"))
	}
	ben.click(byTestID("document", "composer-note"))
	ben.typeInto(byTestID("document", "message-input"), "I'll call them back at 3 pm")
	ben.click(byTestID("document", "send-message"))
	note := byTestID("document", "note")
	ana.waitFor("Ben's note shows on Ana's desk", note+"?.innerText.includes('call them back at 3 pm') && "+note+".innerText.includes('Note by Ben')")
}
