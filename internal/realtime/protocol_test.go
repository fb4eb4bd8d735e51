package realtime_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/chat"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/demo"
)

type event struct {
	ConversationID string          `json:"conversation_id"`
	Seq            int64           `json:"seq"`
	Type           string          `json:"type"`
	Author         string          `json:"author"`
	Body           string          `json:"body"`
	Data           json.RawMessage `json:"data"`
}

type ack struct {
	ConversationID string `json:"conversation_id"`
	Seq            int64  `json:"seq"`
	Duplicate      bool   `json:"duplicate"`
}

func visitor(t *testing.T, env *apptest.Env, token string, resume map[string]int64) *apptest.Socket {
	t.Helper()
	s, _, err := env.DialVisitor(t, env.URL)
	if err != nil {
		t.Fatal(err)
	}
	s.Hello(map[string]any{"token": token, "resume": resume})
	return s
}

func send(t *testing.T, s *apptest.Socket, id string, data map[string]any) ack {
	t.Helper()
	s.Send("message.send", id, data)
	for {
		f := s.Next()
		if f.Type == "event" {
			continue // the sender's own echo
		}
		if f.Type != "ack" || f.ID != id {
			t.Fatalf("got %s %s, want ack %s", f.Type, f.Data, id)
		}
		var a ack
		f.Decode(t, &a)
		return a
	}
}

func nextEvent(t *testing.T, s *apptest.Socket) event {
	t.Helper()
	for {
		f := s.Next()
		if f.Type != "event" {
			continue
		}
		var e event
		f.Decode(t, &e)
		if e.Seq != f.Seq {
			t.Fatalf("envelope seq %d != event seq %d", f.Seq, e.Seq)
		}
		return e
	}
}

func TestDuplicateClientMsgIDIsStoredOnce(t *testing.T) {
	env := apptest.Start(t, nil)
	v := visitor(t, env, env.VisitorToken(t), nil)
	first := send(t, v, "1", map[string]any{"client_msg_id": "m-1", "body": "hello"})
	again := send(t, v, "2", map[string]any{"client_msg_id": "m-1", "body": "hello"})
	if first.Duplicate || !again.Duplicate || again.Seq != first.Seq || again.ConversationID != first.ConversationID {
		t.Fatalf("first %+v, again %+v", first, again)
	}
	evs, err := env.Store.Events(t.Context(), first.ConversationID, 0, 100)
	if err != nil || len(evs) != 1 {
		t.Fatalf("stored %d events (%v), want 1", len(evs), err)
	}
}

// An agent sends 50 messages while the visitor's socket is killed; after the resume the visitor has every message
// exactly once, in order.
func TestResumeAfterKilledSocketDeliversExactlyOnceInOrder(t *testing.T) {
	// The agent sends faster than a person types: lift the per-connection limit.
	env := apptest.Start(t, func(c *config.Config) { c.Realtime.ConnRate, c.Realtime.ConnBurst = 1000, 1000 })
	token := env.VisitorToken(t)
	v := visitor(t, env, token, nil)
	first := send(t, v, "1", map[string]any{"client_msg_id": "hello", "body": "hello"})
	conv := first.ConversationID

	desk := deskOnline(t, env, demo.AnaEmail) // the waiting conversation is assigned to Ana

	got := map[int64]string{}
	var order []int64
	record := func(e event) {
		if _, dup := got[e.Seq]; dup {
			t.Fatalf("seq %d delivered twice", e.Seq)
		}
		got[e.Seq] = e.Body
		order = append(order, e.Seq)
	}
	record(event{Seq: first.Seq, Body: "hello"}) // the visitor's own message, whose echo send() skipped

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i <= 50; i++ {
			desk.Send("message.send", fmt.Sprint("a", i), map[string]any{"conversation_id": conv, "client_msg_id": fmt.Sprint("agent-", i), "body": fmt.Sprint("reply ", i)})
		}
	}()
	// Read a few, then kill the socket without a goodbye.
	for len(order) < 5 {
		record(nextEvent(t, v))
	}
	v.WS.CloseNow()
	wg.Wait()
	for acks := 0; acks < 50; {
		if f := desk.Next(); f.Type == "ack" {
			acks++
		} else if f.Type == "error" {
			t.Fatalf("agent send failed: %s", f.Data)
		}
	}

	v2 := visitor(t, env, token, map[string]int64{conv: order[len(order)-1]})
	last, _ := env.Store.Conversation(t.Context(), conv)
	for order[len(order)-1] < last.LastSeq {
		record(nextEvent(t, v2))
	}
	for i, seq := range order {
		if seq != int64(i+1) {
			t.Fatalf("delivery order %v is not 1..n", order)
		}
	}
	replies := 0
	for _, b := range got {
		if strings.HasPrefix(b, "reply ") {
			replies++
		}
	}
	if replies != 50 {
		t.Fatalf("visitor got %d of 50 replies", replies)
	}
}

