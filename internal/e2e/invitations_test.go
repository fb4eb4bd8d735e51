package e2e

import (
	"strconv"
	"testing"
	"time"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/demo"
)

// A proactive invitation: the demo shop has one; the admin changes it. While Ana is available, a visitor who
// stays on the page sees it beside the launcher; opening it shows the message in the chat, and their answer starts
// a conversation that begins with it, on both sides. Another visitor closes it: it doesn't come back.
func TestAProactiveInvitationStartsAChat(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	visitor, other, ana := newTab(t, browser, "visitor"), newTab(t, browser, "other visitor"), newTab(t, browser, "Ana")

	// The admin rewrites the demo's invitation in the Invitations tab, where it is selected first.
	admin := newTab(t, browser, "admin")
	signInAdmin(admin, env.URL, "#invitations")
	message := byTestID("document", "admin-invitation-message")
	admin.waitFor("the demo's invitation is in the editor", message+"?.value === "+strconv.Quote(demo.Invitation))
	for field, value := range map[string]string{"admin-invitation-message": "Need help choosing a chair?",
		"admin-invitation-url": "/DEMO/", "admin-invitation-delay": "1"} {
		eval[string](admin, byTestID("document", field)+".value = ''")
		admin.typeInto(byTestID("document", field), value)
	}
	admin.click(byTestID("document", "admin-save"))
	admin.waitFor("the list shows the new text", "[...document.querySelectorAll('.item-list__item')].some(i => i.innerText.includes('Need help choosing a chair?'))")
	loginDesk(ana, env.URL, demo.AnaEmail)

	bubble := byTestID(widgetRoot, "invitation")
	visitor.navigate(env.URL + "/demo/")
	visitor.waitFor("the invitation shows beside the launcher", visible(bubble)+" && "+bubble+".innerText.includes('Need help choosing a chair?') && "+
		bubble+".innerText.includes('"+demo.SiteName+"')")
	visitor.click(byTestID(widgetRoot, "invitation-open"))
	transcript := widgetDoc + ".querySelector('.transcript')"
	visitor.waitFor("the chat opens on the invitation", visible(byTestID(widgetDoc, "chatbox"))+" && "+transcript+
		".dataset.empty === 'Need help choosing a chair?' && !"+visible(bubble))
	visitor.typeInto(byTestID(widgetDoc, "message-input"), "Yes: which one is the most comfortable?")
	visitor.click(byTestID(widgetDoc, "send-message"))
	invited := "[data-testid=\"message\"][data-event=\"invited\"]"
	visitor.waitFor("the conversation starts with the invitation", widgetDoc+".querySelector('"+invited+"')?.innerText.includes('Need help choosing a chair?') && "+
		hasMessage(widgetDoc, "visitor", "most comfortable"))
	visitor.waitFor("Ana answers", hasMessage(widgetDoc, "system", "Ana joined"))
	ana.click(byTestID("document", "conversation-item"))
	ana.waitFor("Ana sees what the visitor answered", "document.querySelector('"+invited+"')?.innerText.includes('Need help choosing a chair?') && "+
		hasMessage("document", "visitor", "most comfortable"))

	admin.reload()
	stats := byTestID("document", "admin-invitation-stats")
	admin.waitFor("the admin sees it shown and answered once", stats+"?.innerText === 'Shown once, answered once.'")
	var list struct {
		Invitations []struct {
			Shown    int `json:"shown"`
			Answered int `json:"answered"`
		} `json:"invitations"`
	}
	if st := env.Admin(t).Do("GET", "/api/admin/invitations", nil, &list); st != 200 || len(list.Invitations) != 1 ||
		list.Invitations[0].Shown != 1 || list.Invitations[0].Answered != 1 {
		t.Fatalf("the counts: %d %+v", st, list)
	}

	// Another visitor closes it: it is not shown to them again.
	other.navigate(env.URL + "/demo/")
	other.waitFor("the invitation shows", visible(bubble))
	other.click(byTestID(widgetRoot, "invitation-dismiss"))
	other.waitFor("it goes", "!"+visible(bubble))
	other.reload()
	other.waitFor("the widget is back", visible(byTestID(widgetRoot, "launcher")))
	time.Sleep(2500 * time.Millisecond) // over the invitation's delay
	if eval[bool](other, visible(bubble)) {
		t.Fatal("a closed invitation came back after a reload")
	}
}
