package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/call"
	"github.com/parley/parley/internal/chat"
	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/store"
)

// visitorConn is the visitor's side: their own conversations on one site, nothing else.
type visitorConn struct {
	hub     *Hub
	visitor chat.Visitor
	connID  string

	mu       sync.Mutex
	waiting  string           // the conversation waiting in a queue, kept alive by heartbeats
	usedConv string           // the conversation whose video call has happened: video is not offered again in it
	video    notify.VideoView // the group's video availability, as last heard
	site     notify.SiteVideo // the site's camera policy and video notification
}

type visitorWelcome struct {
	VisitorID    string             `json:"visitor_id"`
	Conversation *conversationState `json:"conversation"`
	Queue        *notify.QueueView  `json:"queue"`
	Call         *notify.CallView   `json:"call"`
	CallQueue    *notify.QueueView  `json:"call_queue"`
	Invite       *notify.InviteView `json:"invite"`
}

type conversationState struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	LastSeq int64  `json:"last_seq"`
	// AgentReadSeq is how far the conversation's agent has read it (read receipts).
	AgentReadSeq int64 `json:"agent_read_seq"`
}

// ServeVisitor serves a visitor socket for site. The caller has checked the site and the request's origin.
func (h *Hub) ServeVisitor(w http.ResponseWriter, r *http.Request, site store.Site) {
	ws, err := h.accept(w, r)
	if err != nil {
		return
	}
	env, hello, ok := h.readHello(ws)
	if !ok {
		return
	}
	visitorID, err := h.signer.Verify(hello.Token, site.ID, h.now())
	switch {
	case errors.Is(err, auth.ErrTokenExpired):
		closeEarly(ws, DisconnectTokenExpired, "visitor token expired")
		return
	case err != nil:
		closeEarly(ws, DisconnectTokenInvalid, "visitor token invalid")
		return
	}
	v := &visitorConn{hub: h, visitor: chat.Visitor{ID: visitorID, SiteID: site.ID, Lang: widgetLang(hello.Lang)}, connID: store.NewID("vc")}
	ctx := r.Context()

	// Follow the conversations the client shows that are really this visitor's, and the open one.
	resume := map[string]int64{}
	var welcome visitorWelcome
	welcome.VisitorID = visitorID
	for id, seq := range hello.Resume {
		cv, err := h.store.Conversation(ctx, id)
		if err != nil || cv.VisitorID != visitorID || cv.SiteID != site.ID || seq < 0 {
			continue
		}
		resume[id] = seq
		welcome.Conversation = &conversationState{ID: cv.ID, Status: cv.Status, LastSeq: cv.LastSeq, AgentReadSeq: cv.AgentReadSeq}
	}
	if open, err := h.store.OpenConversation(ctx, site.ID, visitorID); err == nil {
		if _, ok := resume[open.ID]; !ok {
			resume[open.ID] = 0
		}
		welcome.Conversation = &conversationState{ID: open.ID, Status: open.Status, LastSeq: open.LastSeq, AgentReadSeq: open.AgentReadSeq}
	}
	openConv := ""
	if welcome.Conversation != nil && welcome.Conversation.Status == store.StatusOpen {
		openConv = welcome.Conversation.ID
		welcome.Queue = h.router.QueueState(ctx, openConv)
		v.queued(welcome.Queue)
		welcome.Invite = h.calls.VisitorInvite(ctx, openConv)
		if welcome.Call = h.calls.VisitorCall(ctx, openConv); welcome.Call != nil {
			welcome.CallQueue = h.router.QueueStateOn(ctx, openConv, store.ChannelVideo)
			v.queued(welcome.CallQueue)
		}
	}
	groupID, video, err := h.calls.Availability(ctx, site.ID, "")
	if err != nil {
		h.log.Warn("video availability", slog.Any("error", err))
	}
	if openConv != "" {
		if used, err := h.store.VideoUsed(ctx, openConv); err == nil && used {
			v.usedConv = openConv
		}
	}
	v.video, v.site = video, notify.SiteVideo{Camera: video.Camera, Notification: video.Notification}
	// The connection owns resume from here on (its writer updates it): keep the ids to catch up apart.
	catchUp := slices.Collect(maps.Keys(resume))
	c := h.newConn(ws, "visitor", resume)
	c.h, c.trackNew = v, true
	subjects := []string{notify.VisitorSubject(visitorID)}
	if groupID != "" {
		subjects = append(subjects, notify.VideoSubject(groupID))
	}
	for _, sub := range subjects {
		if err := c.subscribe(sub); err != nil {
			c.close(DisconnectShutdown, "bus unavailable")
			return
		}
	}
	c.send(outFrame{V: Version, Type: "ack", ID: env.ID, Data: welcome})
	c.send(outFrame{V: Version, Type: "video", Data: v.videoSeen(video)})
	for _, id := range catchUp {
		c.enqueue(item{catch: id})
	}
	// Serve from a new goroutine and let the handler's return: its stack grew during the database work of the
	// hello, and an idle connection should not keep it.
	go c.run()
}

