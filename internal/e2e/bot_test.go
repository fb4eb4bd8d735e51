package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/demo"
)

// quickReply is the widget's quick-reply button whose text is label.
func quickReply(label string) string {
	return fmt.Sprintf("[...%s.querySelectorAll('[data-testid=\"quick-reply\"]')].find(b => b.textContent === %q)", widgetDoc, label)
}

// quickReplyLabels reads the quick-reply buttons the widget shows.
func quickReplyLabels(v *tab) []string {
	v.t.Helper()
	return eval[[]string](v, fmt.Sprintf("[...%s.querySelectorAll('[data-testid=\"quick-reply\"]')].map(b => b.textContent)", widgetDoc))
}

// transferCard is an expression true when doc shows the bot's transfer card containing text.
func transferCard(doc, text string) string {
	return fmt.Sprintf("[...%s.querySelectorAll('[data-testid=\"message\"][data-author=\"bot\"] [data-testid=\"transfer-card\"]')].some(c => c.innerText.includes(%q))", doc, text)
}

// openBotShop opens the chat on the demo's bot shop: the bot greets before the visitor writes, with its choices.
func openBotShop(v *tab, url, greeting string, labels ...string) {
	v.t.Helper()
	v.navigate(url + "/demo/bot/")
	v.click(byTestID(widgetRoot, "launcher"))
	v.waitFor("the chatbox opens", visible(byTestID(widgetDoc, "chatbox")))
	v.waitFor("the bot greets the visitor", hasMessage(widgetDoc, "bot", greeting))
	v.waitFor("the quick replies are shown", visible(quickReply(labels[len(labels)-1])))
	if got := quickReplyLabels(v); !slices.Equal(got, labels) {
		v.t.Fatalf("quick replies %q, want %q", got, labels)
	}
}

// The bot's plain handover stays a chat: the scenario bot greets the visitor, who picks "Ask a question"; the
// transfer card hands the conversation to Ana (available for chat and video), they chat, and no call starts.
func TestBotHandoverWithoutThePhraseStaysAChat(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	visitor := newTab(t, browser, "visitor")
	agent := newTab(t, browser, "Ana")
	loginDesk(agent, env.URL, demo.AnaEmail)
	setAvailable(agent, "video")

	const greeting = "How can we help you today?"
	openBotShop(visitor, env.URL, greeting, "Talk to an expert by video", "Ask a question")
	visitor.click(quickReply("Ask a question"))
	visitor.waitFor("the choice is sent as the visitor's message", hasMessage(widgetDoc, "visitor", "Ask a question"))
	visitor.waitFor("the transfer card is shown", transferCard(widgetDoc, "An agent will answer you here"))
	visitor.waitFor("the quick replies go", "!"+byTestID(widgetDoc, "quick-reply"))
	visitor.waitFor("Ana joins the chat", hasMessage(widgetDoc, "system", "Ana"))

	agent.click("[...document.querySelectorAll('[data-testid=\"conversation-item\"]')].find(i => i.innerText.includes('Demo Bot Shop'))")
	agent.waitFor("the desk shows the bot's greeting", hasMessage("document", "bot", greeting))
	agent.waitFor("the desk shows the transfer card", transferCard("document", "An agent will answer you here"))
	agent.waitFor("the desk shows the visitor's choice", hasMessage("document", "visitor", "Ask a question"))
	const reply = "Hi, Ana here. What would you like to know?"
	agent.typeInto(byTestID("document", "message-input"), reply)
	agent.click(byTestID("document", "send-message"))
	visitor.waitFor("Ana's reply reaches the visitor", hasMessage(widgetDoc, "agent", reply))
	const question = "Do you deliver to Lyon?"
	visitor.typeInto(byTestID(widgetDoc, "message-input"), question)
	visitor.click(byTestID(widgetDoc, "send-message"))
	agent.waitFor("the visitor's question reaches Ana", hasMessage("document", "visitor", question))

	// No call starts, on either side, and the bot said nothing more.
	time.Sleep(2 * time.Second)
	for _, id := range []string{"video-lobby", "remote-video", "escalation-invite"} {
		if eval[bool](visitor, visible(byTestID(widgetDoc, id))) {
			t.Fatalf("the visitor sees %s after a handover without the phrase", id)
		}
	}
	for _, id := range []string{"incoming-call", "remote-video"} {
		if eval[bool](agent, visible(byTestID("document", id))) {
			t.Fatalf("Ana sees %s after a handover without the phrase", id)
		}
	}
	if n := eval[int](visitor, fmt.Sprintf("%s.querySelectorAll('[data-testid=\"message\"][data-author=\"bot\"]').length", widgetDoc)); n != 2 {
		t.Fatalf("the visitor sees %d bot messages, want 2 (the greeting and the card)", n)
	}
}

