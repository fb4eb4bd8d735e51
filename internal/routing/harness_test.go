package routing

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/notify/notifytest"
	"github.com/parley/parley/internal/store"
)

// clock is the injected time: tests move it by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// stores opens the stores the engine runs against: SQLite always, PostgreSQL when PARLEY_TEST_POSTGRES_URL is set.
func forEachStore(t *testing.T, body func(t *testing.T, st *store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		ctx := context.Background()
		st, err := store.Open(ctx, "", t.TempDir(), 8)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if _, err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		body(t, st)
	})
	if url := os.Getenv("PARLEY_TEST_POSTGRES_URL"); url != "" {
		t.Run("postgres", func(t *testing.T) { body(t, store.OpenTestPostgres(t, url)) })
	}
}

type harness struct {
	t      *testing.T
	ctx    context.Context
	st     *store.Store
	e      *Engine
	clk    *clock
	pub    *notifytest.Recorder
	site   store.Site
	group  store.Group
	agents []store.Account
	n      int
}

// newHarness makes a site answered by a group of agents (each with capacity slots), all with a live desk and
// offline. mutate adjusts the group before it is stored.
func newHarness(t *testing.T, st *store.Store, agents, capacity int, mutate func(*store.Group)) *harness {
	t.Helper()
	ctx := context.Background()
	h := &harness{t: t, ctx: ctx, st: st, clk: &clock{t: time.Unix(1_800_000_000, 0)}, pub: notifytest.NewRecorder()}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h.e = New(st, notify.New(st, h.pub, log), h.clk.Now, log, DefaultConfig())
	g := store.DefaultGroup("Support")
	for i := 0; i < agents; i++ {
		a, err := st.CreateAccount(ctx, store.Account{Email: fmt.Sprintf("agent%d-%s@x.test", i, store.NewID("t")), Name: fmt.Sprintf("Agent %d", i),
			Role: store.RoleAgent, PasswordHash: "x", ChatCapacity: capacity})
		if err != nil {
			t.Fatal(err)
		}
		h.agents = append(h.agents, a)
		g.Members = append(g.Members, a.ID)
	}
	if mutate != nil {
		mutate(&g)
	}
	var err error
	if h.group, err = st.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	if h.site, err = st.CreateSite(ctx, store.Site{Name: "Shop " + g.Name, GroupID: h.group.ID}); err != nil {
		t.Fatal(err)
	}
	h.alive()
	return h
}

// alive refreshes every agent's desk heartbeat at the clock's now.
func (h *harness) alive() {
	for _, a := range h.agents {
		if err := h.st.TouchDeskConnection(h.ctx, "desk-"+a.ID, a.ID, "n1", h.clk.Now()); err != nil {
			h.t.Fatal(err)
		}
	}
}

func (h *harness) available(i int, channel string) {
	h.t.Helper()
	if _, err := h.e.SetPresence(h.ctx, h.agents[i].ID, channel, store.StatusAvailable); err != nil {
		h.t.Fatal(err)
	}
}

// visitor opens a conversation for a new visitor and hands it to the engine, as the chat service does.
func (h *harness) visitor() store.Conversation {
	h.t.Helper()
	h.n++
	res, err := h.st.AppendVisitorMessage(h.ctx, store.VisitorMessage{SiteID: h.site.ID, VisitorID: fmt.Sprintf("v%d", h.n),
		VisitorName: "Visitor", ClientMsgID: "m", Body: "hello", At: h.clk.Now()})
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.e.Enqueue(h.ctx, res.Conversation); err != nil {
		h.t.Fatal(err)
	}
	return res.Conversation
}

func (h *harness) request(c store.Conversation) store.Request {
	h.t.Helper()
	r, err := h.st.LatestRequest(h.ctx, c.ID, store.ChannelChat)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func (h *harness) conv(c store.Conversation) store.Conversation {
	h.t.Helper()
	c, err := h.st.Conversation(h.ctx, c.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

func (h *harness) offers(i int) []store.Offer {
	h.t.Helper()
	os, err := h.st.PendingOffers(h.ctx, h.agents[i].ID)
	if err != nil {
		h.t.Fatal(err)
	}
	return os
}

func (h *harness) tick() {
	h.t.Helper()
	h.alive()
	if err := h.e.Tick(h.ctx); err != nil {
		h.t.Fatal(err)
	}
}

// queueView is the last queue state the visitor of c was told.
func (h *harness) queueView(c store.Conversation) *notify.QueueView {
	n := h.pub.Last(notify.VisitorSubject(c.VisitorID), notify.KindQueue)
	if n == nil {
		return nil
	}
	return n.Queue
}

func (h *harness) end(c store.Conversation) {
	h.t.Helper()
	c = h.conv(c)
	if _, err := h.st.EndConversation(h.ctx, c.ID, c.AgentID, "Agent", h.clk.Now()); err != nil {
		h.t.Fatal(err)
	}
	h.e.Ended(h.ctx, c.ID)
}