func TestBadInputGetsClearErrorsAndTheConnectionSurvives(t *testing.T) {
	env := apptest.Start(t, func(c *config.Config) { c.Realtime.MaxMessageChars = 100 })
	token := env.VisitorToken(t)
	v := visitor(t, env, token, nil)
	accepted := send(t, v, "ok1", map[string]any{"client_msg_id": "ok-1", "body": "kept"})

	other := visitor(t, env, env.VisitorToken(t), nil)
	foreign := send(t, other, "o1", map[string]any{"client_msg_id": "x", "body": "someone else's"})

	cases := []struct {
		name string
		send func()
		id   string
		code int
	}{
		{"malformed JSON", func() { v.Send("", "", `{"v":1,"type":`) }, "", 100},
		{"not an object", func() { v.Send("", "", `[1,2,3]`) }, "", 100},
		{"unknown type", func() { v.Send("launch.rocket", "u1", map[string]any{}) }, "u1", 101},
		{"oversized frame", func() {
			v.Send("", "", `{"v":1,"type":"message.send","id":"big","data":{"body":"`+strings.Repeat("x", 20000)+`"}}`)
		}, "", 102},
		{"empty message", func() { v.Send("message.send", "e1", map[string]any{"client_msg_id": "e1", "body": "   "}) }, "e1", 103},
		{"message too long", func() {
			v.Send("message.send", "l1", map[string]any{"client_msg_id": "l1", "body": strings.Repeat("é", 101)})
		}, "l1", 104},
		{"someone else's conversation", func() {
			v.Send("message.send", "f1", map[string]any{"conversation_id": foreign.ConversationID, "client_msg_id": "f1", "body": "hi"})
		}, "f1", 105},
		{"unknown conversation", func() {
			v.Send("message.send", "f2", map[string]any{"conversation_id": "cv_nope", "client_msg_id": "f2", "body": "hi"})
		}, "f2", 105},
		{"wrong version", func() { v.Send("", "", `{"v":2,"type":"message.send","id":"w1","data":{}}`) }, "w1", 107},
		{"second hello", func() { v.Send("hello", "h2", map[string]any{"token": token}) }, "h2", 108},
		{"missing data", func() { v.Send("", "", `{"v":1,"type":"message.send","id":"d1"}`) }, "d1", 100},
		{"visitor ends", func() { v.Send("conversation.end", "x1", map[string]any{"conversation_id": accepted.ConversationID}) }, "x1", 110},
		{"page that is a script", func() {
			v.Send("page", "p1", map[string]any{"conversation_id": accepted.ConversationID, "url": "javascript:alert(1)", "title": "x"})
		}, "p1", 100},
		{"page of another website", func() {
			v.Send("page", "p2", map[string]any{"conversation_id": accepted.ConversationID, "url": "https://evil.example/login", "title": "Log in"})
		}, "p2", 100},
		{"page address too long", func() {
			v.Send("page", "p3", map[string]any{"conversation_id": accepted.ConversationID, "url": env.URL + "/demo/?" + strings.Repeat("q", 2100), "title": "x"})
		}, "p3", 100},
		{"page of someone else's conversation", func() {
			v.Send("page", "p4", map[string]any{"conversation_id": foreign.ConversationID, "url": env.URL + "/demo/", "title": "x"})
		}, "p4", 105},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.send()
			v.ExpectError(c.id, c.code)
		})
	}
	// The connection is alive, and what was accepted is still there.
	after := send(t, v, "ok2", map[string]any{"client_msg_id": "ok-2", "body": "still here"})
	if after.ConversationID != accepted.ConversationID || after.Seq != accepted.Seq+1 {
		t.Fatalf("after bad input: %+v (first was %+v)", after, accepted)
	}
	evs, _ := env.Store.Events(t.Context(), accepted.ConversationID, 0, 100)
	if len(evs) != 2 || evs[0].Body != "kept" || evs[1].Body != "still here" {
		t.Fatalf("stored events %+v", evs)
	}
}

