package server_test

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/demo"
	"github.com/parley/parley/internal/webhook"
)

// receiver is a company's system that takes Parley's webhooks: it checks each signature with its secret.
type receiver struct {
	t      *testing.T
	mu     sync.Mutex
	secret string
	got    []hookPayload
	srv    *httptest.Server
}

type hookPayload struct {
	Type         string `json:"type"`
	DeliveryID   string `json:"delivery_id"`
	WebhookID    string `json:"webhook_id"`
	Conversation struct {
		ID     string `json:"id"`
		SiteID string `json:"site_id"`
	} `json:"conversation"`
	Event struct {
		Type   string `json:"type"`
		Author string `json:"author"`
		Body   string `json:"body"`
		Seq    int64  `json:"seq"`
	} `json:"event"`
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		secret := rc.secret
		rc.mu.Unlock()
		body, err := webhook.VerifyRequest(r, secret, time.Now())
		if err != nil {
			t.Errorf("a webhook that doesn't verify: %v", err)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p hookPayload
		if err := json.Unmarshal(body, &p); err != nil || r.Header.Get(webhook.DeliveryHeader) != p.DeliveryID {
			t.Errorf("a webhook's body: %s %v", body, err)
		}
		rc.mu.Lock()
		rc.got = append(rc.got, p)
		rc.mu.Unlock()
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) wait(n int) []hookPayload {
	rc.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rc.mu.Lock()
		got := append([]hookPayload(nil), rc.got...)
		rc.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sentMessage is the ack of a message.send.
type sentMessage struct {
	ConversationID string `json:"conversation_id"`
	Seq            int64  `json:"seq"`
}

// chatWithAna has a visitor (their token) write text on the demo site's widget socket, gives the conversation to
// Ana, and opens her desk. Both sockets pass over events and offers.
func chatWithAna(t *testing.T, env *apptest.Env, token, text string) (visitor, desk *apptest.Socket, ack sentMessage) {
	t.Helper()
	visitor, _, err := env.DialVisitor(t, env.URL)
	if err != nil {
		t.Fatal(err)
	}
	visitor.Hello(map[string]any{"token": token})
	visitor.Skip["event"] = true
	visitor.Send("message.send", "m1", map[string]any{"client_msg_id": "c1", "body": text})
	visitor.Expect("ack", "m1").Decode(t, &ack)
	ana, err := env.Store.AccountByEmail(t.Context(), demo.AnaEmail)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.Claim(t.Context(), ack.ConversationID, ana.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	desk = env.OpenDesk(t, demo.AnaEmail)
	desk.Skip["event"], desk.Skip["offer"], desk.Skip["offer.ended"] = true, true, true
	return visitor, desk, ack
}

type delivery struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
	At    int64  `json:"at"`
}

// lastDelivery is how the webhook's last delivery went, as the admin reads it (nil before any).
func lastDelivery(t *testing.T, admin *apptest.HTTP, id string) *delivery {
	t.Helper()
	var list struct {
		Webhooks []struct {
			ID   string    `json:"id"`
			Last *delivery `json:"last_delivery"`
		} `json:"webhooks"`
	}
	if st := admin.Do("GET", "/api/admin/webhooks", nil, &list); st != 200 {
		t.Fatalf("the webhooks: %d", st)
	}
	for _, w := range list.Webhooks {
		if w.ID == id {
			return w.Last
		}
	}
	t.Fatalf("no webhook %s", id)
	return nil
}

// The admin points a webhook at the company's CRM for the demo site's messages and ends: the visitor's message and
// Ana's reply reach it, signed; what it didn't ask for, and the other webhooks' sites, don't.
func TestWebhooksToACompanysSystem(t *testing.T) {
	env := apptest.Start(t, func(c *config.Config) { c.Bots.WebhookAttempts = 1 })
	admin := env.Admin(t)
	crm, other := newReceiver(t), newReceiver(t)

	var bad struct {
		Error struct {
			Fields map[string]string `json:"fields"`
		} `json:"error"`
	}
	if st := admin.Do("POST", "/api/admin/webhooks", map[string]any{"url": "ftp://crm", "events": []string{"typing"}}, &bad); st != 400 ||
		bad.Error.Fields["url"] == "" || bad.Error.Fields["events"] == "" {
		t.Fatalf("an invalid webhook: %d %+v", st, bad)
	}
	if st := admin.Do("POST", "/api/admin/webhooks", map[string]any{"url": crm.srv.URL, "events": []string{"message"}, "site_id": "st_nope"}, &bad); st != 400 ||
		bad.Error.Fields["site_id"] == "" {
		t.Fatalf("an unknown site: %d %+v", st, bad)
	}
	type hook struct {
		ID      string   `json:"id"`
		Secret  string   `json:"secret"`
		Events  []string `json:"events"`
		Enabled bool     `json:"enabled"`
	}
	var h, elsewhere hook
	if st := admin.Do("POST", "/api/admin/webhooks", map[string]any{"url": crm.srv.URL, "site_id": env.Site.ID,
		"events": []string{"message", "ended", "message"}}, &h); st != 201 || h.Secret == "" || len(h.Events) != 2 || !h.Enabled {
		t.Fatalf("create: %d %+v", st, h)
	}
	crm.secret = h.Secret
	bot := env.BotSite(t)
	if st := admin.Do("POST", "/api/admin/webhooks", map[string]any{"url": other.srv.URL, "site_id": bot.ID,
		"events": []string{"message"}}, &elsewhere); st != 201 {
		t.Fatalf("a webhook of the bot shop: %d", st)
	}
	other.secret = elsewhere.Secret

	sock, desk, ack := chatWithAna(t, env, env.VisitorToken(t), "Is the walnut chair in stock?")
	desk.Send("message.send", "r1", map[string]any{"conversation_id": ack.ConversationID, "client_msg_id": "a1", "body": "Yes, three left."})
	desk.Expect("ack", "r1")
	desk.Send("conversation.end", "e1", map[string]any{"conversation_id": ack.ConversationID})
	desk.Expect("ack", "e1")

	got := crm.wait(3)
	if len(got) != 3 {
		t.Fatalf("the CRM got %d webhooks, want 3: %+v", len(got), got)
	}
	// Deliveries run side by side: they may arrive in any order, and seq orders them.
	slices.SortFunc(got, func(a, b hookPayload) int { return cmp.Compare(a.Event.Seq, b.Event.Seq) })
	for i, want := range []struct{ typ, author, body string }{
		{"message", "visitor", "Is the walnut chair in stock?"}, {"message", "agent", "Yes, three left."}, {"ended", "system", ""}} {
		p := got[i]
		if p.Type != "conversation.event" || p.WebhookID != h.ID || p.Conversation.ID != ack.ConversationID ||
			p.Conversation.SiteID != env.Site.ID ||
			p.Event.Type != want.typ || p.Event.Author != want.author || p.Event.Body != want.body {
			t.Errorf("webhook %d: %+v, want %+v", i, p, want)
		}
	}
	if n := len(other.wait(0)); n != 0 {
		t.Fatalf("the bot shop's webhook got %d of the demo shop's events", n)
	}
	// The admin sees how the last delivery went: taken.
	if last := lastDelivery(t, admin, h.ID); last == nil || !last.OK || last.At == 0 {
		t.Fatalf("the last delivery: %+v", last)
	}

	// A receiver that fails: the admin sees why.
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusBadGateway) }))
	t.Cleanup(broken.Close)
	var failing hook
	if st := admin.Do("POST", "/api/admin/webhooks", map[string]any{"url": broken.URL, "events": []string{"message"}}, &failing); st != 201 {
		t.Fatalf("a webhook to a broken receiver: %d", st)
	}
	if last := lastDelivery(t, admin, failing.ID); last != nil {
		t.Fatalf("a delivery before any event: %+v", last)
	}

	// Off: nothing more is sent. A new secret: the old one no longer signs.
	var off hook
	if st := admin.Do("PATCH", "/api/admin/webhooks/"+h.ID, map[string]any{"enabled": false, "renew_secret": true}, &off); st != 200 ||
		off.Enabled || off.Secret == h.Secret {
		t.Fatalf("turn it off: %d %+v", st, off)
	}
	sock.Send("message.send", "m2", map[string]any{"client_msg_id": "c2", "body": "Thanks, bye"})
	sock.Expect("ack", "m2")
	deadline := time.Now().Add(10 * time.Second)
	for {
		last := lastDelivery(t, admin, failing.ID)
		if last != nil {
			if last.OK || last.Error != "webhook: status 502" {
				t.Fatalf("the broken receiver's delivery: %+v", last)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the broken receiver's delivery is not on record")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(crm.wait(0)); n != 3 {
		t.Fatalf("a webhook that is off sent: %d", n)
	}
	if st := admin.Do("DELETE", "/api/admin/webhooks/"+h.ID, nil, nil); st != 204 {
		t.Fatalf("delete: %d", st)
	}
	if st := env.NewHTTP(t).Do("GET", "/api/admin/webhooks", nil, nil); st != 401 {
		t.Fatalf("the list without a session: %d", st)
	}
}
