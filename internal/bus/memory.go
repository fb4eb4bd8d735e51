package bus

import (
	"bytes"
	"context"
	"sync"
)

var _ Bus = (*Memory)(nil)

// Memory is the in-process Bus, the default for a single node. It reaches only subscribers in the same process.
//
// Publish dispatches synchronously: when it returns, every subscriber that was idle has run its handler for the
// message, on the publisher's goroutine. A subscription whose handler is already running (because another goroutine
// is publishing to it, or because a handler published in reaction to a message) gets the message queued instead,
// and the goroutine that is running the handler delivers it before giving up the subscription. This keeps the
// one-at-a-time and per-publisher ordering guarantees without a goroutine per subscription and without deadlocking a
// handler that publishes, and a message published by a handler reaches every subscriber after the message that
// triggered it. A panicking handler panics the publisher that was delivering; the subscriptions stay usable.
//
// Publish copies data once, if anyone is subscribed, and every subscriber of that message shares the copy.
//
// Subscribers are indexed by subject, so Publish costs a map lookup under a read lock plus the handler calls, and
// stays cheap with many thousands of subjects; publishing to a subject nobody listens on allocates nothing.
type Memory struct {
	mu sync.RWMutex
	// subs maps a subject to its subscribers. Each slice is copy-on-write: it is replaced, never modified, so
	// Publish can use it after releasing mu.
	subs   map[string][]*memorySub
	closed bool
}

// NewMemory returns an empty in-process Bus.
func NewMemory() *Memory {
	return &Memory{subs: make(map[string][]*memorySub)}
}

// Publish implements [Bus.Publish].
func (m *Memory) Publish(ctx context.Context, subject string, data []byte) error {
	if err := validateSubject(subject); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.RLock()
	closed, subs := m.closed, m.subs[subject]
	m.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	if len(subs) == 0 {
		return nil
	}
	data = bytes.Clone(data)

	// Queue the message on every subscription before running any handler, so that a message a handler publishes
	// in reaction reaches every subscriber after this one, not before.
	var buf [8]*memorySub
	claimed := buf[:0]
	for _, s := range subs {
		if s.enqueue(data) {
			claimed = append(claimed, s)
		}
	}
	drained := 0
	defer func() {
		// drained < len(claimed) only if a handler panicked: give up the claims left, so that the next publisher
		// delivers what is queued on them instead of the subscriptions stalling forever.
		for _, s := range claimed[drained:] {
			s.release()
		}
	}()
	for _, s := range claimed {
		s.drain()
		drained++
	}
	return nil
}

// Subscribe implements [Bus.Subscribe].
func (m *Memory) Subscribe(subject string, fn Handler) (Subscription, error) {
	if err := validateSubject(subject); err != nil {
		return nil, err
	}
	if fn == nil {
		return nil, errNilHandler
	}
	s := &memorySub{bus: m, subject: subject, fn: fn}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	old := m.subs[subject]
	// The full slice expression makes append copy, leaving the slice that publishers may hold untouched.
	m.subs[subject] = append(old[:len(old):len(old)], s)
	return s, nil
}

// Close implements [Bus.Close].
func (m *Memory) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	subs := m.subs
	m.subs = nil
	m.mu.Unlock()

	for _, list := range subs {
		for _, s := range list {
			s.end()
		}
	}
	return nil
}

// remove takes s out of the subject index. It is a no-op if s is not there (already removed, or the bus closed).
func (m *Memory) remove(s *memorySub) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.subs[s.subject]
	i := -1
	for j, o := range old {
		if o == s {
			i = j
			break
		}
	}
	if i < 0 {
		return
	}
	if len(old) == 1 {
		delete(m.subs, s.subject)
		return
	}
	list := make([]*memorySub, 0, len(old)-1)
	list = append(list, old[:i]...)
	m.subs[s.subject] = append(list, old[i+1:]...)
}

// maxIdleQueue is the queue capacity a subscription keeps once it is drained; a larger backing array, left by a
// burst, is released instead of pinned for the subscription's lifetime.
const maxIdleQueue = 64

// memorySub is one subscription to a Memory bus.
type memorySub struct {
	bus     *Memory
	subject string
	fn      Handler

	mu sync.Mutex
	// queue[head:] holds messages waiting while a goroutine runs fn.
	queue [][]byte
	head  int
	// running is true while some goroutine owns the right to call fn; it guarantees one call at a time.
	running bool
	// ended is true once the subscription has been ended; no call to fn starts after that.
	ended bool
}

var _ Subscription = (*memorySub)(nil)

// enqueue queues data and reports whether the caller claimed the subscription, and so must call drain. It does not
// claim it if another goroutine is running fn already (perhaps the caller's own, if fn published to its own
// subject): that goroutine delivers the message before it gives the claim up.
func (s *memorySub) enqueue(data []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return false
	}
	s.queue = append(s.queue, data)
	if s.running {
		return false
	}
	s.running = true
	return true
}

// drain calls fn for queued messages until the queue is empty or the subscription ends, then gives up the claim.
// The caller must hold the claim (see enqueue). If fn panics, the claim is still held: the caller must release it.
func (s *memorySub) drain() {
	s.mu.Lock()
	for !s.ended && s.head < len(s.queue) {
		data := s.queue[s.head]
		s.queue[s.head] = nil // let the message be collected once fn is done with it
		s.head++
		s.mu.Unlock()
		s.fn(s.subject, data)
		s.mu.Lock()
	}
	s.resetQueue()
	s.running = false
	s.mu.Unlock()
}

// release gives up a claim without delivering what is queued; the next enqueue that claims delivers it.
func (s *memorySub) release() {
	s.mu.Lock()
	s.running = false
	s.mu.Unlock()
}

// resetQueue empties the queue. s.mu must be held.
func (s *memorySub) resetQueue() {
	if cap(s.queue) > maxIdleQueue {
		s.queue = nil
	} else {
		clear(s.queue)
		s.queue = s.queue[:0]
	}
	s.head = 0
}

// end marks the subscription ended and drops queued messages, without touching the bus index.
func (s *memorySub) end() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return false
	}
	s.ended = true
	s.resetQueue()
	return true
}

// Unsubscribe implements [Subscription.Unsubscribe].
func (s *memorySub) Unsubscribe() error {
	if s.end() {
		s.bus.remove(s)
	}
	return nil
}
