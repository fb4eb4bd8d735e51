package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/demo"
	"github.com/parley/parley/internal/store"
	"github.com/parley/parley/internal/webhook"
)

// event is a conversation event as a socket receives it.
type event struct {
	ConversationID string `json:"conversation_id"`
	Seq            int64  `json:"seq"`
	Type           string `json:"type"`
	Author         string `json:"author"`
	AuthorName     string `json:"author_name"`
	Body           string `json:"body"`
	Data           struct {
		QuickReplies []struct {
			ID    string `json:"id"`
			Label string `json:"label"`
		} `json:"quick_replies"`
		QuickReply string `json:"quick_reply"`
		Transfer   bool   `json:"transfer"`
		Video      bool   `json:"video"`
	} `json:"data"`
}

// peer reads a socket, keeping the events it passes over while it waits for an answer, so that no event is lost.
type peer struct {
	t      *testing.T
	name   string
	s      *apptest.Socket
	events []event
}

func newPeer(t *testing.T, name string, s *apptest.Socket) *peer {
	s.Skip = map[string]bool{"ping": true, "typing": true, "conversation": true, "presence": true, "video": true, "queue": true}
	return &peer{t: t, name: name, s: s}
}

func (p *peer) read() apptest.Frame {
	p.t.Helper()
	f := p.s.Next()
	if f.Type == "event" {
		var e event
		f.Decode(p.t, &e)
		p.events = append(p.events, e)
	}
	return f
}

// request sends a request and returns its ack's data, failing the test on an error frame.
func (p *peer) request(typ, id string, data any) json.RawMessage {
	p.t.Helper()
	p.s.Send(typ, id, data)
	for {
		f := p.read()
		if f.ID != id {
			continue
		}
		if f.Type != "ack" {
			p.t.Fatalf("%s: %s %s answered %s %s", p.name, typ, id, f.Type, f.Data)
		}
		return f.Data
	}
}

// waitEvent returns the first event, kept or new, that match accepts, and forgets the events before it.
func (p *peer) waitEvent(what string, match func(event) bool) event {
	p.t.Helper()
	for {
		for i, e := range p.events {
			if match(e) {
				p.events = p.events[i+1:]
				return e
			}
		}
		p.read()
		if len(p.events) > 200 {
			p.t.Fatalf("%s: no event where %s among %+v", p.name, what, p.events)
		}
	}
}

// noEvent checks that no event that match accepts arrives within d.
func (p *peer) noEvent(what string, d time.Duration, match func(event) bool) {
	p.t.Helper()
	for _, e := range p.events {
		if match(e) {
			p.t.Fatalf("%s: unexpected event (%s): %+v", p.name, what, e)
		}
	}
	p.s.Send("ping", "probe-"+strconv.FormatInt(time.Now().UnixNano(), 36), nil)
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	p.s.Send("ping", "probe-end", nil)
	for {
		f := p.read()
		if f.Type == "pong" && f.ID == "probe-end" {
			break
		}
	}
	for _, e := range p.events {
		if match(e) {
			p.t.Fatalf("%s: unexpected event (%s): %+v", p.name, what, e)
		}
	}
}

func byBot(e event) bool    { return e.Type == "message" && e.Author == "bot" }
func assigned(e event) bool { return e.Type == "assigned" }
func transfer(e event) bool { return byBot(e) && e.Data.Transfer }
func from(author string) func(event) bool {
	return func(e event) bool { return e.Type == "message" && e.Author == author }
}

// deskOnline logs an agent in, opens their desk and makes them available for chat.
func deskOnline(t *testing.T, env *apptest.Env, email string) *peer {
	t.Helper()
	h := env.NewHTTP(t)
	h.Login(email, demo.Password)
	s, _, err := env.DialDesk(t, h)
	if err != nil {
		t.Fatal(err)
	}
	p := newPeer(t, email, s)
	p.request("hello", "hello", map[string]any{})
	p.request("presence.set", "p", map[string]any{"channel": "chat", "status": "available"})
	return p
}