func TestRateLimit(t *testing.T) {
	env := apptest.Start(t, func(c *config.Config) { c.Realtime.ConnBurst = 3; c.Realtime.ConnRate = 0.5 })
	v := visitor(t, env, env.VisitorToken(t), nil)
	for i := 0; i < 3; i++ {
		send(t, v, fmt.Sprint(i), map[string]any{"client_msg_id": fmt.Sprint("m", i), "body": "hi"})
	}
	v.Send("message.send", "over", map[string]any{"client_msg_id": "m-over", "body": "too fast"})
	for {
		f := v.Next()
		if f.Type == "event" {
			continue
		}
		var e struct {
			Code         int   `json:"code"`
			Retry        bool  `json:"retry"`
			RetryAfterMS int64 `json:"retry_after_ms"`
		}
		f.Decode(t, &e)
		if f.Type != "error" || e.Code != 109 || !e.Retry || e.RetryAfterMS <= 0 {
			t.Fatalf("got %s %s, want error 109 with a retry delay", f.Type, f.Data)
		}
		break
	}
}

func TestRefusedSockets(t *testing.T) {
	env := apptest.Start(t, nil)
	t.Run("disallowed origin", func(t *testing.T) {
		_, resp, err := env.DialVisitor(t, "https://evil.example")
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("got %v %v, want 403", resp, err)
		}
	})
	t.Run("allowed site origin", func(t *testing.T) {
		s, _, err := env.DialVisitor(t, env.Site.AllowedOrigins[0])
		if err != nil {
			t.Fatal(err)
		}
		s.WS.CloseNow()
	})
	t.Run("unknown site", func(t *testing.T) {
		_, resp, err := env.Dial(t, "/ws/visitor?site=site_nope", env.URL, nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
			t.Fatalf("got %v %v, want 404", resp, err)
		}
	})
	t.Run("desk without session", func(t *testing.T) {
		_, resp, err := env.DialDesk(t, env.NewHTTP(t))
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("got %v %v, want 401", resp, err)
		}
	})
	tokenCases := map[string]struct {
		token string
		code  websocket.StatusCode
	}{
		"forged token":  {"dl94fHN0fDk5OTk5OTk5OTk.AAAA", 4500},
		"empty token":   {"", 4500},
		"expired token": {expiredToken(t, env), 4501},
		"other site's":  {otherSiteToken(t, env), 4500},
	}
	for name, c := range tokenCases {
		t.Run(name, func(t *testing.T) {
			s, _, err := env.DialVisitor(t, env.URL)
			if err != nil {
				t.Fatal(err)
			}
			s.Send("hello", "h", map[string]any{"token": c.token})
			if code := s.ExpectClose(); code != c.code {
				t.Fatalf("closed with %d, want %d", code, c.code)
			}
		})
	}
	t.Run("no hello first", func(t *testing.T) {
		s, _, err := env.DialVisitor(t, env.URL)
		if err != nil {
			t.Fatal(err)
		}
		s.Send("message.send", "m", map[string]any{"body": "hi"})
		if code := s.ExpectClose(); code != 4503 {
			t.Fatalf("closed with %d, want 4503", code)
		}
	})
	// The server is still up.
	v := visitor(t, env, env.VisitorToken(t), nil)
	send(t, v, "1", map[string]any{"client_msg_id": "a", "body": "still up"})
}

