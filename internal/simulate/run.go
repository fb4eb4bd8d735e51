package simulate

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/routing"
	"github.com/parley/parley/internal/store"
)

// Periods of the simulated clients' background work, in simulated time.
const (
	// heartbeatEvery is how often desks touch their connection and waiting visitors say they are still there:
	// well inside the engine's DeskAlive (60 s) and VisitorGone (90 s).
	heartbeatEvery = 20 * time.Second
	// checkEvery is how often the engine's invariants are checked against the database.
	checkEvery = time.Minute
	// drainLimit is how long past the group's maximum wait the run waits for the queue to empty once arrivals stop.
	drainLimit = 5 * time.Minute
)

// epoch is when every simulation starts: a fixed instant, so that runs are reproducible.
var epoch = time.Date(2030, time.January, 7, 9, 0, 0, 0, time.UTC)

// sim is one run: the real engine on a real store, the simulated visitors and agents, and what they were told.
type sim struct {
	cfg    Config
	ctx    context.Context
	st     *store.Store
	eng    *routing.Engine
	clk    *clock
	agenda *agenda
	inbox  *inbox
	work   *workload
	warns  *warnCounter

	site  store.Site
	group store.Group

	agents    []*agent
	byAccount map[string]*agent
	visitors  []*visitor
	byVisitor map[string]*visitor
	byConv    map[string]*visitor
	live      []*visitor // visitors who may still be waiting; compacted at each heartbeat
	waiting   int        // visitors not yet served, refused, abandoned or expired

	warm      time.Time // end of the warm-up
	windowEnd time.Time // when arrivals stopped; zero while they go on
	measured  int       // measured visitors so far, for Config.MinMeasured

	offers     Offers
	activity   AgentActivity
	violations violations
}

// Run simulates cfg and reports what visitors and agents saw. The engine logs through log (nil discards); its
// warnings and errors are counted in the report. A run whose invariants were violated still returns its report,
// with the violations in it; err is for a run that could not complete.
func Run(ctx context.Context, cfg Config, log *slog.Logger) (Report, error) {
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	started := time.Now()
	st, closeStore, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return Report{}, err
	}
	defer closeStore()
	s, err := newSim(ctx, cfg, st, log)
	if err != nil {
		return Report{}, err
	}
	if err := s.run(); err != nil {
		return Report{}, fmt.Errorf("simulate: at %s simulated: %w", s.clk.Now().Sub(epoch), err)
	}
	r := s.report()
	r.WallSeconds = time.Since(started).Seconds()
	return r, nil
}

func newSim(ctx context.Context, cfg Config, st *store.Store, log *slog.Logger) (*sim, error) {
	warns := &warnCounter{}
	log = slog.New(warns.wrap(log))
	clk := &clock{t: epoch}
	s := &sim{cfg: cfg, ctx: ctx, st: st, clk: clk, agenda: &agenda{clk: clk}, inbox: &inbox{}, work: newWorkload(cfg), warns: warns,
		byAccount: map[string]*agent{}, byVisitor: map[string]*visitor{}, byConv: map[string]*visitor{}, warm: epoch.Add(cfg.Warmup)}
	s.eng = routing.New(st, notify.New(st, s.inbox, log), clk.Now, log, routing.DefaultConfig())
	var accounts []store.Account
	var err error
	if s.site, s.group, accounts, err = seed(ctx, st, cfg); err != nil {
		return nil, fmt.Errorf("simulate: seed: %w", err)
	}
	for i, a := range accounts {
		ag := &agent{n: i, acc: a, status: store.StatusOffline, rand: s.work.agentRand(i), since: epoch}
		s.agents = append(s.agents, ag)
		s.byAccount[a.ID] = ag
	}
	return s, nil
}

