package e2e

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/demo"
)

// countMessages is an expression counting the messages in doc whose text contains text.
func countMessages(doc, text string) string {
	return fmt.Sprintf("[...%s.querySelectorAll('[data-testid=\"message\"]')].filter(m => m.innerText.includes(%q)).length", doc, text)
}

// The server restarts while a visitor writes: the message waits, both sides reconnect by themselves, and it arrives
// once, with the conversation intact on both sides.
func TestMessageSentDuringARestartArrivesOnce(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	visitor := newTab(t, browser, "visitor")
	agent := newTab(t, browser, "agent")

	startChat(visitor, env.URL, "Before the restart")
	loginDesk(agent, env.URL, demo.AnaEmail)
	agent.click(byTestID("document", "conversation-item"))
	agent.waitFor("the first message", hasMessage("document", "visitor", "Before the restart"))

	env.Stop()
	visitor.typeInto(byTestID(widgetDoc, "message-input"), "Written while the server was down")
	visitor.click(byTestID(widgetDoc, "send-message"))
	env.Resume()

	agent.waitFor("the waiting message arrives", countMessages("document", "Written while the server was down")+" === 1")
	agent.typeInto(byTestID("document", "message-input"), "Got it after the restart")
	agent.click(byTestID("document", "send-message"))
	visitor.waitFor("the answer arrives", hasMessage(widgetDoc, "agent", "Got it after the restart"))
	for _, text := range []string{"Before the restart", "Written while the server was down"} {
		if n := eval[int](visitor, countMessages(widgetDoc, text)); n != 1 {
			t.Errorf("the visitor sees %q %d times", text, n)
		}
		if n := eval[int](agent, countMessages("document", text)); n != 1 {
			t.Errorf("the agent sees %q %d times", text, n)
		}
	}
}

// Each side sees when the other is typing.
func TestTypingIndicatorsBothWays(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	visitor := newTab(t, browser, "visitor")
	agent := newTab(t, browser, "agent")

	startChat(visitor, env.URL, "Hello")
	loginDesk(agent, env.URL, demo.BenEmail)
	agent.click(byTestID("document", "conversation-item"))
	agent.typeInto(byTestID("document", "message-input"), "Hi! One moment")
	agent.click(byTestID("document", "send-message"))
	visitor.waitFor("the reply", hasMessage(widgetDoc, "agent", "One moment"))

	indicator := func(doc string) string { return byTestID(doc, "typing-indicator") }
	agent.typeInto(byTestID("document", "message-input"), "Let me check")
	visitor.waitFor("the visitor sees Ben typing", visible(indicator(widgetDoc))+" && "+indicator(widgetDoc)+".innerText.includes('Ben')")
	visitor.typeInto(byTestID(widgetDoc, "message-input"), "Thanks")
	agent.waitFor("the desk sees the visitor typing", visible(indicator("document"))+" && "+indicator("document")+".innerText.length > 0")
	agent.click(byTestID("document", "send-message"))
	visitor.waitFor("sending clears the indicator", "!("+visible(indicator(widgetDoc))+") || "+indicator(widgetDoc)+".innerText.trim() === ''")
}

// The widget speaks French to a browser set to French.
func TestWidgetFollowsTheBrowserLanguage(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t, chromedp.Flag("accept-lang", "fr-FR"))
	visitor := newTab(t, browser, "visitor")
	visitor.navigate(env.URL + "/demo/")
	visitor.click(byTestID(widgetRoot, "launcher"))
	visitor.waitFor("French placeholder", byTestID(widgetDoc, "message-input")+".placeholder.startsWith('Écrivez')")
}
