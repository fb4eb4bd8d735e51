package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/webhook"
)

// The admin adds a webhook to the company's CRM in the Webhooks tab, for messages only; the visitor's chat with
// Ana reaches the CRM, signed with the secret the tab shows.
func TestTheAdminSendsTheChatsToTheCRM(t *testing.T) {
	env := apptest.Start(t, nil)
	var (
		mu     sync.Mutex
		bodies [][]byte
		reqs   []*http.Request
	)
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read a webhook: %v", err)
		}
		mu.Lock()
		bodies, reqs = append(bodies, body), append(reqs, r)
		mu.Unlock()
	}))
	t.Cleanup(crm.Close)

	browser := newBrowser(t)
	admin, visitor, ana := newTab(t, browser, "admin"), newTab(t, browser, "visitor"), newTab(t, browser, "Ana")
	signInAdmin(admin, env.URL, "#webhooks")
	admin.click(byTestID("document", "admin-new-webhook"))
	admin.typeInto(byTestID("document", "admin-webhook-url"), crm.URL+"/parley")
	events := byTestID("document", "admin-webhook-events")
	admin.waitFor("messages and ends are chosen", events+".querySelector('input[value=\"message\"]').checked && "+
		events+".querySelector('input[value=\"ended\"]').checked")
	admin.click(events + ".querySelector('input[value=\"ended\"]')")
	admin.click(byTestID("document", "admin-save"))
	secretBox := byTestID("document", "admin-webhook-secret")
	admin.waitFor("the webhook is created, with its secret", secretBox+"?.value.length > 20")
	secret := eval[string](admin, secretBox+".value")

	chatWithAna(visitor, ana, env.URL, "Do you deliver on Saturdays?")
	ana.click(byTestID("document", "conversation-item"))
	ana.typeInto(byTestID("document", "message-input"), "Yes, in the morning.")
	ana.click(byTestID("document", "send-message"))
	visitor.waitFor("Ana's reply reaches the visitor", hasMessage(widgetDoc, "agent", "in the morning"))
	ana.click(byTestID("document", "end-conversation"))
	visitor.waitFor("the conversation ends", hasMessage(widgetDoc, "system", "ended"))

	deadline := time.Now().Add(10 * time.Second)
	var got []string
	for {
		mu.Lock()
		got = got[:0]
		for i, body := range bodies {
			if err := webhook.Verify(secret, reqs[i].Header.Get(webhook.SignatureHeader), reqs[i].Header.Get(webhook.TimestampHeader),
				body, time.Now(), webhook.DefaultTolerance); err != nil {
				t.Fatalf("a webhook that the shown secret doesn't verify: %v", err)
			}
			var p struct {
				Event struct {
					Type string `json:"type"`
					Body string `json:"body"`
				} `json:"event"`
			}
			json.Unmarshal(body, &p)
			got = append(got, p.Event.Type+": "+p.Event.Body)
		}
		mu.Unlock()
		if len(got) >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // nothing else comes: not the end, not the assignment
	mu.Lock()
	n := len(bodies)
	mu.Unlock()
	if strings.Join(got, " | ") != "message: Do you deliver on Saturdays? | message: Yes, in the morning." || n != 2 {
		t.Fatalf("the CRM got %d: %q", n, got)
	}
	admin.reload()
	last := byTestID("document", "admin-webhook-last-delivery")
	admin.waitFor("the admin sees the CRM took them", last+"?.innerText.startsWith('Last delivery taken at')")
}