// decodeJSON is a shortcut for tests reading raw ack data.
func decodeJSON(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatal(err)
	}
}

func TestPasswordChangeEndsOtherSessionsAndSockets(t *testing.T) {
	env := apptest.Start(t, nil)
	laptop, phone := env.NewHTTP(t), env.NewHTTP(t)
	laptop.Login(demo.BenEmail, demo.Password)
	phone.Login(demo.BenEmail, demo.Password)
	sock, _, err := env.DialDesk(t, phone)
	if err != nil {
		t.Fatal(err)
	}
	var welcome struct {
		Account struct{ Email string } `json:"account"`
	}
	decodeJSON(t, sock.Hello(map[string]any{}), &welcome)
	if welcome.Account.Email != demo.BenEmail {
		t.Fatalf("desk welcome %+v", welcome)
	}
	if st := laptop.Do("POST", "/api/auth/password", map[string]string{"current_password": demo.Password, "new_password": "a-new-password"}, nil); st != 204 {
		t.Fatalf("password change: %d", st)
	}
	if code := sock.ExpectClose(); code != 4502 {
		t.Fatalf("phone's socket closed with %d, want 4502", code)
	}
	if st := phone.Do("GET", "/api/auth/me", nil, nil); st != 401 {
		t.Fatalf("phone's session still works: %d", st)
	}
	if st := laptop.Do("GET", "/api/auth/me", nil, nil); st != 200 {
		t.Fatalf("laptop's session ended too: %d", st)
	}
}

func signer(t *testing.T, env *apptest.Env) *auth.VisitorSigner {
	t.Helper()
	secret, err := env.Store.Setting(t.Context(), "visitor_token_secret")
	if err != nil {
		t.Fatal(err)
	}
	return auth.NewVisitorSigner([]byte(secret))
}

func expiredToken(t *testing.T, env *apptest.Env) string {
	return signer(t, env).Issue("v_late", env.Site.ID, time.Now().Add(-time.Minute))
}

func otherSiteToken(t *testing.T, env *apptest.Env) string {
	return signer(t, env).Issue("v_other", "st_other", time.Now().Add(time.Hour))
}

// deskOnline logs an agent in, opens their desk and makes them available for chat.
func deskOnline(t *testing.T, env *apptest.Env, email string) *apptest.Socket {
	t.Helper()
	desk := env.OpenDesk(t, email)
	desk.Send("presence.set", "p", map[string]any{"channel": "chat", "status": "available"})
	for f := desk.Next(); f.Type != "ack" || f.ID != "p"; f = desk.Next() {
		// events of conversations assigned on the way
	}
	return desk
}

// The widget says which page of the site the visitor is on: the desks get it in the conversation's summary, with a
// long title cut and its line breaks folded.
func TestTheVisitorsPageReachesTheDesk(t *testing.T) {
	env := apptest.Start(t, nil)
	v := visitor(t, env, env.VisitorToken(t), nil)
	conv := send(t, v, "m1", map[string]any{"client_msg_id": "m1", "body": "Is this in stock?"}).ConversationID

	desk := env.OpenDesk(t, demo.AnaEmail)
	delete(desk.Skip, "conversation") // the summaries are what this test reads

	page := env.URL + "/demo/oak-table?colour=natural#reviews"
	v.Send("page", "p1", map[string]any{"conversation_id": conv, "url": page, "title": "Oak table\n" + strings.Repeat("é", 300)})
	v.Expect("ack", "p1")
	sm := nextSummary(t, desk, conv, func(sm struct {
		PageURL   string `json:"page_url"`
		PageTitle string `json:"page_title"`
	}) bool {
		return sm.PageURL != ""
	})
	if sm.PageURL != page || !strings.HasPrefix(sm.PageTitle, "Oak table éé") || len([]rune(sm.PageTitle)) != 200 {
		t.Fatalf("the desk's summary: %+v", sm)
	}
	acc, err := env.Store.AccountByEmail(t.Context(), demo.AnaEmail)
	if err != nil {
		t.Fatal(err)
	}
	list, err := env.Store.DeskConversations(t.Context(), acc.ID)
	if err != nil || len(list) == 0 || list[0].PageURL != page {
		t.Fatalf("the desk's list: %+v %v", list, err)
	}
}

