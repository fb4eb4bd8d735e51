package e2e

import (
	"fmt"
	"slices"
	"testing"

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