// The demo's scenario bot, through real sockets: it greets the visitor when the widget opens the conversation, the
// conversation is not routed while it talks, a free text gets the choices again, the visitor's choice follows the
// branch, and the transfer card hands the conversation to Ana, after which the bot stays quiet.
func TestScenarioBotThroughSockets(t *testing.T) {
	env := apptest.Start(t, nil)
	site := env.BotSite(t)
	ana := deskOnline(t, env, demo.AnaEmail)
	v := newPeer(t, "visitor", env.VisitorOn(t, site.PublicID, map[string]any{"lang": "en"}))

	var open struct {
		ConversationID string `json:"conversation_id"`
	}
	json.Unmarshal(v.request("conversation.open", "open", map[string]any{}), &open)
	if open.ConversationID == "" {
		t.Fatal("conversation.open on a site with a bot opened no conversation")
	}
	greeting := v.waitEvent("the bot greets", byBot)
	if greeting.Seq != 1 || greeting.AuthorName != demo.BotName || !strings.Contains(greeting.Body, "How can we help") ||
		len(greeting.Data.QuickReplies) != 2 || greeting.Data.QuickReplies[0].Label != "Talk to an expert by video" ||
		greeting.Data.QuickReplies[1].Label != "Ask a question" {
		t.Fatalf("greeting %+v", greeting)
	}
	// Opening again gives the same conversation, and the bot doesn't greet twice.
	var again struct {
		ConversationID string `json:"conversation_id"`
	}
	json.Unmarshal(v.request("conversation.open", "open2", map[string]any{}), &again)
	if again.ConversationID != open.ConversationID {
		t.Fatalf("a second open gave %s, want %s", again.ConversationID, open.ConversationID)
	}
	sm, err := env.Store.ConversationSummary(t.Context(), open.ConversationID)
	if err != nil || sm.Routing != store.RoutingBot || sm.AgentID != "" {
		t.Fatalf("while the bot talks the conversation is %+v (%v), want routing %q and no agent", sm, err, store.RoutingBot)
	}

	// A free text: the bot asks again, with the same choices; still no agent.
	v.request("message.send", "free", map[string]any{"conversation_id": open.ConversationID, "client_msg_id": "m1", "body": "Do you ship to Lyon?"})
	fallback := v.waitEvent("the bot asks again", byBot)
	if !strings.Contains(fallback.Body, "choose") || len(fallback.Data.QuickReplies) != 2 {
		t.Fatalf("fallback %+v", fallback)
	}

	// The visitor chooses "Ask a question": their message carries the choice, and the plain transfer card follows.
	v.request("message.send", "choose", map[string]any{"conversation_id": open.ConversationID, "client_msg_id": "m2",
		"body": "Ask a question", "quick_reply": "question"})
	choice := v.waitEvent("the visitor's choice", from("visitor"))
	for choice.Body != "Ask a question" {
		choice = v.waitEvent("the visitor's choice", from("visitor"))
	}
	if choice.Data.QuickReply != "question" {
		t.Fatalf("the choice's data %+v", choice.Data)
	}
	card := v.waitEvent("the transfer card", transfer)
	if card.Data.Video || !strings.Contains(card.Body, "An agent will answer") {
		t.Fatalf("transfer card %+v", card)
	}
	// Ana gets the conversation (the group assigns chats directly) and answers; the visitor reads her.
	v.waitEvent("Ana takes the conversation", assigned)
	ana.waitEvent("Ana sees the transfer card", transfer)
	ana.request("message.send", "reply", map[string]any{"conversation_id": open.ConversationID, "client_msg_id": "a1", "body": "Hi, I'm Ana."})
	v.waitEvent("Ana's reply", from("agent"))

	// The bot stays out of it now.
	v.request("message.send", "after", map[string]any{"conversation_id": open.ConversationID, "client_msg_id": "m3", "body": "Ask a question"})
	v.noEvent("the bot talks after the handover", 500*time.Millisecond, byBot)
	if cb, err := env.Store.ConversationBot(t.Context(), open.ConversationID); err != nil || cb.Active {
		t.Fatalf("the bot's state after the handover: %+v %v", cb, err)
	}
}

