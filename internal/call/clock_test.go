package call

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/internal/media"
	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/notify/notifytest"
	"github.com/parley/parley/internal/routing"
	"github.com/parley/parley/internal/store"
)

// These tests drive the call service alone, on SQLite, under an injected clock, with a stand-in for the relay (the
// relay itself is tested in internal/media, and the service with the real relay in call_test.go).

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// noRelay is a relay with no media: the timers under test don't need any.
type noRelay struct{}

func (noRelay) Open(string, media.Hooks) error { return nil }
func (noRelay) Join(context.Context, string, media.Side, string, bool) (string, error) {
	return "", media.ErrBadSDP
}
func (noRelay) Restart(context.Context, string, media.Side, string) (string, error) {
	return "", media.ErrNoLeg
}
func (noRelay) AddCandidate(string, media.Side, *media.Candidate) error { return nil }
func (noRelay) End(string) (media.CallStats, error)                     { return media.CallStats{}, media.ErrNoCall }

type fixture struct {
	ctx  context.Context
	st   *store.Store
	clk  *clock
	pub  *notifytest.Recorder
	svc  *Service
	ana  store.Account
	conv store.Conversation
}

// newFixture makes a site with a group of one agent, Ana, who may escalate and has a visitor's chat.
func newFixture(t *testing.T) *fixture {
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
	f := &fixture{ctx: ctx, st: st, clk: &clock{t: time.Unix(1_800_000_000, 0)}, pub: notifytest.NewRecorder()}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	n := notify.New(st, f.pub, log)
	engine := routing.New(st, n, f.clk.now, log, routing.DefaultConfig())
	f.svc = New(Deps{Store: st, Router: engine, Notifier: n, Relay: noRelay{}, Now: f.clk.now, Log: log})
	if f.ana, err = st.CreateAccount(ctx, store.Account{Email: "ana@x.test", Name: "Ana", Role: store.RoleAgent, PasswordHash: "x",
		ChatCapacity: 3, CanEscalate: true}); err != nil {
		t.Fatal(err)
	}
	g := store.DefaultGroup("Support")
	g.Members = []string{f.ana.ID}
	if g, err = st.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	site, err := st.CreateSite(ctx, store.Site{Name: "Shop", GroupID: g.ID})
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.AppendVisitorMessage(ctx, store.VisitorMessage{SiteID: site.ID, VisitorID: "v1", VisitorName: "Visitor",
		ClientMsgID: "m", Body: "hello", At: f.clk.now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Claim(ctx, res.Conversation.ID, f.ana.ID, f.clk.now()); err != nil {
		t.Fatal(err)
	}
	f.conv = res.Conversation
	return f
}

// lastInvite is the last invitation notice on a subject.
func (f *fixture) lastInvite(subject string) *notify.InviteView {
	n := f.pub.Last(subject, notify.KindCallInvite)
	if n == nil {
		return nil
	}
	return n.CallInvite
}

// An invitation nobody answers expires after InviteTTL and tells the agent and the visitor; an accepted one waits
// LobbyTTL for the visitor to join.
func TestUnansweredInvitationExpires(t *testing.T) {
	f := newFixture(t)
	inv, err := f.svc.Invite(f.ctx, Party{AgentID: f.ana.ID}, f.conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.clk.add(59 * time.Second)
	f.svc.Tick(f.ctx)
	if got := f.lastInvite(notify.AccountSubject(f.ana.ID)); got == nil || got.State != store.InvitePending {
		t.Fatalf("before its time: %+v", got)
	}
	f.clk.add(time.Second)
	f.svc.Tick(f.ctx)
	for _, subject := range []string{notify.AccountSubject(f.ana.ID), notify.VisitorSubject("v1")} {
		if got := f.lastInvite(subject); got == nil || got.InviteID != inv.InviteID || got.State != store.InviteExpired {
			t.Fatalf("%s was told %+v, want the invitation expired", subject, got)
		}
	}
	if _, err := f.svc.AnswerInvite(f.ctx, Party{VisitorID: "v1"}, inv.InviteID, true); err != ErrConflict {
		t.Fatalf("accepting an expired invitation: %v", err)
	}

	// Accepted, the invitation waits for the visitor in the lobby, then expires too.
	inv, err = f.svc.Invite(f.ctx, Party{AgentID: f.ana.ID}, f.conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AnswerInvite(f.ctx, Party{VisitorID: "v1"}, inv.InviteID, true); err != nil {
		t.Fatal(err)
	}
	f.clk.add(119 * time.Second)
	f.svc.Tick(f.ctx)
	if got := f.lastInvite(notify.AccountSubject(f.ana.ID)); got.State != store.InviteAccepted {
		t.Fatalf("in the lobby: %+v", got)
	}
	f.clk.add(time.Second)
	f.svc.Tick(f.ctx)
	if got := f.lastInvite(notify.AccountSubject(f.ana.ID)); got.State != store.InviteExpired {
		t.Fatalf("after the lobby's time: %+v", got)
	}
}

// A live call that nobody ever joins on the relay ends after LegTimeout, and the agent's capacity comes back.
func TestCallNobodyJoinsEnds(t *testing.T) {
	f := newFixture(t)
	inv, err := f.svc.Invite(f.ctx, Party{AgentID: f.ana.ID}, f.conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.Request(f.ctx, Party{VisitorID: "v1", SiteID: f.conv.SiteID}, f.conv.ID, inv.InviteID)
	if err != nil || c.State != store.CallLive {
		t.Fatalf("invited call: %+v %v", c, err)
	}
	f.clk.add(59 * time.Second)
	f.svc.Tick(f.ctx)
	if live, _ := f.st.LiveCall(f.ctx, f.conv.ID); live.State != store.CallLive {
		t.Fatalf("ended too early: %+v", live)
	}
	f.clk.add(2 * time.Second)
	f.svc.Tick(f.ctx)
	ended, err := f.st.Call(f.ctx, c.CallID)
	if err != nil || ended.State != store.CallEnded || ended.Reason != "failed" {
		t.Fatalf("a call nobody joined: %+v %v", ended, err)
	}
	if r, _ := f.st.LatestRequest(f.ctx, f.conv.ID, store.ChannelVideo); r.State != store.RequestClosed {
		t.Fatalf("the video request is %s: Ana's capacity did not come back", r.State)
	}
}
