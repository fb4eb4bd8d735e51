package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// stores opens every store the conformance suite runs against: SQLite always, PostgreSQL when
// PARLEY_TEST_POSTGRES_URL is set. Each PostgreSQL run gets its own schema, dropped afterwards.
func stores(t *testing.T) map[string]func(t *testing.T) *Store {
	out := map[string]func(t *testing.T) *Store{
		"sqlite": func(t *testing.T) *Store { return openTest(t, "", t.TempDir()) },
	}
	if url := os.Getenv("PARLEY_TEST_POSTGRES_URL"); url != "" {
		out["postgres"] = func(t *testing.T) *Store { return OpenTestPostgres(t, url) }
	}
	return out
}

func openTest(t *testing.T, url, dir string) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, url, dir, 8)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// forEachStore runs the test body against every store.
func forEachStore(t *testing.T, body func(t *testing.T, s *Store)) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) { body(t, open(t)) })
	}
}

type fixture struct {
	site, otherSite   Site
	ana, ben, outside Account
}

func seed(t *testing.T, s *Store) fixture {
	t.Helper()
	ctx := context.Background()
	mk := func(email, name string) Account {
		a, err := s.CreateAccount(ctx, Account{Email: email, Name: name, Role: RoleAgent, PasswordHash: "x", ChatCapacity: 3})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	f := fixture{ana: mk("ana@x.test", "Ana"), ben: mk("ben@x.test", "Ben"), outside: mk("out@x.test", "Out")}
	g, err := s.CreateGroup(ctx, Group{Name: "Support", Members: []string{f.ana.ID, f.ben.ID}})
	if err != nil {
		t.Fatal(err)
	}
	g2, err := s.CreateGroup(ctx, Group{Name: "Other", Members: []string{f.outside.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if f.site, err = s.CreateSite(ctx, Site{Name: "Shop", AllowedOrigins: []string{"https://shop.test"}, GroupID: g.ID}); err != nil {
		t.Fatal(err)
	}
	if f.otherSite, err = s.CreateSite(ctx, Site{Name: "Other", GroupID: g2.ID}); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestMigrateIsIdempotent(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		applied, err := s.Migrate(context.Background())
		if err != nil || len(applied) != 0 {
			t.Fatalf("second migrate applied %v, %v", applied, err)
		}
	})
}

func TestAccountsAndSessions(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		if _, err := s.CreateAccount(ctx, Account{Email: "ana@x.test", Name: "Again", Role: RoleAgent, PasswordHash: "x"}); !errors.Is(err, ErrConflict) {
			t.Fatalf("duplicate email: got %v, want ErrConflict", err)
		}
		if _, err := s.AccountByEmail(ctx, "nobody@x.test"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown email: got %v", err)
		}
		now := time.Now()
		for _, id := range []string{"s1", "s2", "s3"} {
			if err := s.CreateSession(ctx, Session{ID: id, AccountID: f.ana.ID, CSRFToken: "c" + id, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		se, a, err := s.SessionAccount(ctx, "s1", now)
		if err != nil || a.ID != f.ana.ID || se.CSRFToken != "cs1" {
			t.Fatalf("session: %+v %+v %v", se, a, err)
		}
		if _, _, err := s.SessionAccount(ctx, "s1", now.Add(2*time.Hour)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("expired session: got %v", err)
		}
		if err := s.DeleteSessions(ctx, f.ana.ID, "s2"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionAccount(ctx, "s1", now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("revoked session: got %v", err)
		}
		if _, _, err := s.SessionAccount(ctx, "s2", now); err != nil {
			t.Fatalf("kept session: %v", err)
		}
		f.ana.Disabled = true
		if _, err := s.UpdateAccount(ctx, f.ana); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionAccount(ctx, "s2", now); !errors.Is(err, ErrDisabled) {
			t.Fatalf("disabled account: got %v", err)
		}
		groups, err := s.AccountGroups(ctx, f.ben.ID)
		if err != nil || len(groups) != 1 || groups[0] != "Support" {
			t.Fatalf("groups: %v %v", groups, err)
		}
	})
}

func TestSites(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		got, err := s.SiteByPublicID(ctx, f.site.PublicID)
		if err != nil || got.Name != "Shop" || len(got.AllowedOrigins) != 1 || got.AllowedOrigins[0] != "https://shop.test" {
			t.Fatalf("site: %+v %v", got, err)
		}
		got.AllowedOrigins = append(got.AllowedOrigins, "https://www.shop.test")
		if _, err := s.UpdateSite(ctx, got); err != nil {
			t.Fatal(err)
		}
		got, _ = s.Site(ctx, f.site.ID)
		if len(got.AllowedOrigins) != 2 {
			t.Fatalf("origins after update: %v", got.AllowedOrigins)
		}
		if _, err := s.SiteByPublicID(ctx, "site_nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown site: %v", err)
		}
		if _, err := s.CreateSite(ctx, Site{Name: "Shop"}); !errors.Is(err, ErrConflict) {
			t.Fatalf("duplicate site name: %v", err)
		}
	})
}

func visitorMsg(f fixture, visitor, cmid, body string) VisitorMessage {
	return VisitorMessage{SiteID: f.site.ID, VisitorID: visitor, VisitorName: "Visitor", ClientMsgID: cmid, Body: body, At: time.Now()}
}

// opened has visitor v1 say hello on the fixture's site, and returns the conversation that opens.
func opened(t *testing.T, s *Store, f fixture) string {
	t.Helper()
	res, err := s.AppendVisitorMessage(context.Background(), visitorMsg(f, "v1", "m1", "hello"))
	if err != nil {
		t.Fatal(err)
	}
	return res.Conversation.ID
}

func TestVisitorMessagesOpenOneConversation(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		first, err := s.AppendVisitorMessage(ctx, visitorMsg(f, "v1", "m1", "hello"))
		if err != nil || !first.Created || first.Events[0].Seq != 1 {
			t.Fatalf("first message: %+v %v", first, err)
		}
		second, err := s.AppendVisitorMessage(ctx, visitorMsg(f, "v1", "m2", "again"))
		if err != nil || second.Created || second.Conversation.ID != first.Conversation.ID || second.Events[0].Seq != 2 {
			t.Fatalf("second message: %+v %v", second, err)
		}
		dup, err := s.AppendVisitorMessage(ctx, visitorMsg(f, "v1", "m1", "hello"))
		if err != nil || !dup.Duplicate || dup.Events[0].Seq != 1 {
			t.Fatalf("duplicate: %+v %v", dup, err)
		}
		evs, _ := s.Events(ctx, first.Conversation.ID, 0, 100)
		if len(evs) != 2 {
			t.Fatalf("stored %d events, want 2", len(evs))
		}
		// Another visitor may not write to this conversation.
		m := visitorMsg(f, "v2", "m1", "intrude")
		m.ConversationID = first.Conversation.ID
		if _, err := s.AppendVisitorMessage(ctx, m); !errors.Is(err, ErrNotFound) {
			t.Fatalf("foreign conversation: %v", err)
		}
	})
}