// The first message opens the conversation and starts the bot too, in the visitor's language; the video branch's
// card carries the French phrase and is marked as a handover to video.
func TestScenarioBotFromTheFirstMessageInFrench(t *testing.T) {
	env := apptest.Start(t, nil)
	site := env.BotSite(t)
	v := newPeer(t, "visiteur", env.VisitorOn(t, site.PublicID, map[string]any{"lang": "fr"}))
	var ack struct {
		ConversationID string `json:"conversation_id"`
	}
	json.Unmarshal(v.request("message.send", "1", map[string]any{"client_msg_id": "m1", "body": "Bonjour"}), &ack)
	greeting := v.waitEvent("the bot greets", byBot)
	if !strings.HasPrefix(greeting.Body, "Bonjour !") || greeting.Data.QuickReplies[0].Label != "Parler à un expert en vidéo" {
		t.Fatalf("greeting %+v", greeting)
	}
	v.request("message.send", "2", map[string]any{"conversation_id": ack.ConversationID, "client_msg_id": "m2",
		"body": "Parler à un expert en vidéo", "quick_reply": "video"})
	card := v.waitEvent("the transfer card", transfer)
	if !card.Data.Video || !strings.Contains(card.Body, "Vous allez être mis en relation par vidéo") {
		t.Fatalf("transfer card %+v", card)
	}
	// Nobody is online: the conversation waits in the queue for an agent.
	deadline := time.Now().Add(5 * time.Second)
	for {
		r, err := env.Store.LatestRequest(t.Context(), ack.ConversationID, "chat")
		if err == nil && (r.State == "queued" || r.State == "refused") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the handed-over conversation was not routed: %+v %v", r, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fakeBot is an external bot behind a webhook: it checks each webhook's signature with webhook.VerifyRequest and
// answers through the bot API.
type fakeBot struct {
	t      *testing.T
	env    *apptest.Env
	srv    *httptest.Server
	secret string
	token  string

	mu       sync.Mutex
	hooks    []map[string]any
	refused  int
	received chan map[string]any
}

func newFakeBot(t *testing.T, env *apptest.Env) *fakeBot {
	fb := &fakeBot{t: t, env: env, received: make(chan map[string]any, 16)}
	fb.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fb.mu.Lock()
		secret := fb.secret
		fb.mu.Unlock()
		body, err := webhook.VerifyRequest(r, secret, time.Now())
		if err != nil {
			fb.mu.Lock()
			fb.refused++
			fb.mu.Unlock()
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var hook map[string]any
		json.Unmarshal(body, &hook)
		fb.mu.Lock()
		fb.hooks = append(fb.hooks, hook)
		fb.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		fb.received <- hook
	}))
	t.Cleanup(fb.srv.Close)
	return fb
}

func (fb *fakeBot) next(what string) map[string]any {
	fb.t.Helper()
	select {
	case h := <-fb.received:
		return h
	case <-time.After(10 * time.Second):
		fb.t.Fatalf("the bot got no webhook (%s)", what)
	}
	return nil
}