// run plays the agenda: agents log in and become available, visitors arrive for Config.Duration (or until
// Config.MinMeasured are measured), and the run goes on until nobody waits any more.
func (s *sim) run() error {
	if err := s.heartbeat(); err != nil {
		return err
	}
	for _, a := range s.agents {
		if err := s.setPresence(a, store.StatusAvailable); err != nil {
			return err
		}
		s.scheduleFlap(a)
	}
	if err := s.react(); err != nil {
		return err
	}
	s.agenda.after(s.work.nextArrival(), s.arrive)
	s.agenda.at(epoch.Add(s.cfg.Duration), func() error { s.closeWindow(); return nil })
	s.agenda.every(epoch.Add(s.cfg.Tick), s.cfg.Tick, func() error { return s.eng.Tick(s.ctx) })
	s.agenda.every(epoch.Add(heartbeatEvery), heartbeatEvery, s.heartbeat)
	s.agenda.every(epoch.Add(checkEvery), checkEvery, s.check)
	for steps := 0; ; steps++ {
		if !s.windowEnd.IsZero() && (s.waiting == 0 || s.clk.Now().After(s.windowEnd.Add(s.cfg.MaxWait+drainLimit))) {
			break
		}
		if steps%1024 == 0 && s.ctx.Err() != nil {
			return s.ctx.Err()
		}
		more, err := s.agenda.step()
		if err != nil {
			return err
		}
		if !more {
			break
		}
		if err := s.react(); err != nil {
			return err
		}
	}
	return s.finish()
}

// react lets visitors and agents react to what the engine just told them. A reaction may call the engine again;
// react goes on until nothing new was said.
func (s *sim) react() error {
	for {
		ns := s.inbox.take()
		if len(ns) == 0 {
			return nil
		}
		for _, n := range ns {
			if err := s.deliver(n); err != nil {
				return err
			}
		}
	}
}

// deliver hands a notice to the visitor or the agent it is for.
func (s *sim) deliver(n notice) error {
	kind, id, _ := strings.Cut(n.subject, ".")
	switch kind {
	case "visitor":
		v := s.byVisitor[id]
		switch {
		case v == nil:
		case n.Kind == notify.KindQueue && n.Queue != nil:
			return s.onQueue(v, n.Queue)
		case n.Kind == notify.KindEvent && n.Event != nil && n.Event.Type == store.EventAssigned:
			v.agentID = n.AgentID
		}
	case "account":
		a := s.byAccount[id]
		switch {
		case a == nil:
		case n.Kind == notify.KindOffer && n.Offer != nil:
			s.onOffer(a, n.Offer)
		case n.Kind == notify.KindOfferEnded && n.OfferEnded != nil:
			s.offers.ended(n.OfferEnded.Reason)
		case n.Kind == notify.KindPresence && n.Presence != nil:
			s.onPresence(a, n.Presence)
		}
	}
	return nil
}

// heartbeat is what live sockets do in the background: each desk touches its connection, and each waiting visitor
// tells the engine they are still there.
func (s *sim) heartbeat() error {
	for _, a := range s.agents {
		if err := s.st.TouchDeskConnection(s.ctx, "desk-"+a.acc.ID, a.acc.ID, "simulate", s.clk.Now()); err != nil {
			return err
		}
	}
	live := s.live[:0]
	for _, v := range s.live {
		if !v.settled() {
			s.eng.StillWaiting(s.ctx, v.conv.ID)
			live = append(live, v)
		}
	}
	clear(s.live[len(live):])
	s.live = live
	return nil
}

// check records the engine's invariant violations at the clock's now. An offer may ring up to one tick past its
// deadline before Tick times it out.
func (s *sim) check() error {
	found, err := s.st.RoutingViolations(s.ctx, s.clk.Now(), s.cfg.Tick+time.Second)
	if err != nil {
		return err
	}
	for _, f := range found {
		s.violations.add(s.clk.Now(), f)
	}
	return nil
}

// closeWindow ends the arrivals and the measurement window at the clock's now.
func (s *sim) closeWindow() {
	if !s.windowEnd.IsZero() {
		return
	}
	for _, a := range s.agents {
		s.integrate(a)
	}
	s.windowEnd = s.clk.Now()
}

// finish checks the invariants once more, and that every visitor's outcome, as they were told it, is what the
// database holds.
func (s *sim) finish() error {
	if err := s.check(); err != nil {
		return err
	}
	for _, v := range s.visitors {
		r, err := s.st.LatestRequest(s.ctx, v.conv.ID, store.ChannelChat)
		if err != nil {
			return err
		}
		told := v.state
		if told == store.RequestAssigned && r.State == store.RequestClosed {
			told = store.RequestClosed
		}
		switch {
		case !v.settled():
			s.violations.add(s.clk.Now(), fmt.Sprintf("simulator: visitor %s still %s when the run ended (database: %s)", v.id, v.state, r.State))
		case told != r.State:
			s.violations.add(s.clk.Now(), fmt.Sprintf("simulator: visitor %s was told %s, the database says %s", v.id, v.state, r.State))
		}
	}
	return nil
}
