package routing

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/internal/store"
)

// TestRandomizedModel runs 10,000 random operations with four concurrent callers (visitors arriving and leaving,
// agents accepting, declining, missing offers, claiming, ending, flapping presence and dropping their desk) and
// checks the engine's invariants after every round. At the end every conversation that asked for an agent is
// assigned, abandoned, expired or refused: none is lost.
func TestRandomizedModel(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		for _, mode := range []string{store.ChatOffer, store.ChatAssign} {
			t.Run(mode, func(t *testing.T) { runModel(t, st, mode, 5000) })
		}
	})
}

func runModel(t *testing.T, st *store.Store, mode string, ops int) {
	h := newHarness(t, st, 6, 2, func(g *store.Group) {
		g.Name = "Model " + mode
		g.ChatMode, g.QueuePlaces, g.MaxAttempts, g.MaxWait = mode, 8, 2, 3*time.Minute
	})
	// The harness makes its own site and agents per run; ids keep runs apart in a shared database.
	var mu sync.Mutex
	var convs []store.Conversation
	pick := func(r *rand.Rand) (store.Conversation, bool) {
		mu.Lock()
		defer mu.Unlock()
		if len(convs) == 0 {
			return store.Conversation{}, false
		}
		return convs[r.IntN(len(convs))], true
	}
	expected := func(err error) bool {
		return err == nil || errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrAtCapacity) ||
			errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrClosed)
	}
	var visitorN sync.Mutex
	next := 0
	step := func(r *rand.Rand) error {
		agent := h.agents[r.IntN(len(h.agents))]
		switch op := r.IntN(100); {
		case op < 12: // a visitor arrives
			visitorN.Lock()
			next++
			v := fmt.Sprintf("%s-v%d", mode, next)
			visitorN.Unlock()
			res, err := st.AppendVisitorMessage(h.ctx, store.VisitorMessage{SiteID: h.site.ID, VisitorID: v, VisitorName: "V",
				ClientMsgID: "m", Body: "hi", At: h.clk.Now()})
			if err != nil {
				return err
			}
			if err := h.e.Enqueue(h.ctx, res.Conversation); err != nil {
				return err
			}
			mu.Lock()
			convs = append(convs, res.Conversation)
			mu.Unlock()
		case op < 16: // a visitor leaves the queue
			if c, ok := pick(r); ok {
				return h.e.Leave(h.ctx, c.VisitorID, c.ID)
			}
		case op < 44: // an agent answers a ringing offer: mostly yes
			offers, err := st.PendingOffers(h.ctx, agent.ID)
			if err != nil || len(offers) == 0 {
				return err
			}
			o := offers[r.IntN(len(offers))]
			if op < 36 {
				_, err = h.e.Accept(h.ctx, agent.ID, o.ID)
				return err
			}
			return h.e.Decline(h.ctx, agent.ID, o.ID)
		case op < 58: // time passes: offers time out, queues expire
			h.clk.Add(time.Duration(r.IntN(8000)) * time.Millisecond)
			h.alive()
			return h.e.Tick(h.ctx)
		case op < 70: // presence flaps, mostly back to available
			status := []string{store.StatusAvailable, store.StatusAvailable, store.StatusAvailable, store.StatusAway, store.StatusOffline}[r.IntN(5)]
			_, err := h.e.SetPresence(h.ctx, agent.ID, store.ChannelChat, status)
			return err
		case op < 72: // a desk drops; it comes back at the next tick unless the grace period ends first
			return st.CloseDeskConnection(h.ctx, "desk-"+agent.ID, h.clk.Now())
		case op < 93: // an agent ends a conversation
			c, ok := pick(r)
			if !ok {
				return nil
			}
			c, err := st.Conversation(h.ctx, c.ID)
			if err != nil || c.AgentID == "" || c.Status != store.StatusOpen {
				return err
			}
			if _, err := st.EndConversation(h.ctx, c.ID, c.AgentID, "A", h.clk.Now()); err != nil {
				return err
			}
			h.e.Ended(h.ctx, c.ID)
		default: // an agent takes a waiting conversation by hand
			if c, ok := pick(r); ok {
				return h.e.Claim(h.ctx, agent.ID, c.ID)
			}
		}
		return nil
	}

	const workers, round = 4, 200
	for done := 0; done < ops; done += round {
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(seed uint64) {
				defer wg.Done()
				r := rand.New(rand.NewPCG(seed, uint64(done)))
				for i := 0; i < round/workers; i++ {
					if err := step(r); !expected(err) {
						errs <- err
						return
					}
				}
			}(uint64(w))
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("after %d operations: %v", done, err)
		}
		h.tick()
		violations, err := st.RoutingViolations(h.ctx, h.clk.Now(), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(violations) > 0 {
			t.Fatalf("after %d operations: %v", done+round, violations)
		}
	}

	// Wind down: everyone goes offline and time runs past the maximum wait. Nothing may still wait.
	for i := range h.agents {
		if _, err := h.e.SetPresence(h.ctx, h.agents[i].ID, store.ChannelChat, store.StatusOffline); err != nil {
			t.Fatal(err)
		}
	}
	h.clk.Add(4 * time.Minute)
	for _, c := range convs {
		h.e.StillWaiting(h.ctx, c.ID) // the visitors stay; only the maximum wait can end their wait
	}
	h.tick()
	counts := map[string]int{}
	for _, c := range convs {
		r := h.request(c)
		counts[r.State]++
		switch r.State {
		case store.RequestAssigned, store.RequestClosed, store.RequestAbandoned, store.RequestExpired, store.RequestRefused:
		case store.RequestCancelled:
			t.Fatalf("conversation %s was cancelled but no conversation ended while waiting", c.ID)
		default:
			t.Fatalf("conversation %s is lost in state %s", c.ID, r.State)
		}
	}
	t.Logf("%d conversations: %v", len(convs), counts)
	if counts[store.RequestAssigned]+counts[store.RequestClosed] == 0 {
		t.Fatal("no conversation was ever assigned: the model exercised nothing")
	}
}

