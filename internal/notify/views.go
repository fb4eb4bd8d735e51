package notify

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

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
	// Data holds an event's structured details (a call_ended event's call-quality record).
	Data json.RawMessage `json:"data,omitempty"`
}

// NoteView is an agent's note on a conversation, for the desks only (docs/protocol.md, NOTE).
type NoteView struct {
	NoteID         string `json:"note_id"`
	ConversationID string `json:"conversation_id"`
	AuthorID       string `json:"author_id"`
	AuthorName     string `json:"author_name"`
	Body           string `json:"body"`
	ClientNoteID   string `json:"client_note_id"`
	CreatedAt      int64  `json:"created_at"`
}

// ViewNote converts a stored note for the desks.
func ViewNote(n store.Note) NoteView {
	return NoteView{NoteID: n.ID, ConversationID: n.ConversationID, AuthorID: n.AuthorID, AuthorName: n.AuthorName,
		Body: n.Body, ClientNoteID: n.ClientNoteID, CreatedAt: n.CreatedAt.UnixMilli()}
}

// ViewNotes converts a conversation's notes.
func ViewNotes(ns []store.Note) []NoteView {
	out := make([]NoteView, len(ns))
	for i, n := range ns {
		out[i] = ViewNote(n)
	}
	return out
}

// ViewEvent converts a stored event for clients. Author ids stay on the server.
func ViewEvent(e store.Event) EventView {
	v := EventView{ConversationID: e.ConversationID, Seq: e.Seq, Type: e.Type, Author: e.Author, AuthorName: e.AuthorName,
		Body: e.Body, ClientMsgID: e.ClientMsgID, CreatedAt: e.CreatedAt.UnixMilli()}
	if e.Data != "" && json.Valid([]byte(e.Data)) {
		v.Data = json.RawMessage(e.Data)
	}
	return v
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
	// RoutingReason says why a conversation was turned away (docs/protocol.md, QUEUE reasons).
	RoutingReason string `json:"routing_reason,omitempty"`
	ContactEmail  string `json:"contact_email,omitempty"`
	PageURL       string `json:"page_url,omitempty"`
	PageTitle     string `json:"page_title,omitempty"`
	// Rating is the visitor's rating of the ended conversation, when they gave one.
	Rating *RatingView `json:"rating,omitempty"`
	// VisitorEmail is the e-mail address of a visitor the website identified (signed); VisitorLabel is then the name
	// it gave, or the address.
	VisitorEmail string `json:"visitor_email,omitempty"`
	// Tags are the agents' tags on the conversation, in alphabetical order.
	Tags []string `json:"tags"`
	// VisitorReadSeq is the last seq the visitor has seen (read receipts).
	VisitorReadSeq int64 `json:"visitor_read_seq"`
}

// RatingView is a visitor's rating of a conversation (docs/protocol.md, RATING).
type RatingView struct {
	Score   int    `json:"score"`
	Comment string `json:"comment"`
}

// ViewSummary converts a stored summary for the desk.
func ViewSummary(s store.Summary) SummaryView {
	v := SummaryView{ID: s.ID, SiteID: s.SiteID, SiteName: s.SiteName, VisitorID: s.VisitorID,
		VisitorLabel: VisitorLabel(s.VisitorID), Status: s.Status, AgentID: s.AgentID, AgentName: s.AgentName,
		LastSeq: s.LastSeq, LastBody: s.LastBody, UpdatedAt: s.UpdatedAt.UnixMilli(), Routing: s.Routing, RoutingReason: s.RoutingReason,
		ContactEmail: s.ContactEmail,
		PageURL:      s.PageURL, PageTitle: s.PageTitle, Tags: s.Tags, VisitorReadSeq: s.VisitorReadSeq}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	if s.RatingScore > 0 {
		v.Rating = &RatingView{Score: s.RatingScore, Comment: s.RatingComment}
	}
	if s.VisitorEmail != "" {
		v.VisitorEmail = s.VisitorEmail
		v.VisitorLabel = cmp.Or(s.VisitorName, s.VisitorEmail)
	}
	return v
}

// VisitorLabel names an anonymous visitor for agents, e.g. "Visitor 3F2A", stable for that visitor.
func VisitorLabel(visitorID string) string {
	sum := sha256.Sum256([]byte(visitorID))
	return "Visitor " + strings.ToUpper(hex.EncodeToString(sum[:2]))
}

