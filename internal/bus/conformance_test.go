package bus

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitTimeout bounds every wait for a delivery, so that a broken bus fails the test instead of hanging it.
const waitTimeout = 5 * time.Second

// newPairFunc returns two nodes of one bus: a message published on either reaches subscribers on both. For Memory
// both are the same Bus; for NATS they are separate connections to one server. They are closed when t ends.
type newPairFunc func(t *testing.T) (a, b Bus)

// runConformance checks the Bus contract. Every implementation must pass it.
func runConformance(t *testing.T, newPair newPairFunc) {
	t.Run("DeliversToOtherNodeAndOwnNode", func(t *testing.T) {
		a, b := newPair(t)
		subject := testSubject(t, "visitor.v_abc123")
		onB := subscribe(t, b, subject)
		onA := subscribe(t, a, subject)

		publish(t, a, subject, "hello")

		for name, r := range map[string]*recorder{"other node": onB, "own node": onA} {
			got := r.wait(t, 1)
			if got[0].subject != subject || got[0].data != "hello" {
				t.Errorf("%s got %+v, want {%s hello}", name, got[0], subject)
			}
		}
	})

	t.Run("DeliversOnceToEverySubscriber", func(t *testing.T) {
		a, b := newPair(t)
		subject := testSubject(t, "site.s_xyz")
		var recs []*recorder
		for range 3 {
			recs = append(recs, subscribe(t, b, subject), subscribe(t, a, subject))
		}

		// The second message is a barrier: ordering puts any duplicate of the first one before it.
		publish(t, a, subject, "1")
		publish(t, a, subject, "2")

		for i, r := range recs {
			r.wait(t, 2)
			if got := r.datas(); !slices.Equal(got, []string{"1", "2"}) {
				t.Errorf("subscriber %d got %q, want [1 2]", i, got)
			}
		}
	})

	t.Run("PreservesPublishOrder", func(t *testing.T) {
		a, b := newPair(t)
		subject := testSubject(t, "order")
		r := subscribe(t, b, subject)
		const n = 1000
		for i := range n {
			publish(t, a, subject, strconv.Itoa(i))
		}
		got := r.wait(t, n)
		for i, m := range got {
			if m.data != strconv.Itoa(i) {
				t.Fatalf("message %d is %q: order not preserved", i, m.data)
			}
		}
		r.checkNoOverlap(t)
	})

	t.Run("NoDeliveryAfterUnsubscribe", func(t *testing.T) {
		a, b := newPair(t)
		subject := testSubject(t, "unsub")
		gone := subscribe(t, b, subject)
		// sentinel stays subscribed on the same node: once it has the second message, the unsubscribed one would
		// have had it too.
		sentinel := subscribe(t, b, subject)

		publish(t, a, subject, "before")
		gone.wait(t, 1)
		sentinel.wait(t, 1)

		if err := gone.getSub().Unsubscribe(); err != nil {
			t.Fatalf("Unsubscribe: %v", err)
		}
		if err := gone.getSub().Unsubscribe(); err != nil {
			t.Errorf("second Unsubscribe = %v, want nil", err)
		}
		publish(t, a, subject, "after")
		sentinel.wait(t, 2)
		if got := gone.datas(); !slices.Equal(got, []string{"before"}) {
			t.Errorf("unsubscribed handler got %q, want [before]", got)
		}
	})

	t.Run("UnsubscribeFromHandler", func(t *testing.T) {
		a, b := newPair(t)
		subject := testSubject(t, "unsub_in_handler")
		var (
			mu       sync.Mutex
			sub      Subscription
			calls    atomic.Int32
			returned = make(chan struct{}) // closed once the first call has unsubscribed
		)
		mu.Lock()
		s, err := b.Subscribe(subject, func(string, []byte) {
			if calls.Add(1) != 1 {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if err := sub.Unsubscribe(); err != nil {
				t.Errorf("Unsubscribe from handler: %v", err)
			}
			close(returned)
		})
		if err != nil {
			t.Fatalf("Subscribe: %v", err)
		}
		sub = s
		mu.Unlock()
		t.Cleanup(func() { _ = s.Unsubscribe() })
		sentinel := subscribe(t, b, subject)

		// Messages 1 and 2 may be queued for the handler when it unsubscribes; they must not be delivered.
		for i := range 3 {
			publish(t, a, subject, strconv.Itoa(i))
		}
		select {
		case <-returned:
		case <-time.After(waitTimeout):
			t.Fatalf("handler not called within %v", waitTimeout)
		}
		publish(t, a, subject, "3")
		sentinel.wait(t, 4)
		if n := calls.Load(); n != 1 {
			t.Errorf("handler called %d times, want 1", n)
		}
	})

	t.Run("IsolatesSubjects", func(t *testing.T) {
		a, b := newPair(t)
		// Besides many plain subjects, include ones that are prefixes of each other: matching is exact.
		names := []string{"p", "p.a", "p.a.b", "p.ab", "p.b.a", "pa", "p_a"}
		for i := range 100 {
			names = append(names, fmt.Sprintf("visitor.v_%d", i))
		}
		recs := make(map[string]*recorder, len(names))
		for _, name := range names {
			recs[name] = subscribe(t, b, testSubject(t, name))
		}

		for round := range 2 {
			for _, name := range names {
				publish(t, a, testSubject(t, name), name+"#"+strconv.Itoa(round))
			}
		}

		for _, name := range names {
			r := recs[name]
			r.wait(t, 2)
			want := []string{name + "#0", name + "#1"}
			if got := r.datas(); !slices.Equal(got, want) {
				t.Errorf("subscriber of %q got %q, want %q", name, got, want)
			}
			for _, m := range r.messages() {
				if m.subject != testSubject(t, name) {
					t.Errorf("subscriber of %q got subject %q", name, m.subject)
				}
			}
		}
	})

	t.Run("RejectsBadSubjects", func(t *testing.T) {
		a, _ := newPair(t)
		prefix := testSubject(t, "bad")
		tests := []struct {
			name    string
			subject string
		}{
			{"empty", ""},
			{"space only", " "},
			{"inner space", prefix + ".a b"},
			{"tab", prefix + ".a\tb"},
			{"newline", prefix + ".a\r\nPUB x 1"},
			{"star token", prefix + ".*"},
			{"star inside token", prefix + ".a*"},
			{"full wildcard", prefix + ".>"},
			{"gt inside token", prefix + ".a>b"},
			{"leading dot", "." + prefix},
			{"trailing dot", prefix + "."},
			{"double dot", prefix + "..a"},
			{"dot only", "."},
			{"too long", prefix + "." + strings.Repeat("x", MaxSubjectLen)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := a.Publish(t.Context(), tt.subject, []byte("x")); !errors.Is(err, ErrBadSubject) {
					t.Errorf("Publish(%q) = %v, want ErrBadSubject", tt.subject, err)
				}
				sub, err := a.Subscribe(tt.subject, func(string, []byte) {})
				if !errors.Is(err, ErrBadSubject) {
					t.Errorf("Subscribe(%q) = %v, want ErrBadSubject", tt.subject, err)
				}
				if sub != nil {
					t.Errorf("Subscribe(%q) returned a subscription with an error", tt.subject)
					_ = sub.Unsubscribe()
				}
			})
		}
	})

	t.Run("RejectsNilHandler", func(t *testing.T) {
		a, _ := newPair(t)
		sub, err := a.Subscribe(testSubject(t, "nil"), nil)
		if err == nil || sub != nil {
			t.Errorf("Subscribe with nil handler = %v, %v; want an error", sub, err)
		}
	})

	t.Run("AcceptsGoodSubjects", func(t *testing.T) {
		a, b := newPair(t)
		for _, name := range []string{"visitor.v_abc123", "site.s_xyz", "account.ag_1", "a-b.c_d.e~f", "café.ü"} {
			subject := testSubject(t, name)
			r := subscribe(t, b, subject)
			publish(t, a, subject, name)
			if got := r.wait(t, 1); got[0].data != name {
				t.Errorf("on %q got %q", subject, got[0].data)
			}
		}
	})

	t.Run("ClosedBus", func(t *testing.T) {
		a, _ := newPair(t)
		subject := testSubject(t, "closed")
		r := subscribe(t, a, subject)

		if err := a.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := a.Publish(t.Context(), subject, []byte("x")); !errors.Is(err, ErrClosed) {
			t.Errorf("Publish after Close = %v, want ErrClosed", err)
		}
		if sub, err := a.Subscribe(subject, func(string, []byte) {}); !errors.Is(err, ErrClosed) || sub != nil {
			t.Errorf("Subscribe after Close = %v, %v; want nil, ErrClosed", sub, err)
		}
		if err := r.getSub().Unsubscribe(); err != nil {
			t.Errorf("Unsubscribe after Close = %v, want nil", err)
		}
		if err := a.Close(); err != nil {
			t.Errorf("second Close = %v, want nil", err)
		}
	})

	t.Run("DoneContext", func(t *testing.T) {
		a, b := newPair(t)
		subject := testSubject(t, "ctx")
		r := subscribe(t, b, subject)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := a.Publish(ctx, subject, []byte("dropped")); !errors.Is(err, context.Canceled) {
			t.Errorf("Publish with canceled context = %v, want context.Canceled", err)
		}
		publish(t, a, subject, "kept")
		r.wait(t, 1)
		if got := r.datas(); !slices.Equal(got, []string{"kept"}) {
			t.Errorf("got %q, want [kept]: a canceled Publish must not send", got)
		}
	})

	t.Run("HandlerMayKeepData", func(t *testing.T) {
		a, b := newPair(t)
		subject := testSubject(t, "keep")
		onB := subscribe(t, b, subject)
		onA := subscribe(t, a, subject)

		buf := []byte("first")
		if err := a.Publish(t.Context(), subject, buf); err != nil {
			t.Fatalf("Publish: %v", err)
		}
		copy(buf, "XXXXX") // the publisher reuses its buffer
		if err := a.Publish(t.Context(), subject, buf); err != nil {
			t.Fatalf("Publish: %v", err)
		}

		for _, r := range []*recorder{onA, onB} {
			r.wait(t, 2)
			if got := r.datas(); !slices.Equal(got, []string{"first", "XXXXX"}) {
				t.Errorf("got %q, want [first XXXXX]", got)
			}
		}
	})

	t.Run("HandlerMayPublishAndSubscribe", func(t *testing.T) {
		a, b := newPair(t)
		subject := testSubject(t, "reentrant")
		other := testSubject(t, "reentrant_other")
		late := &recorder{}
		var lateOnce sync.Once
		// The reacting handler subscribes to another subject and answers "ping" with "pong" on its own subject,
		// through its own node.
		react, err := b.Subscribe(subject, func(_ string, data []byte) {
			if string(data) != "ping" {
				return
			}
			lateOnce.Do(func() {
				sub, err := b.Subscribe(other, late.handle)
				if err != nil {
					t.Errorf("Subscribe from handler: %v", err)
					return
				}
				late.setSub(sub)
			})
			// Publishing after subscribing means that once the pong is seen, the late subscription is in place.
			if err := b.Publish(context.Background(), subject, []byte("pong")); err != nil {
				t.Errorf("Publish from handler: %v", err)
			}
		})
		if err != nil {
			t.Fatalf("Subscribe: %v", err)
		}
		t.Cleanup(func() { _ = react.Unsubscribe() })
		watchB := subscribe(t, b, subject)
		watchA := subscribe(t, a, subject)

		publish(t, a, subject, "ping")

		// The reaction is caused by the ping, so every subscriber sees the ping first.
		for _, r := range []*recorder{watchA, watchB} {
			r.wait(t, 2)
			if got := r.datas(); !slices.Equal(got, []string{"ping", "pong"}) {
				t.Errorf("got %q, want [ping pong]", got)
			}
		}
		publish(t, a, other, "hi")
		late.wait(t, 1)
		if s := late.getSub(); s != nil {
			_ = s.Unsubscribe()
		}
	})

	t.Run("ConcurrentPublishers", func(t *testing.T) {
		a, b := newPair(t)
		subject := testSubject(t, "concurrent")
		recs := []*recorder{subscribe(t, b, subject), subscribe(t, a, subject)}
		const publishers, perPublisher = 8, 250

		var wg sync.WaitGroup
		for p := range publishers {
			node := a
			if p%2 == 1 {
				node = b
			}
			wg.Go(func() {
				for i := range perPublisher {
					msg := fmt.Sprintf("%d:%d", p, i)
					if err := node.Publish(context.Background(), subject, []byte(msg)); err != nil {
						t.Errorf("publisher %d: Publish: %v", p, err)
						return
					}
				}
			})
		}
		wg.Wait()

		for _, r := range recs {
			got := r.wait(t, publishers*perPublisher)
			next := make([]int, publishers)
			for _, m := range got {
				var p, i int
				if _, err := fmt.Sscanf(m.data, "%d:%d", &p, &i); err != nil {
					t.Fatalf("unexpected message %q", m.data)
				}
				if i != next[p] {
					t.Fatalf("publisher %d: got message %d, want %d: per-publisher order broken", p, i, next[p])
				}
				next[p]++
			}
			r.checkNoOverlap(t)
		}
	})

	t.Run("ConcurrentSubscribeUnsubscribe", func(t *testing.T) {
		a, b := newPair(t)
		subject := testSubject(t, "churn")
		stable := subscribe(t, b, subject)

		ctx, stop := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		for w := range 4 {
			node := a
			if w%2 == 1 {
				node = b
			}
			wg.Go(func() {
				for ctx.Err() == nil {
					sub, err := node.Subscribe(subject, func(string, []byte) {})
					if err != nil {
						t.Errorf("Subscribe: %v", err)
						return
					}
					if err := sub.Unsubscribe(); err != nil {
						t.Errorf("Unsubscribe: %v", err)
						return
					}
				}
			})
		}
		const n = 200
		for i := range n {
			publish(t, a, subject, strconv.Itoa(i))
		}
		stop()
		wg.Wait()
		got := stable.wait(t, n)
		for i, m := range got {
			if m.data != strconv.Itoa(i) {
				t.Fatalf("message %d is %q: order not preserved", i, m.data)
			}
		}
	})
}