// Only a conversation's agent may transfer it: Ben's attempt on Ana's gets a clear error and changes nothing, and
// Ana's own transfer is acknowledged.
func TestOnlyTheAgentTransfersTheirConversation(t *testing.T) {
	env := apptest.Start(t, nil)
	ana := deskOnline(t, env, demo.AnaEmail)
	v := visitor(t, env, env.VisitorToken(t), nil)
	conv := send(t, v, "m1", map[string]any{"client_msg_id": "m1", "body": "hello"}).ConversationID
	ben := env.OpenDesk(t, demo.BenEmail)

	ben.Send("conversation.transfer", "t1", map[string]any{"conversation_id": conv})
	ben.ExpectError("t1", 105)
	ben.Send("conversation.transfer", "t2", map[string]any{"conversation_id": "cv_nope"})
	ben.ExpectError("t2", 105)
	if c, err := env.Store.Conversation(t.Context(), conv); err != nil || c.AgentID == "" {
		t.Fatalf("after Ben's attempts: %+v %v", c, err)
	}
	ana.Send("conversation.transfer", "t3", map[string]any{"conversation_id": conv})
	for f := ana.Next(); f.Type != "ack" || f.ID != "t3"; f = ana.Next() {
		if f.Type == "error" {
			t.Fatalf("Ana's transfer: %s", f.Data)
		}
	}
	if c, err := env.Store.Conversation(t.Context(), conv); err != nil || c.AgentID != "" {
		t.Fatalf("after Ana's transfer: %+v %v", c, err)
	}
}

// The desk lists the colleagues a conversation could go to, and hands it to one by name. A colleague who is not
// available, is the agent, or is unknown gets a clear error, and the conversation stays the agent's.
func TestATransferToAColleagueByName(t *testing.T) {
	env := apptest.Start(t, nil)
	ana := deskOnline(t, env, demo.AnaEmail)
	v := visitor(t, env, env.VisitorToken(t), nil)
	conv := send(t, v, "m1", map[string]any{"client_msg_id": "m1", "body": "hello"}).ConversationID
	ben := env.OpenDesk(t, demo.BenEmail)
	benAcc, err := env.Store.AccountByEmail(t.Context(), demo.BenEmail)
	if err != nil {
		t.Fatal(err)
	}

	ana.Send("colleagues", "c1", map[string]any{"conversation_id": conv})
	var list struct {
		Colleagues []struct {
			AgentID   string `json:"agent_id"`
			Name      string `json:"name"`
			Chat      string `json:"chat"`
			FreeSlots int    `json:"free_slots"`
		} `json:"colleagues"`
	}
	nextAck(t, ana, "c1").Decode(t, &list)
	if len(list.Colleagues) != 1 || list.Colleagues[0].AgentID != benAcc.ID || list.Colleagues[0].Chat != "offline" {
		t.Fatalf("Ana's colleagues: %+v", list.Colleagues)
	}
	ben.Send("colleagues", "c2", map[string]any{"conversation_id": conv})
	ben.ExpectError("c2", 105)

	for id, tc := range map[string]struct {
		to   string
		code int
	}{"t1": {benAcc.ID, 112}, "t2": {"ac_nobody", 100}} {
		ana.Send("conversation.transfer", id, map[string]any{"conversation_id": conv, "agent_id": tc.to})
		if got := errorCode(t, ana, id); got != tc.code {
			t.Fatalf("a transfer to %s: error %d, want %d", tc.to, got, tc.code)
		}
	}
	if c, err := env.Store.Conversation(t.Context(), conv); err != nil || c.AgentID == "" || c.AgentID == benAcc.ID {
		t.Fatalf("after the refused transfers: %+v %v", c, err)
	}

	ben.Send("presence.set", "p", map[string]any{"channel": "chat", "status": "available"})
	ben.Expect("ack", "p")
	ana.Send("conversation.transfer", "t3", map[string]any{"conversation_id": conv, "agent_id": benAcc.ID})
	nextAck(t, ana, "t3")
	if c, err := env.Store.Conversation(t.Context(), conv); err != nil || c.AgentID != benAcc.ID {
		t.Fatalf("after the transfer to Ben: %+v %v", c, err)
	}
	// The visitor is told who they are passed to.
	for {
		ev := nextEvent(t, v)
		if ev.Type == "transferred" {
			if !strings.Contains(string(ev.Data), benAcc.Name) {
				t.Fatalf("the visitor's transferred event: %+v", ev)
			}
			break
		}
	}
}

