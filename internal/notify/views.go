package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/parley/parley/internal/store"
)

// EventView is a conversation event as clients see it (docs/protocol.md, "Conversation events").
type EventView struct {
	ConversationID string `json:"conversation_id"`
	Seq            int64  `json:"seq"`
	Type           string `json:"type"`
	Author         string `json:"author"`
	AuthorName     string `json:"author_name"`
	Body           string `json:"body"`
	ClientMsgID    string `json:"client_msg_id,omitempty"`
	CreatedAt      int64  `json:"created_at"`
}

// ViewEvent converts a stored event for clients. Author ids stay on the server.
func ViewEvent(e store.Event) EventView {
	return EventView{ConversationID: e.ConversationID, Seq: e.Seq, Type: e.Type, Author: e.Author, AuthorName: e.AuthorName,
		Body: e.Body, ClientMsgID: e.ClientMsgID, CreatedAt: e.CreatedAt.UnixMilli()}
}

// ViewEvents converts a list of events; it never returns nil, so JSON shows [].
func ViewEvents(evs []store.Event) []EventView {
	out := make([]EventView, 0, len(evs))
	for _, e := range evs {
		out = append(out, ViewEvent(e))
	}
	return out
}

// SummaryView is a conversation as the desk lists it (docs/protocol.md, "Conversation summaries").
type SummaryView struct {
	ID           string `json:"id"`
	SiteID       string `json:"site_id"`
	SiteName     string `json:"site_name"`
	VisitorID    string `json:"visitor_id"`
	VisitorLabel string `json:"visitor_label"`
	Status       string `json:"status"`
	AgentID      string `json:"agent_id"`
	AgentName    string `json:"agent_name"`
	LastSeq      int64  `json:"last_seq"`
	LastBody     string `json:"last_body"`
	UpdatedAt    int64  `json:"updated_at"`
	Routing      string `json:"routing"`
	ContactEmail string `json:"contact_email,omitempty"`
}

// ViewSummary converts a stored summary for the desk.
func ViewSummary(s store.Summary) SummaryView {
	return SummaryView{ID: s.ID, SiteID: s.SiteID, SiteName: s.SiteName, VisitorID: s.VisitorID,
		VisitorLabel: VisitorLabel(s.VisitorID), Status: s.Status, AgentID: s.AgentID, AgentName: s.AgentName,
		LastSeq: s.LastSeq, LastBody: s.LastBody, UpdatedAt: s.UpdatedAt.UnixMilli(), Routing: s.Routing, ContactEmail: s.ContactEmail}
}

// VisitorLabel names an anonymous visitor for agents, e.g. "Visitor 3F2A", stable for that visitor.
func VisitorLabel(visitorID string) string {
	sum := sha256.Sum256([]byte(visitorID))
	return "Visitor " + strings.ToUpper(hex.EncodeToString(sum[:2]))
}