func TestConcurrentFirstMessagesShareOneConversation(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		const n = 20
		var wg sync.WaitGroup
		convs := make(chan string, n)
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				a, err := s.AppendVisitorMessage(ctx, visitorMsg(f, "v1", fmt.Sprint("m", i), "hi"))
				if err != nil {
					errs <- err
					return
				}
				convs <- a.Conversation.ID
			}(i)
		}
		wg.Wait()
		close(convs)
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for id := range convs {
			ids[id] = true
		}
		if len(ids) != 1 {
			t.Fatalf("%d conversations opened, want 1", len(ids))
		}
		for id := range ids {
			evs, _ := s.Events(ctx, id, 0, 100)
			seqs := make([]int, len(evs))
			for i, e := range evs {
				seqs[i] = int(e.Seq)
			}
			sort.Ints(seqs)
			for i, sq := range seqs {
				if sq != i+1 {
					t.Fatalf("seqs %v have a gap or duplicate", seqs)
				}
			}
			if len(seqs) != n {
				t.Fatalf("%d events, want %d", len(seqs), n)
			}
		}
	})
}

func TestAgentAccessClaimAndEnd(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		id := opened(t, s, f)
		reply := func(a Account, cmid string) error {
			_, err := s.AppendAgentMessage(ctx, AgentMessage{AgentID: a.ID, AgentName: a.Name, ConversationID: id, ClientMsgID: cmid, Body: "x", At: time.Now()})
			return err
		}
		// Nobody may write to a conversation that isn't theirs, even a waiting one of their group.
		if err := reply(f.ana, "a0"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("reply to a waiting conversation: %v", err)
		}
		list, _ := s.DeskConversations(ctx, f.ben.ID)
		if len(list) != 1 || list[0].ID != id || list[0].LastBody != "hello" {
			t.Fatalf("ben's desk: %+v", list)
		}
		if _, err := s.Claim(ctx, id, f.outside.ID, time.Now()); !errors.Is(err, ErrNotFound) {
			t.Fatalf("claim by an agent outside the site's groups: %v", err)
		}
		d, err := s.Claim(ctx, id, f.ana.ID, time.Now())
		if err != nil || d.Assigned == nil || d.Assigned.Events[0].Type != EventAssigned || d.Assigned.Events[0].Seq != 2 {
			t.Fatalf("ana's claim: %+v %v", d, err)
		}
		if _, err := s.Claim(ctx, id, f.ben.ID, time.Now()); !errors.Is(err, ErrConflict) {
			t.Fatalf("second claim: %v", err)
		}
		if err := reply(f.ana, "a1"); err != nil {
			t.Fatal(err)
		}
		if err := reply(f.ben, "b1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("ben on ana's conversation: %v", err)
		}
		if list, _ := s.DeskConversations(ctx, f.ben.ID); len(list) != 0 {
			t.Fatalf("ben still sees ana's conversation: %+v", list)
		}
		end, err := s.EndConversation(ctx, id, f.ana.ID, "Ana", time.Now())
		if err != nil || end.Conversation.Status != StatusClosed || end.Events[0].Type != EventEnded {
			t.Fatalf("end: %+v %v", end, err)
		}
		if _, err := s.EndConversation(ctx, id, f.ana.ID, "Ana", time.Now()); !errors.Is(err, ErrClosed) {
			t.Fatalf("ending twice: %v", err)
		}
		m := visitorMsg(f, "v1", "m2", "still there?")
		m.ConversationID = id
		if _, err := s.AppendVisitorMessage(ctx, m); !errors.Is(err, ErrClosed) {
			t.Fatalf("message to closed conversation: %v", err)
		}
		// Without a conversation id, the visitor's next message opens a new one.
		n, err := s.AppendVisitorMessage(ctx, visitorMsg(f, "v1", "m3", "new question"))
		if err != nil || !n.Created || n.Conversation.ID == id {
			t.Fatalf("new conversation: %+v %v", n, err)
		}
		list, _ = s.DeskConversations(ctx, f.ana.ID)
		if len(list) != 2 || list[0].ID != n.Conversation.ID || list[1].Status != StatusClosed {
			t.Fatalf("ana's desk after end: %+v", list)
		}
	})
}