func (v *visitorConn) request(ctx context.Context, c *conn, env envelope, received time.Time) (any, error) {
	switch env.Type {
	case "message.send":
		return v.hub.sendMessage(c, env, received, v.visitor.ID, v.visitor.SiteID, func(d sendData) (store.Appended, error) {
			if d.InvitationID != "" && d.QuickReply == "" {
				return v.hub.chat.VisitorAnswer(ctx, v.visitor, d.ConversationID, d.ClientMsgID, d.Body, d.InvitationID, received)
			}
			return v.hub.chat.VisitorReply(ctx, v.visitor, d.ConversationID, d.ClientMsgID, d.Body, d.QuickReply, received)
		})
	case "conversation.open":
		c, ok, err := v.hub.chat.Open(ctx, v.visitor)
		if err != nil {
			return nil, chatError(err)
		}
		if !ok {
			return openAck{}, nil
		}
		return openAck{ConversationID: &c.ID}, nil
	case "typing":
		var d typingData
		if err := decode(env, &d); err != nil {
			return nil, err
		}
		return nil, chatError(v.hub.chat.VisitorTyping(ctx, v.visitor, d.ConversationID, d.Typing))
	case "read":
		var d readData
		if err := decode(env, &d); err != nil {
			return nil, err
		}
		return struct{}{}, chatError(v.hub.chat.VisitorRead(ctx, v.visitor, d.ConversationID, d.Seq))
	case "page":
		var d pageData
		if err := decode(env, &d); err != nil {
			return nil, err
		}
		return struct{}{}, chatError(v.hub.chat.VisitorPage(ctx, v.visitor, d.ConversationID, d.URL, d.Title))
	case "identify":
		var d identifyReq
		if err := decode(env, &d); err != nil {
			return nil, err
		}
		return struct{}{}, chatError(v.hub.chat.Identify(ctx, v.visitor, d.Name, d.Email, d.Hash))
	case "rating":
		var d ratingReq
		if err := decode(env, &d); err != nil {
			return nil, err
		}
		r, err := v.hub.chat.Rate(ctx, v.visitor, d.ConversationID, d.Score, d.Comment)
		if err != nil {
			return nil, chatError(err)
		}
		return struct {
			Rating notify.RatingView `json:"rating"`
		}{notify.RatingView{Score: r.Score, Comment: r.Comment}}, nil
	case "conversation.end":
		return nil, perr(CodeForbidden, "only an agent can end a conversation")
	case "queue.leave":
		var d endData
		if err := decode(env, &d); err != nil {
			return nil, err
		}
		return struct{}{}, chatError(v.hub.router.Leave(ctx, v.visitor.ID, d.ConversationID))
	case "contact.leave":
		return v.leaveContact(ctx, c, env, received)
	case "call.request":
		var d callRequestData
		if err := decode(env, &d); err != nil {
			return nil, err
		}
		cv, err := v.hub.calls.Request(ctx, v.party(), d.ConversationID, d.InviteID)
		if err != nil {
			return nil, callError(err)
		}
		return callAck{ConversationID: cv.ConversationID, Call: cv}, nil
	case "call.invite.answer":
		var d inviteAnswerData
		if err := decode(env, &d); err != nil {
			return nil, err
		}
		if d.InviteID == "" || d.Accept == nil {
			return nil, perr(CodeBadRequest, "call.invite.answer needs an invite_id and accept")
		}
		inv, err := v.hub.calls.AnswerInvite(ctx, v.party(), d.InviteID, *d.Accept)
		if err != nil {
			return nil, callError(err)
		}
		return inviteAck{Invite: inv}, nil
	case "call.invite":
		return nil, perr(CodeForbidden, "only an agent can invite into video")
	}
	if ack, ok, err := v.hub.callRequest(ctx, v.party(), env); ok {
		return ack, err
	}
	return nil, perr(CodeUnknownType, "unknown frame type "+quote(env.Type))
}

