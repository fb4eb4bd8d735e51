package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/demo"
)

// The admin creates an agent in the Agents tab, a supervisor in the demo's only group (offered, and ticked, at
// once); the new agent signs in to the desk, sees the supervisor panel, goes available, and answers the next
// visitor while Ana and Ben are offline.
func TestAdminCreatesAnAgentWhoAnswers(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	admin := newTab(t, browser, "admin")
	signInAdmin(admin, env.URL, "#agents")
	support, err := env.Store.GroupByName(t.Context(), demo.GroupName)
	if err != nil {
		t.Fatal(err)
	}

	form := "document.querySelector('form[aria-labelledby=\"new-agent-title\"]')"
	input := func(name string) string { return fmt.Sprintf("%s.querySelector('[name=%q]')", form, name) }
	group := fmt.Sprintf("%s.querySelector('[data-testid=\"admin-agent-groups\"] input[value=%q]')", form, support.ID)
	admin.waitFor("the new-agent form offers the demo's group", visible(group))
	if !eval[bool](admin, group+".checked") {
		t.Fatal("the only routing group is not ticked for a new agent")
	}
	const email, password = "carla@demo.parley.test", "carla-password-1"
	admin.typeInto(input("email"), email)
	admin.typeInto(input("name"), "Carla")
	admin.typeInto(input("password"), password)
	admin.click(byTestID(form, "admin-new-agent-supervisor"))
	admin.click(byTestID(form, "admin-create-agent"))
	admin.waitFor("the agent is created", visible(form+".querySelector('.form-message--success')"))
	admin.waitFor("the list shows Carla in the group", "[...document.querySelectorAll('tbody tr')].some(r => r.innerText.includes('Carla') && r.innerText.includes('Supervisor') && r.innerText.includes("+fmt.Sprintf("%q", demo.GroupName)+"))")

	carla, err := env.Store.AccountByEmail(t.Context(), email)
	if err != nil || carla.Role != "agent" || !carla.Supervisor {
		t.Fatalf("the stored agent: %+v %v", carla, err)
	}
	if groups, err := env.Store.AccountGroupIDs(t.Context(), carla.ID); err != nil || !slices.Equal(groups, []string{support.ID}) {
		t.Fatalf("Carla's groups: %v %v", groups, err)
	}

	// Carla signs in with the password the admin gave, and answers.
	desk := newTab(t, browser, "carla")
	desk.navigate(env.URL + "/desk/")
	desk.typeInto(byTestID("document", "login-email"), email)
	desk.typeInto(byTestID("document", "login-password"), password)
	desk.click(byTestID("document", "login-submit"))
	desk.waitFor("Carla's desk shows the supervisor panel", visible(byTestID("document", "supervisor-panel")))
	setAvailable(desk, "chat")

	visitor := newTab(t, browser, "visitor")
	const question = "Who is there today?"
	startChat(visitor, env.URL, question)
	desk.waitFor("the conversation reaches Carla", visible(byTestID("document", "conversation-item")))
	desk.click(byTestID("document", "conversation-item"))
	desk.waitFor("Carla reads the question", hasMessage("document", "visitor", question))
	const reply = "Carla here, hello!"
	desk.typeInto(byTestID("document", "message-input"), reply)
	desk.click(byTestID("document", "send-message"))
	visitor.waitFor("Carla's reply reaches the visitor", hasMessage(widgetDoc, "agent", reply))
}

