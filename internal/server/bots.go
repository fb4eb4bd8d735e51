package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/parley/parley/internal/bot"
	"github.com/parley/parley/internal/store"
)

// botJSON is BOT in docs/api.md. WebhookSecret and APIToken are set only in the answer that made them.
type botJSON struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Kind       string          `json:"kind"`
	Scenario   json.RawMessage `json:"scenario"`
	WebhookURL string          `json:"webhook_url"`
	SiteIDs    []string        `json:"site_ids"`
	// VideoSteps are the scenario's transfer steps whose card moves the conversation to video.
	VideoSteps    []string `json:"video_steps"`
	WebhookSecret string   `json:"webhook_secret,omitempty"`
	APIToken      string   `json:"api_token,omitempty"`
	CreatedAt     int64    `json:"created_at"`
	UpdatedAt     int64    `json:"updated_at"`
}

func (s *Server) botJSON(b store.Bot, siteBots map[string]string) botJSON {
	out := botJSON{ID: b.ID, Name: b.Name, Kind: b.Kind, Scenario: json.RawMessage("null"), WebhookURL: b.WebhookURL,
		SiteIDs: []string{}, VideoSteps: []string{}, CreatedAt: b.CreatedAt.UnixMilli(), UpdatedAt: b.UpdatedAt.UnixMilli()}
	if b.Kind == store.BotScenario && json.Valid([]byte(b.Scenario)) {
		out.Scenario = json.RawMessage(b.Scenario)
		var sc bot.Scenario
		if json.Unmarshal([]byte(b.Scenario), &sc) == nil {
			for _, st := range sc.Steps {
				for _, text := range st.Text {
					if st.Kind == bot.KindTransfer && s.bots.MovesToVideo(text) {
						out.VideoSteps = append(out.VideoSteps, st.ID)
						break
					}
				}
			}
		}
	}
	for site, id := range siteBots {
		if id == b.ID {
			out.SiteIDs = append(out.SiteIDs, site)
		}
	}
	return out
}