// nextAck waits for the ack of request id, passing over other frames; an error answering it fails the test.
func nextAck(t *testing.T, s *apptest.Socket, id string) apptest.Frame {
	t.Helper()
	for {
		f := s.Next()
		if f.ID == id && f.Type == "error" {
			t.Fatalf("request %s: %s", id, f.Data)
		}
		if f.ID == id && f.Type == "ack" {
			return f
		}
	}
}

// Notes go to the desks, never to the visitor: Ana's note reaches Ben's desk while the conversation she handed over
// waits for him, and the visitor's socket gets nothing of it (nor of Ben's) up to Ben's reply that follows. Bad
// notes get clear errors, and a note sent again is stored once.
func TestNotesReachTheDesksOnly(t *testing.T) {
	env := apptest.Start(t, nil)
	v := visitor(t, env, env.VisitorToken(t), nil)
	conv := send(t, v, "m1", map[string]any{"client_msg_id": "m1", "body": "hello"}).ConversationID
	ben := env.OpenDesk(t, demo.BenEmail)
	ana := deskOnline(t, env, demo.AnaEmail) // takes the waiting conversation
	ana.Send("conversation.transfer", "t1", map[string]any{"conversation_id": conv})
	nextAck(t, ana, "t1")
	nextEvent(t, v) // Ana joined
	nextEvent(t, v) // Ana transferred it

	// While it waits, Ben (of the group) writes a note.
	ben.Send("note.add", "n1", map[string]any{"conversation_id": conv, "client_note_id": "cn1", "body": "  Asked about oak finishes  "})
	var got struct {
		Note struct {
			NoteID     string `json:"note_id"`
			AuthorName string `json:"author_name"`
			Body       string `json:"body"`
		} `json:"note"`
		Duplicate bool `json:"duplicate"`
	}
	nextAck(t, ben, "n1").Decode(t, &got)
	if got.Note.NoteID == "" || got.Note.Body != "Asked about oak finishes" || got.Note.AuthorName != "Ben" || got.Duplicate {
		t.Fatalf("Ben's note: %+v", got)
	}
	ben.Send("note.add", "n2", map[string]any{"conversation_id": conv, "client_note_id": "cn1", "body": "Asked about oak finishes"})
	var again struct {
		Note struct {
			NoteID string `json:"note_id"`
		} `json:"note"`
		Duplicate bool `json:"duplicate"`
	}
	nextAck(t, ben, "n2").Decode(t, &again)
	if again.Note.NoteID != got.Note.NoteID || !again.Duplicate {
		t.Fatalf("the note sent again: %+v", again)
	}
	for id, tc := range map[string]struct {
		data map[string]any
		code int
	}{
		"b1": {map[string]any{"conversation_id": conv, "body": "   "}, 103},
		"b2": {map[string]any{"conversation_id": conv, "body": strings.Repeat("x", 4001)}, 104},
		"b3": {map[string]any{"conversation_id": "cv_nope", "body": "x"}, 105},
		"b4": {map[string]any{"conversation_id": conv, "client_note_id": strings.Repeat("x", 65), "body": "x"}, 100},
		"b5": {map[string]any{"conversation_id": 12}, 100},
	} {
		ben.Send("note.add", id, tc.data)
		if code := errorCode(t, ben, id); code != tc.code {
			t.Fatalf("note %v: error %d, want %d", tc.data, code, tc.code)
		}
	}
	// Ana, who handed it over, may still note something for whoever takes it: Ben's desk gets it live.
	ana.Send("note.add", "a1", map[string]any{"conversation_id": conv, "body": "Promised a call back before 6pm"})
	nextAck(t, ana, "a1")
	for {
		f := ben.Next()
		if f.Type == "note" {
			if !strings.Contains(string(f.Data), "Promised a call back") || !strings.Contains(string(f.Data), conv) {
				t.Fatalf("Ben's desk got the note %s", f.Data)
			}
			break
		}
	}

	// Ben takes it and writes: his reply is the visitor's next event; no note ever reached the visitor.
	ben.Send("conversation.claim", "c1", map[string]any{"conversation_id": conv})
	nextAck(t, ben, "c1")
	ben.Send("message.send", "r1", map[string]any{"conversation_id": conv, "client_msg_id": "r1", "body": "Ben here"})
	nextAck(t, ben, "r1")
	v.Skip = map[string]bool{}
	for {
		f := v.Next()
		if f.Type == "note" || strings.Contains(string(f.Data), "oak finishes") || strings.Contains(string(f.Data), "call back") {
			t.Fatalf("the visitor got %s %s", f.Type, f.Data)
		}
		if f.Type == "event" && strings.Contains(string(f.Data), "Ben here") {
			break
		}
	}

	// The desk's transcript over HTTP carries the notes.
	h := env.NewHTTP(t)
	h.Login(demo.BenEmail, demo.Password)
	var tr struct {
		Notes []struct {
			Body string `json:"body"`
		} `json:"notes"`
	}
	if st := h.Do("GET", "/api/desk/conversations/"+conv+"/events", nil, &tr); st != 200 || len(tr.Notes) != 2 || tr.Notes[0].Body != "Asked about oak finishes" {
		t.Fatalf("the desk's transcript: %d %+v", st, tr)
	}
}