// leaveContact keeps the visitor's e-mail address on the conversation, and their message in it, for an agent to
// answer later.
func (v *visitorConn) leaveContact(ctx context.Context, c *conn, env envelope, received time.Time) (any, error) {
	var d contactData
	if err := decode(env, &d); err != nil {
		return nil, err
	}
	addr, err := mail.ParseAddress(d.Email)
	if err != nil || addr.Address != strings.TrimSpace(d.Email) || len(d.Email) > 254 {
		return nil, perr(CodeBadRequest, "a valid e-mail address is required")
	}
	if strings.TrimSpace(d.Body) != "" {
		send := envelope{V: Version, Type: "message.send", ID: env.ID}
		send.Data, _ = json.Marshal(sendData{ConversationID: d.ConversationID, ClientMsgID: "contact-" + env.ID + "-" + d.ConversationID, Body: d.Body})
		if _, err := v.request(ctx, c, send, received); err != nil {
			return nil, err
		}
	}
	if err := v.hub.store.SetContact(ctx, d.ConversationID, v.visitor.ID, addr.Address); err != nil {
		return nil, chatError(chat.ErrNotFound)
	}
	v.hub.notifier.Summary(ctx, d.ConversationID)
	return struct{}{}, nil
}

func (v *visitorConn) visible(n *notify.Notice) bool {
	// Typing from the visitor's own tabs isn't echoed; everything else on the visitor's subject is theirs.
	switch n.Kind {
	case notify.KindQueue, notify.KindCallCandidate, notify.KindCallMedia, notify.KindCallInvite:
		return true
	case notify.KindVideo:
		v.mu.Lock()
		v.video = *n.Video
		v.mu.Unlock()
		return true
	case notify.KindCall:
		if n.Call != nil && n.Call.State == store.CallEnded && n.Call.AnsweredAt > 0 {
			v.mu.Lock()
			v.usedConv = n.Call.ConversationID
			v.mu.Unlock()
		}
		return true
	case notify.KindEvent:
		if n.Event != nil && n.Event.Type == store.EventEnded {
			v.mu.Lock()
			if v.usedConv == n.Event.ConversationID {
				v.usedConv = "" // the next conversation may have its own call
			}
			v.mu.Unlock()
		}
		return true
	case notify.KindTyping:
		return n.Typing != nil && n.Typing.Author != store.AuthorVisitor
	case notify.KindRead:
		return n.Read != nil && n.Read.Reader == store.ReaderAgent
	}
	return false
}

// tick keeps the visitor's place in the queue while their socket is alive.
func (v *visitorConn) tick(ctx context.Context, _ *conn) {
	v.mu.Lock()
	waiting := v.waiting
	v.mu.Unlock()
	if waiting != "" {
		v.hub.router.StillWaiting(ctx, waiting)
	}
}

func (v *visitorConn) queued(q *notify.QueueView) {
	if q == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	switch q.State {
	case store.RequestQueued, store.RequestOffered:
		v.waiting = q.ConversationID
	default:
		if v.waiting == q.ConversationID {
			v.waiting = ""
		}
	}
}

func (v *visitorConn) revoked(context.Context) bool { return false }

func (v *visitorConn) closed() { v.hub.calls.Disconnected(v.connID) }

func (v *visitorConn) party() call.Party {
	return call.Party{VisitorID: v.visitor.ID, SiteID: v.visitor.SiteID, ConnID: v.connID}
}

// lastVideo is the group's video availability as last heard.
func (v *visitorConn) lastVideo() notify.VideoView {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.video
}

// videoSeen adjusts the group's video availability for this visitor: the site's camera policy and notification,
// and not again in a conversation that had its call.
func (v *visitorConn) videoSeen(g notify.VideoView) notify.VideoView {
	v.mu.Lock()
	defer v.mu.Unlock()
	g.Camera, g.Notification = v.site.Camera, v.site.Notification // the group's notice doesn't know the site's settings
	if v.usedConv != "" {
		g.Available, g.Reason = false, "used"
	}
	return g
}

// openAck answers conversation.open: the visitor's open conversation, or null.
type openAck struct {
	ConversationID *string `json:"conversation_id"`
}

// widgetLang keeps the languages the widget speaks; anything else is "" (the site's language applies).
func widgetLang(lang string) string {
	switch lang {
	case "en", "fr":
		return lang
	}
	return ""
}

// quote shortens and quotes client text for an error message.
func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return "\"" + s + "\""
}