// testSubject returns a subject made of a prefix unique to this test run and name, so that runs sharing a NATS
// server do not see each other's messages. The prefix is the same for every call with one t.
func testSubject(t *testing.T, name string) string {
	t.Helper()
	prefixesMu.Lock()
	defer prefixesMu.Unlock()
	prefix, ok := prefixes[t]
	if !ok {
		prefix = "test_" + rand.Text()
		prefixes[t] = prefix
		t.Cleanup(func() {
			prefixesMu.Lock()
			defer prefixesMu.Unlock()
			delete(prefixes, t)
		})
	}
	return prefix + "." + name
}

var (
	prefixesMu sync.Mutex
	prefixes   = map[*testing.T]string{}
)

// publish publishes data on subject through bus and fails the test on error.
func publish(t *testing.T, bus Bus, subject, data string) {
	t.Helper()
	if err := bus.Publish(t.Context(), subject, []byte(data)); err != nil {
		t.Fatalf("Publish(%q): %v", subject, err)
	}
}

// subscribe subscribes a new recorder to subject on bus, to be unsubscribed when the test ends.
func subscribe(t *testing.T, bus Bus, subject string) *recorder {
	t.Helper()
	r := &recorder{}
	sub, err := bus.Subscribe(subject, r.handle)
	if err != nil {
		t.Fatalf("Subscribe(%q): %v", subject, err)
	}
	r.setSub(sub)
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return r
}

