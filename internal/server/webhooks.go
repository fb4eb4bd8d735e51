package server

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/parley/parley/internal/bot"
	"github.com/parley/parley/internal/integrations"
	"github.com/parley/parley/internal/store"
)

// Webhooks to a company's own systems (docs/api.md, "Webhooks"): the admin's API.

// webhookJSON is WEBHOOK in docs/api.md.
type webhookJSON struct {
	ID      string   `json:"id"`
	URL     string   `json:"url"`
	Secret  string   `json:"secret"`
	SiteID  string   `json:"site_id"`
	Events  []string `json:"events"`
	Enabled bool     `json:"enabled"`
	// LastDelivery is how the last delivery ended, or null before any.
	LastDelivery *webhookDelivery `json:"last_delivery"`
}

type webhookDelivery struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	At    int64  `json:"at"`
}

func viewWebhook(w store.Webhook) webhookJSON {
	events := w.Events
	if events == nil {
		events = []string{}
	}
	out := webhookJSON{ID: w.ID, URL: w.URL, Secret: w.Secret, SiteID: w.SiteID, Events: events, Enabled: w.Enabled}
	if w.LastResult != "" {
		out.LastDelivery = &webhookDelivery{OK: w.LastResult == store.WebhookOK, At: w.LastAt.UnixMilli()}
		if !out.LastDelivery.OK {
			out.LastDelivery.Error = w.LastResult
		}
	}
	return out
}

type webhookInput struct {
	URL     *string   `json:"url"`
	SiteID  *string   `json:"site_id"`
	Events  *[]string `json:"events"`
	Enabled *bool     `json:"enabled"`
}

func (in webhookInput) apply(w *store.Webhook, creating bool) map[string]string {
	bad := map[string]string{}
	if creating {
		w.Enabled = true
	}
	if creating || in.URL != nil {
		w.URL = strings.TrimSpace(deref(in.URL))
		if !validWebhookURL(w.URL) {
			bad["url"] = "an http:// or https:// URL is required, like https://crm.example.com/parley"
		}
	}
	if in.SiteID != nil {
		w.SiteID = *in.SiteID
	}
	if creating || in.Events != nil {
		var events []string
		if in.Events != nil {
			for _, e := range *in.Events {
				if !slices.Contains(integrations.EventTypes, e) {
					bad["events"] = "events are among " + strings.Join(integrations.EventTypes, ", ")
				} else if !slices.Contains(events, e) {
					events = append(events, e)
				}
			}
		}
		if len(events) == 0 && bad["events"] == "" {
			bad["events"] = "choose at least one event"
		}
		w.Events = events
	}
	if in.Enabled != nil {
		w.Enabled = *in.Enabled
	}
	return bad
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, _ session) {
	list, err := s.store.Webhooks(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := make([]webhookJSON, len(list))
	for i, h := range list {
		out[i] = viewWebhook(h)
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": out, "event_types": integrations.EventTypes})
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, _ session) {
	var in webhookInput
	if !decodeBody(w, r, &in) {
		return
	}
	var h store.Webhook
	if bad := in.apply(&h, true); len(bad) > 0 {
		writeFieldErrors(w, bad)
		return
	}
	h.Secret = bot.NewSecret()
	h, err := s.store.CreateWebhook(r.Context(), h, s.now())
	s.answerWebhook(w, r, h, err, http.StatusCreated)
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request, _ session) {
	var in struct {
		webhookInput
		// RenewSecret gives the webhook a new secret; the old one stops signing at once.
		RenewSecret bool `json:"renew_secret"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	h, ok := found(s, w, r, "webhook", s.store.Webhook)
	if !ok {
		return
	}
	if bad := in.apply(&h, false); len(bad) > 0 {
		writeFieldErrors(w, bad)
		return
	}
	if in.RenewSecret {
		h.Secret = bot.NewSecret()
	}
	h, err := s.store.UpdateWebhook(r.Context(), h, s.now())
	s.answerWebhook(w, r, h, err, http.StatusOK)
}

func (s *Server) answerWebhook(w http.ResponseWriter, r *http.Request, h store.Webhook, err error, status int) {
	switch {
	case errors.Is(err, store.ErrNotFound) && h.ID != "":
		writeError(w, http.StatusNotFound, "not_found", "no such webhook")
	case errors.Is(err, store.ErrNotFound):
		writeFieldErrors(w, map[string]string{"site_id": "no such site"})
	case err != nil:
		s.internalError(w, r, err)
	default:
		s.invalidateWebhooks()
		writeJSON(w, status, viewWebhook(h))
	}
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, _ session) {
	err := s.store.DeleteWebhook(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no such webhook")
	case err != nil:
		s.internalError(w, r, err)
	default:
		s.invalidateWebhooks()
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) invalidateWebhooks() {
	if s.webhooks != nil {
		s.webhooks.Invalidate()
	}
}
