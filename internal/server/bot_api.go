package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/parley/parley/internal/bot"
	"github.com/parley/parley/internal/store"
)

// The bot API: an external (HTTP) bot answers the visitors whose messages its webhook received. It authenticates
// with its API token (Authorization: Bearer ...), never with a session, so it needs no CSRF token.

type botHandler func(w http.ResponseWriter, r *http.Request, b store.Bot)

// withBot requires a valid bot API token.
func (s *Server) withBot(h botHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		b, err := s.bots.BotByToken(r.Context(), strings.TrimSpace(token))
		if !ok || errors.Is(err, bot.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="parley-bot-api"`)
			writeError(w, http.StatusUnauthorized, "bot_token_invalid",
				"a valid bot API token is required, as the header Authorization: Bearer <token>")
			return
		}
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		h(w, r, b)
	}
}

type botChoiceJSON struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// botPost posts a message, with quick replies, to a conversation the bot is in charge of.
func (s *Server) botPost(w http.ResponseWriter, r *http.Request, b store.Bot) {
	var in struct {
		Body         string          `json:"body"`
		QuickReplies []botChoiceJSON `json:"quick_replies"`
		ClientMsgID  string          `json:"client_msg_id"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	m := bot.Message{Body: in.Body, ClientMsgID: in.ClientMsgID}
	for _, qr := range in.QuickReplies {
		m.QuickReplies = append(m.QuickReplies, bot.Choice{ID: qr.ID, Label: qr.Label})
	}
	res, err := s.bots.Post(r.Context(), b, r.PathValue("id"), m)
	if err != nil {
		s.botError(w, r, err)
		return
	}
	status := http.StatusCreated
	if res.Duplicate {
		status = http.StatusOK
	}
	writeJSON(w, status, map[string]any{"conversation_id": res.Conversation.ID, "seq": res.Events[0].Seq, "duplicate": res.Duplicate})
}

// botTransfer posts the transfer card and hands the conversation over to the agents.
func (s *Server) botTransfer(w http.ResponseWriter, r *http.Request, b store.Bot) {
	var in struct {
		Body        string `json:"body"`
		ClientMsgID string `json:"client_msg_id"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	res, video, err := s.bots.Transfer(r.Context(), b, r.PathValue("id"), in.Body, in.ClientMsgID)
	if err != nil {
		s.botError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversation_id": res.Conversation.ID, "seq": res.Events[0].Seq, "video": video,
		"duplicate": res.Duplicate})
}

func (s *Server) botError(w http.ResponseWriter, r *http.Request, err error) {
	var input *bot.InputError
	switch {
	case errors.As(err, &input):
		writeFieldErrors(w, map[string]string{input.Field: input.Message})
	case errors.Is(err, bot.ErrNotFound):
		writeError(w, http.StatusNotFound, "conversation_not_found", "no such conversation, or this bot doesn't answer it")
	case errors.Is(err, bot.ErrNotInCharge):
		writeError(w, http.StatusConflict, "bot_not_in_charge", "the conversation was handed over: the agents answer it now")
	case errors.Is(err, bot.ErrClosed):
		writeError(w, http.StatusConflict, "conversation_closed", "the conversation is closed")
	default:
		s.internalError(w, r, err)
	}
}
