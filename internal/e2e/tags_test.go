package e2e

import (
	"testing"

	"github.com/parley/parley/internal/apptest"
)

// Ana tags her chat: the tags show in the header and in her list, one comes off, and they are still there after a
// reload; a search finds the conversation by its tag.
func TestAnAgentTagsAConversation(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	visitor, ana := newTab(t, browser, "visitor"), newTab(t, browser, "Ana")

	chatWithAna(visitor, ana, env.URL, "I was charged twice for my order")
	ana.click(byTestID("document", "conversation-item"))
	input := byTestID("document", "add-tag")
	chip := func(tag string) string {
		return "document.querySelector('[data-testid=\"conversation-tag\"][data-tag=\"" + tag + "\"]')"
	}
	ana.typeInto(input, "Refund")
	ana.pressEnter(input)
	ana.waitFor("the tag shows, in lowercase", visible(chip("refund"))+" && "+input+".value === ''")
	ana.typeInto(input, "Double  charge")
	ana.pressEnter(input)
	ana.waitFor("the second tag shows", visible(chip("double charge")))
	itemTags := "[...document.querySelectorAll('[data-testid=\"conversation-item-tag\"]')].map(t => t.innerText).join(',')"
	ana.waitFor("the list shows both", itemTags+" === 'double charge,refund'")

	ana.click(chip("refund") + ".querySelector('[data-testid=\"remove-tag\"]')")
	ana.waitFor("the tag comes off", "!"+chip("refund")+" && "+itemTags+" === 'double charge'")

	ana.reload()
	ana.click(byTestID("document", "conversation-item"))
	ana.waitFor("after a reload the tag is still there", visible(chip("double charge"))+" && !"+chip("refund"))
	ana.typeInto(byTestID("document", "conversation-search"), "double")
	result := byTestID("document", "search-result")
	ana.waitFor("a search finds it by its tag", visible(result)+" && "+result+".innerText.includes('double charge')")
	if eval[bool](visitor, widgetDoc+".body.innerText.includes('double charge')") {
		t.Fatal("the visitor sees the agents' tags")
	}
}
