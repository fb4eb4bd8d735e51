package e2e

import (
	"testing"

	"github.com/parley/parley/internal/apptest"
)

// "Seen" both ways: once Ana opens the chat, the visitor's message shows "Seen"; once the visitor, chat open, gets
// Ana's reply, Ana's reply shows "Seen" on her desk. Both are still there after a reload.
func TestSeenReceiptsBothWays(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	visitor, ana := newTab(t, browser, "visitor"), newTab(t, browser, "Ana")

	chatWithAna(visitor, ana, env.URL, "Is the oak table in stock?")
	seen := func(doc, author, text string) string {
		return "[..." + doc + ".querySelectorAll('[data-testid=\"message\"][data-author=\"" + author + "\"]')]" +
			".some(m => m.innerText.includes('" + text + "') && m.querySelector('[data-testid=\"seen\"]'))"
	}
	if eval[bool](visitor, seen(widgetDoc, "visitor", "oak table")) {
		t.Fatal("Seen before Ana opened the chat")
	}
	ana.click(byTestID("document", "conversation-item"))
	visitor.waitFor("the visitor's message is seen", seen(widgetDoc, "visitor", "oak table"))

	ana.typeInto(byTestID("document", "message-input"), "Yes, two left.")
	ana.click(byTestID("document", "send-message"))
	visitor.waitFor("the reply reaches the visitor", hasMessage(widgetDoc, "agent", "two left"))
	ana.waitFor("Ana's reply is seen", seen("document", "agent", "two left"))
	if n := eval[int](ana, "document.querySelectorAll('[data-testid=\"seen\"]').length"); n != 1 {
		t.Fatalf("Ana's desk shows %d Seen marks, want one, under the last message read", n)
	}

	visitor.reload()
	visitor.waitFor("after a reload the visitor still sees it", seen(widgetDoc, "visitor", "oak table"))
	ana.reload()
	ana.click(byTestID("document", "conversation-item"))
	ana.waitFor("and Ana too", seen("document", "agent", "two left"))
}