// TestRacingAcceptAndTimeout races an agent's accept, just before the deadline, against the deadline's timeout,
// 1,000 times: each time exactly one of them wins, and the state is consistent.
func TestRacingAcceptAndTimeout(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, 1, 1, func(g *store.Group) { offerMode(g); g.MaxAttempts = 100; g.QueuePlaces = 1 })
		agent := h.agents[0].ID
		pairs := 1000
		if testing.Short() {
			pairs = 100
		}
		accepted, timedOut := 0, 0
		for i := 0; i < pairs; i++ {
			h.available(0, store.ChannelChat)
			c := h.visitor()
			offers := h.offers(0)
			if len(offers) != 1 {
				t.Fatalf("pair %d: %d offers", i, len(offers))
			}
			o := offers[0]
			var wg sync.WaitGroup
			var acceptErr, timeoutErr error
			wg.Add(2)
			go func() {
				defer wg.Done()
				_, acceptErr = st.AcceptOffer(h.ctx, o.ID, agent, o.Deadline.Add(-time.Millisecond))
			}()
			go func() { defer wg.Done(); _, timeoutErr = st.TimeOutOffers(h.ctx, o.Deadline) }()
			wg.Wait()
			if timeoutErr != nil {
				t.Fatal(timeoutErr)
			}
			conv, req := h.conv(c), h.request(c)
			switch {
			case acceptErr == nil:
				accepted++
				if conv.AgentID != agent || req.State != store.RequestAssigned {
					t.Fatalf("pair %d: accepted, but conversation agent %q and request %s", i, conv.AgentID, req.State)
				}
				h.end(c)
			case errors.Is(acceptErr, store.ErrOfferEnded):
				timedOut++
				if conv.AgentID != "" || req.State != store.RequestQueued {
					t.Fatalf("pair %d: timed out, but conversation agent %q and request %s", i, conv.AgentID, req.State)
				}
				if err := h.e.Leave(h.ctx, c.VisitorID, c.ID); err != nil {
					t.Fatal(err)
				}
			default:
				t.Fatalf("pair %d: accept: %v", i, acceptErr)
			}
			if v, err := st.RoutingViolations(h.ctx, o.Deadline, time.Second); err != nil || len(v) > 0 {
				t.Fatalf("pair %d: %v %v", i, v, err)
			}
			h.clk.Add(time.Minute)
		}
		t.Logf("%d accepted first, %d timed out first", accepted, timedOut)
	})
}