type message struct {
	subject string
	data    string
}

// rawMessage is a message as the handler got it: the data slice is kept, not copied, so that the tests see it change
// if the bus reuses it.
type rawMessage struct {
	subject string
	data    []byte
}

// recorder is a Handler that records what it receives, without blocking, and lets the test wait for it.
type recorder struct {
	mu      sync.Mutex
	msgs    []rawMessage
	sub     Subscription  // set once Subscribe returns
	changed chan struct{} // signalled (without blocking) on each message

	inFlight atomic.Int32
	overlap  atomic.Bool // set if the handler was ever called while a call was running
}

func (r *recorder) handle(subject string, data []byte) {
	if r.inFlight.Add(1) > 1 {
		r.overlap.Store(true)
	}
	defer r.inFlight.Add(-1)
	r.mu.Lock()
	r.msgs = append(r.msgs, rawMessage{subject, data})
	ch := r.signal()
	r.mu.Unlock()
	select {
	case ch <- struct{}{}:
	default:
	}
}

// signal returns the change channel, creating it. r.mu must be held.
func (r *recorder) signal() chan struct{} {
	if r.changed == nil {
		r.changed = make(chan struct{}, 1)
	}
	return r.changed
}

func (r *recorder) setSub(s Subscription) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sub = s
}

func (r *recorder) getSub() Subscription {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sub
}

func (r *recorder) messages() []message {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]message, len(r.msgs))
	for i, m := range r.msgs {
		out[i] = message{m.subject, string(m.data)}
	}
	return out
}

func (r *recorder) datas() []string {
	var out []string
	for _, m := range r.messages() {
		out = append(out, m.data)
	}
	return out
}

// wait waits until at least n messages have arrived, for at most waitTimeout, and returns them.
func (r *recorder) wait(t *testing.T, n int) []message {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		got, ch := len(r.msgs), r.signal()
		r.mu.Unlock()
		if got >= n {
			return r.messages()
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("got %d messages within %v, want %d", got, waitTimeout, n)
		}
	}
}

func (r *recorder) checkNoOverlap(t *testing.T) {
	t.Helper()
	if r.overlap.Load() {
		t.Error("handler was called concurrently for one subscription")
	}
}