// The bot's handover with the phrase moves to video: a French visitor picks "Parler à un expert en vidéo", whose
// transfer card says "Vous allez être mis en relation par vidéo"; Ana takes the conversation, the visitor goes
// straight to the lobby, and both sides are in video at once, with the bot's messages still in both transcripts.
//
// This relies on the call service's VideoOnAssign (internal/call/invite.go) and the widget going to the lobby by
// itself on an automatic invitation (widget/visitor_call.js).
func TestBotHandoverWithThePhraseMovesToVideo(t *testing.T) {
	env := apptest.Start(t, nil)
	visitor := newTab(t, newBrowser(t, chromedp.Flag("accept-lang", "fr-FR,fr")), "visiteur")
	agent := newTab(t, newBrowser(t), "Ana")
	loginDesk(agent, env.URL, demo.AnaEmail)
	setAvailable(agent, "video")

	const greeting = "Comment pouvons-nous vous aider ?"
	openBotShop(visitor, env.URL, greeting, "Parler à un expert en vidéo", "Poser une question")
	visitor.click(quickReply("Parler à un expert en vidéo"))
	const phrase = "Vous allez être mis en relation par vidéo"
	visitor.waitFor("the transfer card carries the phrase", transferCard(widgetDoc, phrase))

	// Ana takes the conversation as soon as it reaches the queue: the visitor goes to the lobby with no invitation.
	visitor.waitFor("the lobby opens by itself", visible(byTestID(widgetDoc, "video-lobby")))
	if eval[bool](visitor, visible(byTestID(widgetDoc, "escalation-invite"))) {
		t.Fatal("the handover asks the visitor to accept")
	}
	visitor.waitFor("the self-preview plays", byTestID(widgetDoc, "self-preview")+".videoWidth > 0")
	visitor.click(byTestID(widgetDoc, "join-now"))

	advancing(visitor, "the visitor sees Ana", widgetDoc)
	advancing(agent, "Ana sees the visitor", "document")

	// The bot's messages stay in both transcripts.
	visitor.waitFor("the visitor's transcript keeps the greeting", hasMessage(widgetDoc, "bot", greeting))
	visitor.waitFor("the visitor's transcript keeps the card", transferCard(widgetDoc, phrase))
	agent.waitFor("Ana's transcript has the greeting", hasMessage("document", "bot", greeting))
	agent.waitFor("Ana's transcript has the card", transferCard("document", phrase))
	agent.waitFor("Ana's transcript has the visitor's choice", hasMessage("document", "visitor", "Parler à un expert en vidéo"))
}

// stepCard is the scenario editor's card of a step.
func stepCard(id string) string {
	return fmt.Sprintf("[...document.querySelectorAll('[data-testid=\"admin-bot-step\"]')].find(s => s.dataset.step === %q)", id)
}

// choose sets a select to value as a person would, firing its change event.
func choose(a *tab, selectPath, value string) {
	a.t.Helper()
	a.waitFor("the select offers "+value, fmt.Sprintf("(%s) && [...(%s).options].some(o => o.value === %q)", selectPath, selectPath, value))
	eval[bool](a, fmt.Sprintf("(() => { const s = %s; s.value = %q; s.dispatchEvent(new Event('change', {bubbles: true})); return true; })()", selectPath, value))
}