// api calls the bot API with token and returns the status and the decoded answer.
func (fb *fakeBot) api(token, path string, body any) (int, map[string]any) {
	fb.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", fb.env.URL+path, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fb.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// useHTTPBot creates an HTTP bot whose webhook is fb, through the admin API, and attaches it to the bot site.
func useHTTPBot(t *testing.T, env *apptest.Env, url string) (id, secret, token string) {
	t.Helper()
	admin := env.Admin(t)
	var created struct {
		ID            string `json:"id"`
		WebhookSecret string `json:"webhook_secret"`
		APIToken      string `json:"api_token"`
	}
	if st := admin.Do("POST", "/api/admin/bots", map[string]any{"name": "Outside bot", "kind": "http", "webhook_url": url}, &created); st != 201 {
		t.Fatalf("create an HTTP bot: status %d", st)
	}
	if created.WebhookSecret == "" || created.APIToken == "" {
		t.Fatalf("the new bot's secret and token were not shown: %+v", created)
	}
	var list struct {
		Bots []map[string]any `json:"bots"`
	}
	admin.Do("GET", "/api/admin/bots", nil, &list)
	for _, b := range list.Bots {
		if b["api_token"] != nil || b["webhook_secret"] != nil {
			t.Fatalf("the bot list shows a secret: %v", b)
		}
	}
	site := env.BotSite(t)
	if st := admin.Do("PUT", "/api/admin/sites/"+site.ID+"/bot", map[string]any{"bot_id": created.ID}, nil); st != 200 {
		t.Fatalf("attach the bot: status %d", st)
	}
	return created.ID, created.WebhookSecret, created.APIToken
}

// An external bot drives a conversation: webhooks carry the opening and the visitor's messages, signed; the bot
// greets with quick replies through the API, follows the visitor's choice and hands over with a transfer card. Bad
// tokens, other conversations and posts after the handover are refused, and a forged webhook is refused by the
// bot's own check.
func TestHTTPBotDrivesAConversation(t *testing.T) {
	env := apptest.Start(t, nil)
	fb := newFakeBot(t, env)
	_, secret, token := useHTTPBot(t, env, fb.srv.URL)
	fb.mu.Lock()
	fb.secret, fb.token = secret, token
	fb.mu.Unlock()
	site := env.BotSite(t)
	ana := deskOnline(t, env, demo.AnaEmail)
	v := newPeer(t, "visitor", env.VisitorOn(t, site.PublicID, map[string]any{"lang": "en"}))

	var open struct {
		ConversationID string `json:"conversation_id"`
	}
	json.Unmarshal(v.request("conversation.open", "open", map[string]any{}), &open)
	conv := open.ConversationID
	hook := fb.next("the opening")
	if hook["type"] != "conversation.opened" || hook["conversation_id"] != conv || hook["language"] != "en" || hook["message"] != nil {
		t.Fatalf("opening webhook %v", hook)
	}

	// Bad tokens are refused with a clear error, and change nothing.
	for _, bad := range []string{"", "pbt_forged", token + "x"} {
		st, out := fb.api(bad, "/api/bot/conversations/"+conv+"/messages", map[string]any{"body": "hi"})
		if st != 401 || out["error"].(map[string]any)["code"] != "bot_token_invalid" {
			t.Fatalf("token %q: %d %v", bad, st, out)
		}
	}

	st, out := fb.api(token, "/api/bot/conversations/"+conv+"/messages", map[string]any{"body": "Hello from outside!", "client_msg_id": "g1",
		"quick_replies": []map[string]string{{"id": "human", "label": "Talk to a person"}, {"id": "faq", "label": "Read the FAQ"}}})
	if st != 201 {
		t.Fatalf("post: %d %v", st, out)
	}
	greeting := v.waitEvent("the external bot greets", byBot)
	if greeting.Body != "Hello from outside!" || greeting.AuthorName != "Outside bot" || len(greeting.Data.QuickReplies) != 2 {
		t.Fatalf("greeting %+v", greeting)
	}
	// The same client_msg_id again stores nothing new.
	if st, out := fb.api(token, "/api/bot/conversations/"+conv+"/messages", map[string]any{"body": "Hello from outside!", "client_msg_id": "g1"}); st != 200 || out["duplicate"] != true {
		t.Fatalf("a repeated post: %d %v", st, out)
	}
	if st, out := fb.api(token, "/api/bot/conversations/"+conv+"/messages", map[string]any{"body": " "}); st != 400 {
		t.Fatalf("an empty post: %d %v", st, out)
	}
	// A conversation the bot doesn't answer.
	if st, _ := fb.api(token, "/api/bot/conversations/cv_nothere/messages", map[string]any{"body": "hi"}); st != 404 {
		t.Fatalf("another conversation: %d", st)
	}

	// The visitor chooses; the webhook carries the choice.
	v.request("message.send", "choose", map[string]any{"conversation_id": conv, "client_msg_id": "m1", "body": "Talk to a person", "quick_reply": "human"})
	hook = fb.next("the choice")
	msg, _ := hook["message"].(map[string]any)
	if hook["type"] != "message" || msg["body"] != "Talk to a person" || msg["quick_reply"] != "human" {
		t.Fatalf("message webhook %v", hook)
	}
	if sm, _ := env.Store.ConversationSummary(t.Context(), conv); sm.AgentID != "" {
		t.Fatal("the conversation reached an agent while the bot was in charge")
	}

	// The transfer card hands over: no video phrase, so it stays a chat, and Ana gets it.
	st, out = fb.api(token, "/api/bot/conversations/"+conv+"/transfer", map[string]any{"body": "Let me find you someone."})
	if st != 200 || out["video"] != false {
		t.Fatalf("transfer: %d %v", st, out)
	}
	card := v.waitEvent("the transfer card", transfer)
	if card.Body != "Let me find you someone." || card.Data.Video {
		t.Fatalf("card %+v", card)
	}
	v.waitEvent("Ana takes the conversation", assigned)
	ana.waitEvent("Ana sees the card", transfer)
	st, out = fb.api(token, "/api/bot/conversations/"+conv+"/messages", map[string]any{"body": "still here?"})
	if st != 409 || out["error"].(map[string]any)["code"] != "bot_not_in_charge" {
		t.Fatalf("a post after the handover: %d %v", st, out)
	}
	// The visitor's next message goes to Ana, not to the bot.
	v.request("message.send", "after", map[string]any{"conversation_id": conv, "client_msg_id": "m2", "body": "Thanks"})
	ana.waitEvent("Ana gets the visitor's message", func(e event) bool { return from("visitor")(e) && e.Body == "Thanks" })
	select {
	case h := <-fb.received:
		t.Fatalf("the bot got a webhook after the handover: %v", h)
	case <-time.After(300 * time.Millisecond):
	}

	// A forged webhook, signed with another secret or replayed with a new timestamp, is refused by the bot's check.
	body := []byte(fmt.Sprintf(`{"type":"message","conversation_id":%q,"message":{"body":"forged"}}`, conv))
	now := time.Now().Unix()
	for name, sign := range map[string]func(*http.Request){
		"another secret": func(r *http.Request) {
			r.Header.Set(webhook.TimestampHeader, strconv.FormatInt(now, 10))
			r.Header.Set(webhook.SignatureHeader, webhook.Sign("not-the-secret", now, body))
		},
		"a replayed signature with a new timestamp": func(r *http.Request) {
			r.Header.Set(webhook.TimestampHeader, strconv.FormatInt(now+1, 10))
			r.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, now, body))
		},
		"no signature": func(r *http.Request) {},
	} {
		req, _ := http.NewRequest("POST", fb.srv.URL, strings.NewReader(string(body)))
		sign(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("%s: the bot answered %d", name, resp.StatusCode)
		}
	}
	fb.mu.Lock()
	defer fb.mu.Unlock()
	if fb.refused != 3 || len(fb.hooks) != 2 {
		t.Fatalf("the bot refused %d webhooks and took %d, want 3 and 2", fb.refused, len(fb.hooks))
	}
}