func TestSettingOrInitKeepsTheFirstValue(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a, err := s.SettingOrInit(ctx, "secret", "one")
		if err != nil || a != "one" {
			t.Fatal(a, err)
		}
		if b, _ := s.SettingOrInit(ctx, "secret", "two"); b != "one" {
			t.Fatalf("second init replaced the value: %q", b)
		}
	})
}

func TestRebind(t *testing.T) {
	s := &Store{dialect: postgresDialect}
	if got := s.rebind("a = ? AND b = ?"); got != "a = $1 AND b = $2" {
		t.Fatal(got)
	}
	if got := strings.Count((&Store{}).rebind("?, ?"), "?"); got != 2 {
		t.Fatal("sqlite query rebound")
	}
}

// Statements are prepared once and reused, also inside transactions; a store with a single connection (the
// migrate command's) still runs its transactions, since preparing would need a second connection.
func TestPreparedStatementsAndOneConnection(t *testing.T) {
	for _, conns := range []int{1, 4} {
		t.Run(fmt.Sprintf("%d connections", conns), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			s, err := Open(ctx, "", t.TempDir(), conns)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			f := seed(t, s)
			for i := range 3 {
				res, err := s.AppendVisitorMessage(ctx, VisitorMessage{SiteID: f.site.ID, VisitorID: fmt.Sprintf("v%d", i), VisitorName: "Visitor",
					Body: "hello", At: time.Now()})
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				c, err := s.Conversation(ctx, res.Conversation.ID)
				if err != nil || c.LastSeq != res.Conversation.LastSeq {
					t.Fatalf("read back: %+v %v", c, err)
				}
			}
			if conns > 1 && s.nstmts.Load() == 0 {
				t.Fatal("no statement was prepared")
			}
		})
	}
}