func (s *Server) listBots(w http.ResponseWriter, r *http.Request, _ session) {
	bots, err := s.store.Bots(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	siteBots, err := s.store.SiteBots(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := make([]botJSON, 0, len(bots))
	for _, b := range bots {
		out = append(out, s.botJSON(b, siteBots))
	}
	writeJSON(w, http.StatusOK, map[string]any{"bots": out, "video_phrases": s.cfg.Bots.VideoPhrases})
}

// botInput is the body of create and update; pointers tell "not given" from "empty".
type botInput struct {
	Name       *string         `json:"name"`
	Kind       *string         `json:"kind"`
	Scenario   json.RawMessage `json:"scenario"`
	WebhookURL *string         `json:"webhook_url"`
}

// apply validates in and copies it onto b, collecting every problem by field.
func (in botInput) apply(b *store.Bot, creating bool) map[string]string {
	bad := map[string]string{}
	if creating || in.Name != nil {
		n := strings.TrimSpace(deref(in.Name))
		if n == "" || utf8.RuneCountInString(n) > 80 {
			bad["name"] = "a name of 1 to 80 characters is required"
		}
		b.Name = n
	}
	if creating {
		b.Kind = deref(in.Kind)
		if b.Kind != store.BotScenario && b.Kind != store.BotHTTP {
			bad["kind"] = "scenario (Parley runs the steps) or http (an external bot)"
			return bad
		}
	} else if in.Kind != nil && *in.Kind != b.Kind {
		bad["kind"] = "a bot's kind can't be changed: create another bot"
	}
	switch b.Kind {
	case store.BotScenario:
		if in.WebhookURL != nil && *in.WebhookURL != "" {
			bad["webhook_url"] = "only an HTTP bot has a webhook"
		}
		if creating || len(in.Scenario) > 0 {
			sc, err := bot.ParseScenario(string(in.Scenario))
			var invalid *bot.InvalidScenarioError
			switch {
			case len(in.Scenario) == 0 || string(in.Scenario) == "null":
				bad["scenario"] = "a scenario bot needs its steps"
			case errors.As(err, &invalid):
				lines := make([]string, len(invalid.Problems))
				for i, p := range invalid.Problems {
					lines[i] = p.String()
				}
				bad["scenario"] = strings.Join(lines, "\n")
			case err != nil:
				bad["scenario"] = err.Error()
			default:
				b.Scenario = sc.JSON()
			}
		}
	case store.BotHTTP:
		if len(in.Scenario) > 0 && string(in.Scenario) != "null" {
			bad["scenario"] = "only a scenario bot has steps"
		}
		if creating || in.WebhookURL != nil {
			u := strings.TrimSpace(deref(in.WebhookURL))
			if !validWebhookURL(u) {
				bad["webhook_url"] = "an http:// or https:// URL is required, like https://bot.example.com/parley"
			}
			b.WebhookURL = u
		}
	}
	return bad
}

func validWebhookURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && len(u) <= 2000 && (p.Scheme == "http" || p.Scheme == "https") && p.Host != "" && p.User == nil
}

func (s *Server) createBot(w http.ResponseWriter, r *http.Request, _ session) {
	var in botInput
	if !decodeBody(w, r, &in) {
		return
	}
	var b store.Bot
	if bad := in.apply(&b, true); len(bad) > 0 {
		writeFieldErrors(w, bad)
		return
	}
	var token string
	if b.Kind == store.BotHTTP {
		b.WebhookSecret = bot.NewSecret()
		token, b.TokenHash = bot.NewToken()
	}
	b, err := s.store.CreateBot(r.Context(), b)
	if errors.Is(err, store.ErrConflict) {
		writeFieldErrors(w, map[string]string{"name": "a bot with this name exists"})
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := s.botJSON(b, nil)
	if b.Kind == store.BotHTTP {
		out.WebhookSecret, out.APIToken = b.WebhookSecret, token
	}
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) updateBot(w http.ResponseWriter, r *http.Request, _ session) {
	var in botInput
	if !decodeBody(w, r, &in) {
		return
	}
	b, ok := found(s, w, r, "bot", s.store.Bot)
	if !ok {
		return
	}
	if bad := in.apply(&b, false); len(bad) > 0 {
		writeFieldErrors(w, bad)
		return
	}
	b, err := s.store.UpdateBot(r.Context(), b)
	if errors.Is(err, store.ErrConflict) {
		writeFieldErrors(w, map[string]string{"name": "a bot with this name exists"})
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	s.answerBot(w, r, b, "", "")
}

// answerBot writes a bot with the sites it answers.
func (s *Server) answerBot(w http.ResponseWriter, r *http.Request, b store.Bot, secret, token string) {
	siteBots, err := s.store.SiteBots(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := s.botJSON(b, siteBots)
	out.WebhookSecret, out.APIToken = secret, token
	writeJSON(w, http.StatusOK, out)
}

// renewBotCredentials gives an HTTP bot a new webhook secret and API token, shown once; the old ones stop working.
func (s *Server) renewBotCredentials(w http.ResponseWriter, r *http.Request, _ session) {
	b, ok := found(s, w, r, "bot", s.store.Bot)
	if !ok {
		return
	}
	if b.Kind != store.BotHTTP {
		writeError(w, http.StatusBadRequest, "not_http_bot", "only an HTTP bot has a secret and a token")
		return
	}
	secret := bot.NewSecret()
	token, hash := bot.NewToken()
	if err := s.store.SetBotCredentials(r.Context(), b.ID, secret, hash); err != nil {
		s.internalError(w, r, err)
		return
	}
	s.answerBot(w, r, b, secret, token)
}

func (s *Server) deleteBot(w http.ResponseWriter, r *http.Request, _ session) {
	err := s.store.DeleteBot(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no such bot")
	case errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusConflict, "bot_in_use", "a site uses this bot, or it is still talking with a visitor: detach it from its sites first")
	case err != nil:
		s.internalError(w, r, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// setSiteBot attaches a bot to a site ("" detaches it). New conversations of the site start with the bot.
func (s *Server) setSiteBot(w http.ResponseWriter, r *http.Request, _ session) {
	var in struct {
		BotID *string `json:"bot_id"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	if in.BotID == nil {
		writeFieldErrors(w, map[string]string{"bot_id": "the bot's id, or \"\" for no bot"})
		return
	}
	siteID := r.PathValue("id")
	err := s.store.SetSiteBot(r.Context(), siteID, *in.BotID)
	if errors.Is(err, store.ErrNotFound) {
		if _, serr := s.store.Site(r.Context(), siteID); serr != nil {
			writeError(w, http.StatusNotFound, "not_found", "no such site")
			return
		}
		writeFieldErrors(w, map[string]string{"bot_id": "unknown bot"})
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"site_id": siteID, "bot_id": *in.BotID})
}