// The visitor rates the conversation once Ana has ended it: Ana's desk gets the rating with the conversation's
// summary. Rating too early, twice, someone else's conversation, or with a bad score or comment gets a clear error.
func TestTheVisitorRatesTheConversation(t *testing.T) {
	env := apptest.Start(t, nil)
	ana := deskOnline(t, env, demo.AnaEmail)
	v := visitor(t, env, env.VisitorToken(t), nil)
	conv := send(t, v, "m1", map[string]any{"client_msg_id": "m1", "body": "hello"}).ConversationID
	other := visitor(t, env, env.VisitorToken(t), nil)

	v.Send("rating", "r0", map[string]any{"conversation_id": conv, "score": 5})
	if code := errorCode(t, v, "r0"); code != 111 {
		t.Fatalf("a rating while the conversation is open: error %d", code)
	}
	ana.Send("conversation.end", "e1", map[string]any{"conversation_id": conv})
	nextAck(t, ana, "e1")

	for id, tc := range map[string]struct {
		sock *apptest.Socket
		data map[string]any
		code int
	}{
		"b1": {v, map[string]any{"conversation_id": conv, "score": 0}, 100},
		"b2": {v, map[string]any{"conversation_id": conv, "score": 6}, 100},
		"b3": {v, map[string]any{"conversation_id": conv, "score": 4.5}, 100},
		"b4": {v, map[string]any{"conversation_id": conv, "score": "5"}, 100},
		"b5": {v, map[string]any{"conversation_id": conv, "score": 5, "comment": strings.Repeat("é", 1001)}, 100},
		"b6": {other, map[string]any{"conversation_id": conv, "score": 1}, 105},
		"b7": {v, map[string]any{"conversation_id": "cv_nope", "score": 1}, 105},
	} {
		tc.sock.Send("rating", id, tc.data)
		if code := errorCode(t, tc.sock, id); code != tc.code {
			t.Fatalf("rating %v: error %d, want %d", tc.data, code, tc.code)
		}
	}

	v.Send("rating", "r1", map[string]any{"conversation_id": conv, "score": 5, "comment": "  Ana found the right table!  "})
	nextAck(t, v, "r1")
	ana.Skip = map[string]bool{}
	rated := nextSummary(t, ana, conv, func(sm struct {
		Rating *struct {
			Score   int    `json:"score"`
			Comment string `json:"comment"`
		} `json:"rating"`
	}) bool {
		return sm.Rating != nil
	})
	if rated.Rating.Score != 5 || rated.Rating.Comment != "Ana found the right table!" {
		t.Fatalf("Ana's desk got the rating %+v", *rated.Rating)
	}
	v.Send("rating", "r2", map[string]any{"conversation_id": conv, "score": 1})
	if code := errorCode(t, v, "r2"); code != 111 {
		t.Fatalf("a second rating: error %d", code)
	}

	// The supervisors' figures count it.
	h := env.NewHTTP(t)
	h.Login(demo.AnaEmail, demo.Password)
	var stats struct {
		Groups []struct {
			Ratings struct {
				Count   int      `json:"count"`
				Average *float64 `json:"average"`
			} `json:"ratings"`
		} `json:"groups"`
	}
	if st := h.Do("GET", "/api/supervisor/stats", nil, &stats); st != 200 || len(stats.Groups) != 1 ||
		stats.Groups[0].Ratings.Count != 1 || stats.Groups[0].Ratings.Average == nil || *stats.Groups[0].Ratings.Average != 5 {
		t.Fatalf("supervisor stats: %d %+v", st, stats)
	}
}