// A conversation with nothing said for long is closed with an "ended" event that says why, unless a call is under
// way in it or its visitor waits in a queue; one that came back to life between the search and the close stays open.
func TestInactiveConversationsAreClosed(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		now := time.Now()
		old := now.Add(-time.Hour)
		open := func(visitor string, at time.Time) string {
			m := visitorMsg(f, visitor, "m-"+visitor, "hello")
			m.At = at
			res, err := s.AppendVisitorMessage(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			return res.Conversation.ID
		}
		idle, recent, inCall, queued, revived := open("v-idle", old), open("v-recent", now.Add(-time.Minute)), open("v-call", old), open("v-queued", old), open("v-revived", old)
		leftMessage := open("v-message", old)
		if err := s.SetContact(ctx, leftMessage, "v-message", "v@example.com"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Claim(ctx, idle, f.ana.ID, old); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateCall(ctx, inCall, "v-call", old); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateRequest(ctx, queued, ChannelChat, f.site.GroupID, 0, old); err != nil {
			t.Fatal(err)
		}
		before := now.Add(-30 * time.Minute)
		ids, err := s.InactiveConversations(ctx, before, 10)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(ids)
		want := []string{idle, revived}
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Fatalf("inactive: %v, want %v (recent %s, in a call %s, queued %s, message left %s)", ids, want, recent, inCall, queued, leftMessage)
		}

		// The visitor of one speaks up after the search: that one stays open.
		m := visitorMsg(f, "v-revived", "m-again", "still here")
		m.ConversationID, m.At = revived, now
		if _, err := s.AppendVisitorMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CloseInactive(ctx, revived, before, now); !errors.Is(err, ErrClosed) {
			t.Fatalf("closing a conversation that came back to life: %v", err)
		}

		res, err := s.CloseInactive(ctx, idle, before, now)
		if err != nil || res.Conversation.Status != StatusClosed || len(res.Events) != 1 {
			t.Fatalf("close: %+v %v", res, err)
		}
		e := res.Events[0]
		if e.Type != EventEnded || e.Author != AuthorSystem || e.Data != `{"reason":"inactive","after_seconds":1800}` {
			t.Fatalf("the ended event: %+v", e)
		}
		if _, err := s.CloseInactive(ctx, idle, before, now); !errors.Is(err, ErrClosed) {
			t.Fatalf("closing twice: %v", err)
		}
		if c, _ := s.Conversation(ctx, revived); c.Status != StatusOpen {
			t.Fatalf("the revived conversation is %s", c.Status)
		}
		if ids, _ := s.InactiveConversations(ctx, before, 10); len(ids) != 0 {
			t.Fatalf("still inactive: %v", ids)
		}
	})
}

// The page a visitor is on is kept on their open conversation and shown in its summary; nobody else's
// conversation, and no closed one, takes it.
func TestVisitorPage(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		id := opened(t, s, f)
		if err := s.SetVisitorPage(ctx, id, "v1", "https://shop.test/oak", "Oak table"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetVisitorPage(ctx, id, "v2", "https://shop.test/evil", "x"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another visitor's conversation: %v", err)
		}
		sm, err := s.ConversationSummary(ctx, id)
		if err != nil || sm.PageURL != "https://shop.test/oak" || sm.PageTitle != "Oak table" {
			t.Fatalf("summary: %+v %v", sm, err)
		}
		if _, err := s.Claim(ctx, id, f.ana.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.EndConversation(ctx, id, f.ana.ID, "Ana", time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.SetVisitorPage(ctx, id, "v1", "https://shop.test/chair", "Chair"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a closed conversation: %v", err)
		}
	})
}