// VideoView says whether the widget may offer video now (docs/protocol.md, the `video` frame), with the site's
// camera policy and video notification.
type VideoView struct {
	Available    bool              `json:"available"`
	Reason       string            `json:"reason"`
	Camera       CameraView        `json:"camera"`
	Notification *NotificationView `json:"notification,omitempty"`
}

// CameraView is a site's camera policy for visitors.
type CameraView struct {
	Allowed      bool `json:"allowed"`
	OffByDefault bool `json:"off_by_default"`
	// Reassurance is the message shown when the camera is restricted, by language ("en", "fr"); absent, the
	// widget's own default is shown.
	Reassurance map[string]string `json:"reassurance,omitempty"`
}

// NotificationView is how a site's video notification looks (the notification builder): its format ("button", a
// compact button, or "card", a title, a text and a button) and its texts by language.
type NotificationView struct {
	Format string                       `json:"format"`
	Texts  map[string]NotificationTexts `json:"texts,omitempty"`
}

// NotificationTexts are the video notification's texts in one language.
type NotificationTexts struct {
	Title  string `json:"title,omitempty"`
	Text   string `json:"text,omitempty"`
	Button string `json:"button,omitempty"`
}

// SiteVideo is a site's video settings as the widget needs them.
type SiteVideo struct {
	Camera       CameraView
	Notification *NotificationView
}

// MediaState is one side's camera and microphone.
type MediaState struct {
	Camera bool `json:"camera"`
	Mic    bool `json:"mic"`
}

// CallView is a video call as both sides see it (docs/protocol.md, CALL).
type CallView struct {
	CallID         string     `json:"call_id"`
	ConversationID string     `json:"conversation_id"`
	State          string     `json:"state"`
	AgentID        string     `json:"agent_id"`
	AgentName      string     `json:"agent_name"`
	CreatedAt      int64      `json:"created_at"`
	AnsweredAt     int64      `json:"answered_at"`
	EndedAt        int64      `json:"ended_at"`
	EndedBy        string     `json:"ended_by"`
	Reason         string     `json:"reason"`
	Camera         CameraView `json:"camera"`
	VisitorMedia   MediaState `json:"visitor_media"`
	AgentMedia     MediaState `json:"agent_media"`
	// ICEServers are the TURN servers, with short-lived credentials, for the side this view is sent to: only
	// while the call is live, and only to its two participants.
	ICEServers []ICEServer `json:"ice_servers,omitempty"`
}

// ICEServer is a browser's RTCIceServer: TURN URLs and their credentials.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// ViewCall converts a stored call for clients.
func ViewCall(c store.Call, camera CameraView) CallView {
	return CallView{CallID: c.ID, ConversationID: c.ConversationID, State: c.State, AgentID: c.AgentID, AgentName: c.AgentName,
		CreatedAt: unixMilli(c.CreatedAt), AnsweredAt: unixMilli(c.AnsweredAt), EndedAt: unixMilli(c.EndedAt),
		EndedBy: c.EndedBy, Reason: c.Reason, Camera: camera,
		VisitorMedia: MediaState{Camera: c.VisitorCamera, Mic: c.VisitorMic}, AgentMedia: MediaState{Camera: c.AgentCamera, Mic: c.AgentMic}}
}

func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// CallCandidateView carries one ICE candidate of the relay to one side (`candidate` is null at the end).
type CallCandidateView struct {
	CallID    string          `json:"call_id"`
	Side      string          `json:"-"`
	Candidate json.RawMessage `json:"candidate"`
}

// CallMediaView is one side's camera and microphone state, for the other side.
type CallMediaView struct {
	CallID string `json:"call_id"`
	Side   string `json:"side"`
	Camera bool   `json:"camera"`
	Mic    bool   `json:"mic"`
}

// InviteView is an agent's invitation to move a chat into a video call (docs/protocol.md, INVITE).
type InviteView struct {
	InviteID       string `json:"invite_id"`
	ConversationID string `json:"conversation_id"`
	AgentID        string `json:"agent_id"`
	AgentName      string `json:"agent_name"`
	State          string `json:"state"`
	Auto           bool   `json:"auto"`
	ExpiresAt      int64  `json:"expires_at"`
}

// ViewInvite converts a stored invitation for clients.
func ViewInvite(i store.Invite) InviteView {
	return InviteView{InviteID: i.ID, ConversationID: i.ConversationID, AgentID: i.AgentID, AgentName: i.AgentName,
		State: i.State, Auto: i.Auto, ExpiresAt: unixMilli(i.ExpiresAt)}
}