// An external bot whose webhook fails for good gives way: the conversation goes to the agents.
func TestUnreachableHTTPBotHandsOver(t *testing.T) {
	env := apptest.Start(t, func(c *config.Config) { c.Bots.WebhookAttempts = 1; c.Bots.WebhookTimeout = time.Second })
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer dead.Close()
	useHTTPBot(t, env, dead.URL)
	ana := deskOnline(t, env, demo.AnaEmail)
	v := newPeer(t, "visitor", env.VisitorOn(t, env.BotSite(t).PublicID, nil))
	v.request("message.send", "1", map[string]any{"client_msg_id": "m1", "body": "Hello?"})
	v.waitEvent("an agent takes the conversation", assigned)
	ana.waitEvent("Ana gets the visitor's message", from("visitor"))
}

// The admin API refuses a scenario with a dangling branch, saying where it is.
func TestAdminRefusesABadScenario(t *testing.T) {
	env := apptest.Start(t, nil)
	admin := env.Admin(t)
	sc := demo.BotScenario()
	sc.Steps[0].QuickReplies[1].Next = "missing"
	var out struct {
		Error struct {
			Code   string            `json:"code"`
			Fields map[string]string `json:"fields"`
		} `json:"error"`
	}
	st := admin.Do("POST", "/api/admin/bots", map[string]any{"name": "Broken", "kind": "scenario", "scenario": sc}, &out)
	want := `step "welcome", quick reply "question": it leads to step "missing", which does not exist`
	if st != 400 || out.Error.Code != "invalid_input" || !strings.Contains(out.Error.Fields["scenario"], want) {
		t.Fatalf("a dangling branch: %d %+v", st, out)
	}
	ctx := context.Background()
	if _, err := env.Store.BotByName(ctx, "Broken"); err == nil {
		t.Fatal("the broken scenario was stored")
	}
	// A valid one is stored, and the admin API says which transfer moves to video.
	var created struct {
		ID         string   `json:"id"`
		VideoSteps []string `json:"video_steps"`
	}
	if st := admin.Do("POST", "/api/admin/bots", map[string]any{"name": "Fine", "kind": "scenario", "scenario": demo.BotScenario()}, &created); st != 201 {
		t.Fatalf("a valid scenario: %d", st)
	}
	if len(created.VideoSteps) != 1 || created.VideoSteps[0] != "expert_video" {
		t.Fatalf("video steps %v", created.VideoSteps)
	}
	// A bot a site uses can't be deleted.
	var bots struct {
		Bots []struct {
			ID      string   `json:"id"`
			Name    string   `json:"name"`
			SiteIDs []string `json:"site_ids"`
		} `json:"bots"`
	}
	admin.Do("GET", "/api/admin/bots", nil, &bots)
	for _, b := range bots.Bots {
		want := 204
		if b.Name == demo.BotName {
			want = 409
			if len(b.SiteIDs) != 1 {
				t.Fatalf("the demo bot's sites: %v", b.SiteIDs)
			}
		}
		if st := admin.Do("DELETE", "/api/admin/bots/"+b.ID, nil, nil); st != want {
			t.Fatalf("delete %s: %d, want %d", b.Name, st, want)
		}
	}
}
