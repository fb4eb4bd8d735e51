// Package realtime is the WebSocket edge of Parley: it upgrades visitor and desk connections, speaks the protocol
// of docs/protocol.md, and pumps frames between sockets, the chat service and the bus. Conversations never see a
// socket.
package realtime

import (
	"encoding/json"
	"errors"

	"github.com/parley/parley/internal/chat"
	"github.com/parley/parley/internal/routing"
)

// Version is the protocol version every frame carries.
const Version = 1

// envelope is every frame, both ways.
type envelope struct {
	V    int             `json:"v"`
	Type string          `json:"type"`
	ID   string          `json:"id,omitempty"`
	Seq  int64           `json:"seq,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// outFrame is a frame the server sends; Data is marshalled as is.
type outFrame struct {
	V    int    `json:"v"`
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
	Seq  int64  `json:"seq,omitempty"`
	Data any    `json:"data,omitempty"`
}

// Error codes sent in error frames; the connection stays open. See docs/protocol.md.
const (
	CodeBadRequest           = 100
	CodeUnknownType          = 101
	CodeFrameTooLarge        = 102
	CodeMessageEmpty         = 103
	CodeMessageTooLong       = 104
	CodeConversationNotFound = 105
	CodeConversationClosed   = 106
	CodeUnsupportedVersion   = 107
	CodeHelloRequired        = 108
	CodeRateLimited          = 109
	CodeForbidden            = 110
	CodeConflict             = 111
	CodeAtCapacity           = 112
	CodeInternal             = 500
)

// Disconnect codes, used as WebSocket close codes. 4000-4499: reconnect with backoff. 4500-4999: don't.
const (
	DisconnectShutdown     = 4000
	DisconnectSlow         = 4001
	DisconnectNoHeartbeat  = 4002
	DisconnectBadFrames    = 4003
	DisconnectTokenInvalid = 4500
	DisconnectTokenExpired = 4501
	DisconnectSessionEnded = 4502
	DisconnectNoHello      = 4503
)

// protoError is an error frame's payload.
type protoError struct {
	Code         int    `json:"code"`
	Message      string `json:"message"`
	Retry        bool   `json:"retry"`
	RetryAfterMS int64  `json:"retry_after_ms,omitempty"`
}

func (e *protoError) Error() string { return e.Message }

func perr(code int, msg string) *protoError {
	return &protoError{Code: code, Message: msg, Retry: code >= 500}
}

// chatError maps the chat service's errors to protocol errors. Any other error is returned as it is: the reader
// logs it and answers an internal error, so its text stays in the server's log.
func chatError(err error) error {
	switch {
	case errors.Is(err, chat.ErrEmpty):
		return perr(CodeMessageEmpty, "message is empty")
	case errors.Is(err, chat.ErrTooLong):
		return perr(CodeMessageTooLong, "message is too long")
	case errors.Is(err, chat.ErrNotFound):
		return perr(CodeConversationNotFound, "conversation not found")
	case errors.Is(err, chat.ErrClosed):
		return perr(CodeConversationClosed, "conversation is closed")
	case errors.Is(err, chat.ErrBadQuickReply):
		return perr(CodeBadRequest, "quick_reply is longer than 64 characters")
	case errors.Is(err, chat.ErrBadInvitation):
		return perr(CodeBadRequest, "invitation_id is longer than 64 characters")
	case errors.Is(err, chat.ErrBadIdentity):
		return perr(CodeBadRequest, "identify needs a valid e-mail address, a name of at most 100 characters, and hash: the hex HMAC-SHA256 of the address under the site's identity secret")
	case errors.Is(err, chat.ErrBadRating):
		return perr(CodeBadRequest, "score must be a whole number from 1 to 5, and the comment at most 1000 characters")
	case errors.Is(err, chat.ErrRated):
		return perr(CodeConflict, "this conversation is already rated")
	case errors.Is(err, chat.ErrNotRatable):
		return perr(CodeConflict, "a conversation is rated once it has ended, within 7 days")
	case errors.Is(err, chat.ErrBadPage):
		return perr(CodeBadRequest, "url must be an http(s) address of one of the site's allowed origins, at most 2048 bytes")
	case errors.Is(err, routing.ErrNotFound):
		return perr(CodeConversationNotFound, "not found, or not yours")
	case errors.Is(err, routing.ErrConflict):
		return perr(CodeConflict, "already ended, or someone else has it")
	case errors.Is(err, routing.ErrAtCapacity):
		return perr(CodeAtCapacity, "you have no free slot")
	case errors.Is(err, routing.ErrBadInput):
		return perr(CodeBadRequest, "invalid channel or status")
	}
	return err
}

// Client request payloads.
type helloData struct {
	Token  string           `json:"token"`
	Resume map[string]int64 `json:"resume"`
	// Lang is the widget's language (visitor), for a bot's texts.
	Lang string `json:"lang"`
}

type sendData struct {
	ConversationID string `json:"conversation_id"`
	ClientMsgID    string `json:"client_msg_id"`
	Body           string `json:"body"`
	// QuickReply is the id of the bot's quick reply the visitor chose (visitor only); Body is its label.
	QuickReply string `json:"quick_reply"`
	// InvitationID is the proactive invitation the visitor answers (visitor only): a message that opens the
	// conversation then follows the invitation.
	InvitationID string `json:"invitation_id"`
}

type readData struct {
	ConversationID string `json:"conversation_id"`
	Seq            int64  `json:"seq"`
}

type typingData struct {
	ConversationID string `json:"conversation_id"`
	Typing         bool   `json:"typing"`
}

type endData struct {
	ConversationID string `json:"conversation_id"`
}

// transferReq is a conversation.transfer: AgentID names the colleague it goes to, or is empty for the group.
type transferReq struct {
	ConversationID string `json:"conversation_id"`
	AgentID        string `json:"agent_id"`
}

// identifyReq is who the website says the visitor is, signed with the site's identity secret.
type identifyReq struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Hash  string `json:"hash"`
}

// ratingReq is a visitor's rating of their ended conversation.
type ratingReq struct {
	ConversationID string `json:"conversation_id"`
	Score          int    `json:"score"`
	Comment        string `json:"comment"`
}

// noteReq is a note.add: an agent's note on a conversation, for the other agents.
type noteReq struct {
	ConversationID string `json:"conversation_id"`
	ClientNoteID   string `json:"client_note_id"`
	Body           string `json:"body"`
}

// colleagueView is one colleague a conversation could be transferred to (the colleagues request).
type colleagueView struct {
	AgentID   string `json:"agent_id"`
	Name      string `json:"name"`
	Chat      string `json:"chat"`
	InCall    bool   `json:"in_call"`
	FreeSlots int    `json:"free_slots"`
}

type pageData struct {
	ConversationID string `json:"conversation_id"`
	URL            string `json:"url"`
	Title          string `json:"title"`
}

type presenceData struct {
	Channel string `json:"channel"`
	Status  string `json:"status"`
}

type offerData struct {
	OfferID string `json:"offer_id"`
}

type contactData struct {
	ConversationID string `json:"conversation_id"`
	Email          string `json:"email"`
	Body           string `json:"body"`
}

type sendAck struct {
	ConversationID string `json:"conversation_id"`
	Seq            int64  `json:"seq"`
	Duplicate      bool   `json:"duplicate"`
}

type disconnectData struct {
	Code      int    `json:"code"`
	Reason    string `json:"reason"`
	Reconnect bool   `json:"reconnect"`
}
