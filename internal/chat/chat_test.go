package chat

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/internal/metrics"
	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/notify/notifytest"
	"github.com/parley/parley/internal/store"
)

// router is a fake distribution engine that records what it was asked.
type router struct {
	mu       sync.Mutex
	enqueued []string
	ended    []string
}

func (r *router) Enqueue(_ context.Context, c store.Conversation) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.enqueued = append(r.enqueued, c.ID)
	return nil
}

func (r *router) Ended(_ context.Context, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ended = append(r.ended, id)
}

type fixture struct {
	router   *router
	svc      *Service
	st       *store.Store
	pub      *notifytest.Recorder
	site     store.Site
	ana, ben store.Account
	now      time.Time
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "", t.TempDir(), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, pub: notifytest.NewRecorder(), router: &router{}, now: time.Unix(1_800_000_000, 0)}
	f.ana, _ = st.CreateAccount(ctx, store.Account{Email: "ana@x.test", Name: "Ana", Role: store.RoleAgent, PasswordHash: "x", ChatCapacity: 3})
	f.ben, _ = st.CreateAccount(ctx, store.Account{Email: "ben@x.test", Name: "Ben", Role: store.RoleAgent, PasswordHash: "x", ChatCapacity: 3})
	g, _ := st.CreateGroup(ctx, store.Group{Name: "Support", Members: []string{f.ana.ID, f.ben.ID}})
	f.site, _ = st.CreateSite(ctx, store.Site{Name: "Shop", GroupID: g.ID})
	clock := func() time.Time { return f.now }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.svc = NewService(Deps{Store: st, Notifier: notify.New(st, f.pub, log), Router: f.router, Now: clock, Log: log,
		Metrics: metrics.New(), MaxMessage: 50})
	return f
}

func TestFirstMessageGoesToTheEngine(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	v := Visitor{ID: "v_1", SiteID: f.site.ID}
	res, err := f.svc.VisitorSend(ctx, v, "", "m1", "  hello  ", f.now)
	if err != nil || !res.Created || res.Events[0].Body != "hello" {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := f.svc.VisitorSend(ctx, v, "", "m2", "again", f.now); err != nil {
		t.Fatal(err)
	}
	if len(f.router.enqueued) != 1 || f.router.enqueued[0] != res.Conversation.ID {
		t.Fatalf("enqueued %v, want the new conversation once", f.router.enqueued)
	}
	notices := notify.VisitorSubject("v_1")
	if got := f.pub.Kinds(notices); strings.Join(got, ",") != "event:message,event:message" {
		t.Fatalf("visitor notices %v", got)
	}
	if got := f.pub.Kinds(notify.SiteSubject(f.site.ID)); strings.Join(got, ",") != "event:message,event:message" {
		t.Fatalf("site notices %v", got)
	}
}

func TestMessageChecks(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	v := Visitor{ID: "v_1", SiteID: f.site.ID}
	for body, want := range map[string]error{"": ErrEmpty, " \n\t": ErrEmpty, strings.Repeat("ü", 51): ErrTooLong} {
		if _, err := f.svc.VisitorSend(ctx, v, "", "x", body, f.now); !errors.Is(err, want) {
			t.Errorf("body %q: %v, want %v", body, err, want)
		}
	}
	res, _ := f.svc.VisitorSend(ctx, v, "", "m1", strings.Repeat("ü", 50), f.now)
	if _, err := f.svc.VisitorSend(ctx, Visitor{ID: "v_2", SiteID: f.site.ID}, res.Conversation.ID, "m2", "hi", f.now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another visitor's conversation: %v", err)
	}
	if err := f.svc.VisitorTyping(ctx, Visitor{ID: "v_2", SiteID: f.site.ID}, res.Conversation.ID, true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("typing into another visitor's conversation: %v", err)
	}
	if _, err := f.svc.AgentSend(ctx, Agent{ID: f.ana.ID, Name: "Ana"}, "", "a1", "hi", f.now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("agent without conversation: %v", err)
	}
	if _, err := f.svc.AgentSend(ctx, Agent{ID: f.ana.ID, Name: "Ana"}, res.Conversation.ID, "a1", "hi", f.now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("reply to a conversation that isn't the agent's: %v", err)
	}
	if _, err := f.st.Claim(ctx, res.Conversation.ID, f.ana.ID, f.now); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.End(ctx, Agent{ID: f.ana.ID, Name: "Ana"}, res.Conversation.ID); err != nil {
		t.Fatal(err)
	}
	if len(f.router.ended) != 1 {
		t.Fatalf("the engine was not told the conversation ended: %v", f.router.ended)
	}
	if _, err := f.svc.AgentSend(ctx, Agent{ID: f.ana.ID, Name: "Ana"}, res.Conversation.ID, "a2", "hi", f.now); !errors.Is(err, ErrClosed) {
		t.Fatalf("reply to a closed conversation: %v", err)
	}
}