// The website vouches for its signed-in visitor: with the right hash, the agent's desk shows the visitor's name and
// address; a wrong hash, someone else's address, or a malformed one is refused, and nothing is kept.
func TestTheWebsiteIdentifiesItsVisitor(t *testing.T) {
	env := apptest.Start(t, nil)
	secret := env.IdentitySecret(t)
	v := visitor(t, env, env.VisitorToken(t), nil)
	conv := send(t, v, "m1", map[string]any{"client_msg_id": "m1", "body": "hello"}).ConversationID
	desk := env.OpenDesk(t, demo.AnaEmail)
	delete(desk.Skip, "conversation")

	const email = "claire.martin@example.com"
	for id, data := range map[string]map[string]any{
		"b1": {"email": email, "name": "Claire", "hash": chat.SignIdentity("not the secret", email)},
		"b2": {"email": "someone.else@example.com", "name": "Claire", "hash": chat.SignIdentity(secret, email)},
		"b3": {"email": "Claire <" + email + ">", "name": "Claire", "hash": chat.SignIdentity(secret, "Claire <"+email+">")},
		"b4": {"email": email, "name": strings.Repeat("C", 101), "hash": chat.SignIdentity(secret, email)},
		"b5": {"email": email, "name": "Claire", "hash": "zz"},
	} {
		v.Send("identify", id, data)
		if code := errorCode(t, v, id); code != 100 {
			t.Fatalf("identify %v: error %d, want 100", data, code)
		}
	}
	if sm, err := env.Store.ConversationSummary(t.Context(), conv); err != nil || sm.VisitorEmail != "" {
		t.Fatalf("a refused identity was kept: %+v %v", sm, err)
	}

	v.Send("identify", "ok", map[string]any{"email": email, "name": "  Claire   Martin ", "hash": chat.SignIdentity(secret, email)})
	nextAck(t, v, "ok")
	sm := nextSummary(t, desk, conv, func(sm struct {
		VisitorLabel string `json:"visitor_label"`
		VisitorEmail string `json:"visitor_email"`
	}) bool {
		return sm.VisitorEmail != ""
	})
	if sm.VisitorEmail != email || sm.VisitorLabel != "Claire Martin" {
		t.Fatalf("the desk's summary: %+v", sm)
	}
}

// nextSummary waits for a `conversation` frame about conv whose summary, decoded into T, is what ok looks for.
func nextSummary[T any](t *testing.T, desk *apptest.Socket, conv string, ok func(T) bool) T {
	t.Helper()
	for {
		f := desk.Next()
		if f.Type != "conversation" {
			continue
		}
		var id struct {
			ID string `json:"id"`
		}
		f.Decode(t, &id)
		var sm T
		f.Decode(t, &sm)
		if id.ID == conv && ok(sm) {
			return sm
		}
	}
}