// The admin writes a saved reply; Ana, in a chat, types "/deli", picks it with Enter, adjusts nothing and sends it;
// the visitor gets the text. Choosing only fills the box: nothing goes out before Send. The "Saved replies" button
// inserts one at the cursor too.
func TestASavedReplyFromTheAdminToTheVisitor(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	admin, ana, visitor := newTab(t, browser, "admin"), newTab(t, browser, "Ana"), newTab(t, browser, "visitor")

	signInAdmin(admin, env.URL, "#saved-replies")
	admin.click(byTestID("document", "admin-new-saved-reply"))
	const text = "We deliver anywhere in France within five working days."
	admin.typeInto(byTestID("document", "admin-saved-reply-shortcut"), "/Delivery")
	admin.typeInto(byTestID("document", "admin-saved-reply-body"), text)
	admin.click(byTestID("document", "admin-save"))
	admin.waitFor("the saved reply is listed", "[...document.querySelectorAll('.item-list__item')].some(i => i.innerText.includes('/delivery'))")

	chatWithAna(visitor, ana, env.URL, "How long does delivery take?")
	ana.click(byTestID("document", "conversation-item"))
	input := byTestID("document", "message-input")
	// "/" opens the picker, and rubbing it out closes it.
	ana.typeInto(input, "/")
	ana.waitFor("the picker opens", visible(byTestID("document", "saved-replies")))
	ana.typeInto(input, "\b")
	ana.waitFor("the picker closes", "!"+visible(byTestID("document", "saved-replies")))
	ana.typeInto(input, "/deli")
	item := "document.querySelector('[data-testid=\"saved-reply\"][data-shortcut=\"delivery\"]')"
	ana.waitFor("the picker offers the saved reply", visible(byTestID("document", "saved-replies"))+" && "+visible(item))
	ana.pressEnter(input)
	ana.waitFor("Enter puts the text in the box", input+".value === "+fmt.Sprintf("%q", text)+" && !"+visible(byTestID("document", "saved-replies")))
	if eval[bool](visitor, hasMessage(widgetDoc, "agent", "five working days")) {
		t.Fatal("choosing a saved reply sent it")
	}
	ana.typeInto(input, " Order before noon!")
	ana.click(byTestID("document", "send-message"))
	visitor.waitFor("the visitor gets it", hasMessage(widgetDoc, "agent", "five working days. Order before noon!"))

	ana.typeInto(input, "Hello! ")
	ana.click(byTestID("document", "saved-replies-open"))
	ana.click(item)
	ana.waitFor("the button inserts it at the cursor", input+".value === "+fmt.Sprintf("%q", "Hello! "+text))
}

// The admin creates a routing group in the Groups tab: a wrong value is pointed out on its field and nothing is
// saved; once corrected, the group is created with its members and settings.
func TestAdminCreatesARoutingGroup(t *testing.T) {
	env := apptest.Start(t, nil)
	admin := newTab(t, newBrowser(t), "admin")
	signInAdmin(admin, env.URL, "#groups")
	ben, err := env.Store.AccountByEmail(t.Context(), demo.BenEmail)
	if err != nil {
		t.Fatal(err)
	}

	admin.click(byTestID("document", "admin-new-group"))
	admin.typeInto(byTestID("document", "admin-group-name"), "Sales")
	admin.click(fmt.Sprintf("%s.querySelector('input[value=%q]')", byTestID("document", "admin-group-members"), ben.ID))
	places := byTestID("document", "admin-group-queue-places")
	admin.run("clear the queue places", chromedp.SetValue(chromedp.JSPath(places), ""))
	admin.typeInto(places, "-1")
	admin.click(byTestID("document", "admin-save"))
	admin.waitFor("the wrong value is pointed out", places+".getAttribute('aria-invalid') === 'true'")
	if _, err := env.Store.GroupByName(t.Context(), "Sales"); err == nil {
		t.Fatal("a group with a wrong value was saved")
	}

	admin.run("clear the queue places", chromedp.SetValue(chromedp.JSPath(places), ""))
	admin.typeInto(places, "7")
	admin.click(byTestID("document", "admin-save"))
	admin.waitFor("the group is listed", "[...document.querySelectorAll('.item-list__item')].some(i => i.innerText.includes('Sales'))")
	g, err := env.Store.GroupByName(t.Context(), "Sales")
	if err != nil || g.QueuePlaces != 7 || !slices.Equal(g.Members, []string{ben.ID}) {
		t.Fatalf("the stored group: %+v %v", g, err)
	}
}