// The admin builds a scenario bot in the Bots tab: a dangling branch is refused with a plain error, the fixed
// scenario is saved (its transfer card is flagged as a handover to video), the bot is put on a site from the site
// form, and an HTTP bot's secret and token are shown once, the token working against the bot API.
func TestAdminBuildsBots(t *testing.T) {
	env := apptest.Start(t, nil)
	admin := newTab(t, newBrowser(t), "admin")
	signInAdmin(admin, env.URL, "#bots")
	admin.waitFor("the demo bot is listed", fmt.Sprintf("document.querySelector('.item-list') && document.querySelector('.item-list').innerText.includes(%q)", demo.BotName))

	// A new scenario bot starts from a greeting and a transfer; removing the transfer leaves a dangling branch.
	admin.click(byTestID("document", "admin-new-bot"))
	admin.typeInto(byTestID("document", "admin-bot-name"), "Help desk bot")
	admin.click(stepCard("handover") + ".querySelector('.button--danger')")
	admin.click(byTestID("document", "admin-save"))
	problem := byTestID("document", "admin-bot-scenario-error")
	admin.waitFor("the dangling branch is explained", visible(problem)+" && "+problem+".textContent.includes('leads to step \"handover\", which does not exist')")
	if _, err := env.Store.BotByName(t.Context(), "Help desk bot"); err == nil {
		t.Fatal("a scenario with a dangling branch was saved")
	}

	// A new transfer step whose card carries the video phrase, and the quick reply leads to it.
	admin.click(byTestID("document", "admin-bot-add-step"))
	choose(admin, stepCard("step-2")+".querySelector('[data-testid=\"admin-bot-step-kind\"]')", "transfer")
	admin.typeInto(stepCard("step-2")+".querySelector('[data-testid=\"admin-bot-text-en\"]')", "You will be connected by video in a moment.")
	admin.waitFor("the editor flags the handover to video", visible(stepCard("step-2")+".querySelector('[data-testid=\"admin-bot-video-hint\"]')"))
	choose(admin, byTestID("document", "admin-bot-reply-next"), "step-2")
	saveAdminForm(admin, "the bot is created")
	b, err := env.Store.BotByName(t.Context(), "Help desk bot")
	if err != nil || b.Kind != "scenario" || !strings.Contains(b.Scenario, `"next":"step-2"`) {
		t.Fatalf("the saved bot: %+v %v", b, err)
	}

	// The bot goes on the first demo shop, from its site form.
	admin.click("document.querySelector('#tab-sites')")
	admin.click(fmt.Sprintf("[...document.querySelectorAll('.item-list__item')].find(i => i.innerText.includes(%q))", demo.SiteName))
	choose(admin, byTestID("document", "admin-site-bot"), b.ID)
	saveAdminForm(admin, "the site is saved with its bot")
	if sb, err := env.Store.SiteBot(t.Context(), env.Site.ID); err != nil || sb.ID != b.ID {
		t.Fatalf("the demo shop's bot: %+v %v", sb, err)
	}

	// An HTTP bot: its secret and token are shown once, and the token opens the bot API.
	admin.click("document.querySelector('#tab-bots')")
	admin.click(byTestID("document", "admin-new-bot"))
	admin.typeInto(byTestID("document", "admin-bot-name"), "Outside bot")
	choose(admin, byTestID("document", "admin-bot-kind"), "http")
	admin.typeInto(byTestID("document", "admin-bot-webhook"), "https://bot.example.com/parley")
	admin.click(byTestID("document", "admin-save"))
	token := byTestID("document", "admin-bot-token")
	admin.waitFor("the token is shown", visible(token)+" && "+token+".value.startsWith('pbt_')")
	if secret := eval[string](admin, byTestID("document", "admin-bot-secret")+".value"); !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("the secret shown is %q", secret)
	}
	req, _ := http.NewRequest("POST", env.URL+"/api/bot/conversations/cv_none/messages", strings.NewReader(`{"body":"hi"}`))
	req.Header.Set("Authorization", "Bearer "+eval[string](admin, token+".value"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("the bot API with the shown token answered %d, want 404 (authenticated, no such conversation)", resp.StatusCode)
	}
	admin.reload()
	admin.waitFor("the bots are listed again", visible(byTestID("document", "admin-new-bot")))
	admin.click("[...document.querySelectorAll('.item-list__item')].find(i => i.innerText.includes('Outside bot'))")
	admin.waitFor("the credentials card is back", visible(byTestID("document", "admin-bot-credentials")))
	if eval[bool](admin, byTestID("document", "admin-bot-token")+" !== null") {
		t.Fatal("the token is shown again after a reload")
	}
}