// The admin gives the demo's group opening hours that exclude now; a visitor who writes is told the team is
// closed and when it is back, and leaves a message instead, while Ana is online. Ana sees the message and the
// address to answer.
func TestOutsideOpeningHoursTheVisitorLeavesAMessage(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	admin, ana, visitor := newTab(t, browser, "admin"), newTab(t, browser, "Ana"), newTab(t, browser, "visitor")

	// Open on one day only, two days from now (UTC), at 09:00-10:00: closed now, whatever the time.
	open := time.Now().UTC().AddDate(0, 0, 2).Weekday()
	key := map[time.Weekday]string{time.Monday: "mon", time.Tuesday: "tue", time.Wednesday: "wed", time.Thursday: "thu",
		time.Friday: "fri", time.Saturday: "sat", time.Sunday: "sun"}
	signInAdmin(admin, env.URL, "#groups")
	admin.waitFor("the demo's group is in the editor", visible(byTestID("document", "admin-group-hours")))
	admin.click(byTestID("document", "admin-group-always-open"))
	admin.run("choose UTC", chromedp.SetValue(chromedp.JSPath(byTestID("document", "admin-group-timezone")), "UTC"))
	for day, k := range key {
		box := byTestID("document", "admin-group-day-"+k)
		if eval[bool](admin, box+".checked") != (day == open) {
			admin.click(box)
		}
	}
	from, to := byTestID("document", "admin-group-open-"+key[open]), byTestID("document", "admin-group-close-"+key[open])
	admin.run("set the hours", chromedp.SetValue(chromedp.JSPath(from), "09:00"), chromedp.SetValue(chromedp.JSPath(to), "10:00"))
	admin.click(byTestID("document", "admin-save"))
	admin.waitFor("the group is saved", visible("document.querySelector('.form-message--success')"))
	g, err := env.Store.GroupByName(t.Context(), demo.GroupName)
	if err != nil || g.Hours == nil || g.Hours.TimeZone != "UTC" || len(g.Hours.Days) != 1 || g.Hours.Days[key[open]].Open != "09:00" {
		t.Fatalf("the stored hours: %+v %v", g.Hours, err)
	}

	loginDesk(ana, env.URL, demo.AnaEmail)
	startChat(visitor, env.URL, "Are you there?")
	busy := byTestID(widgetDoc, "busy-panel")
	visitor.waitFor("the widget says the team is closed, and when it is back", visible(busy)+" && "+busy+".innerText.includes('We are closed right now') && "+
		busy+".innerText.includes("+fmt.Sprintf("%q", open.String())+")")
	if eval[bool](visitor, hasMessage(widgetDoc, "system", "Ana joined")) {
		t.Fatal("the conversation went to Ana outside the opening hours")
	}
	visitor.typeInto(byTestID(widgetDoc, "leave-message-email"), "night.owl@example.com")
	visitor.typeInto(byTestID(widgetDoc, "leave-message-body"), "Please call me back tomorrow.")
	visitor.click(byTestID(widgetDoc, "leave-message-submit"))
	visitor.waitFor("thanks for the message", visible(byTestID(widgetDoc, "leave-message-thanks")))
	item := byTestID("document", "conversation-item")
	ana.waitFor("Ana's list says why nobody took it", visible(item)+" && "+item+".innerText.includes('Turned away: closed')")
	ana.click(item)
	ana.waitFor("Ana sees the message and the address to answer", hasMessage("document", "visitor", "call me back tomorrow")+" && "+
		byTestID("document", "contact-email")+"?.innerText === 'night.owl@example.com'")
}

// The admin's Reports tab offers the period's conversations as a CSV file: the link's file has the chat Ana just
// had, with its first message; a period that ends before it starts is pointed out and can't be downloaded.
func TestTheAdminDownloadsTheConversations(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	admin, ana, visitor := newTab(t, browser, "admin"), newTab(t, browser, "Ana"), newTab(t, browser, "visitor")
	chatWithAna(visitor, ana, env.URL, "Can I pick up my order in Nantes?")

	signInAdmin(admin, env.URL, "#reports")
	link := byTestID("document", "admin-export-download")
	admin.waitFor("the download link is ready", visible(link)+" && "+link+".href.includes('conversations.csv')")
	file := eval[string](admin, "(() => { const x = new XMLHttpRequest(); x.open('GET', "+link+".href, false); x.send(); return x.status + '\\n' + x.responseText; })()")
	if !strings.HasPrefix(file, "200\nconversation_id,") || !strings.Contains(file, "Can I pick up my order in Nantes?") || !strings.Contains(file, demo.SiteName) {
		t.Fatalf("the downloaded file: %q", file)
	}
	admin.run("a period that ends before it starts", chromedp.SetValue(chromedp.JSPath(byTestID("document", "admin-export-to")), "2020-01-01"))
	eval[bool](admin, "("+byTestID("document", "admin-export-to")+").dispatchEvent(new Event('input'))")
	admin.waitFor("the problem is pointed out", "!"+link+".hasAttribute('href') && document.body.innerText.includes('comes before')")
}
