package realtime

import (
	"sync"

	"github.com/parley/parley/internal/notify"
)

// item is one thing for a connection's writer to do, in order.
type item struct {
	frame  *outFrame      // send this frame
	notice *notify.Notice // turn this bus notice into frames
	catch  string         // replay this conversation's events after the last seq sent
}

// outbox is a connection's queue to its writer. An idle connection holds neither a buffer nor a writer goroutine:
// the first item pushed starts a writer, which exits once the queue is empty. At most one writer runs at a time,
// and the mutex orders one writer's work before the next, so the writer's state needs no lock of its own.
type outbox struct {
	mu      sync.Mutex
	items   []item
	limit   int
	running bool
	write   func([]item) // runs the items in order; called by the writer goroutine only
}

func newOutbox(limit int, write func([]item)) *outbox {
	return &outbox{limit: limit, write: write}
}

// push queues it and reports false when the queue is full: the connection is too slow and must go.
func (o *outbox) push(it item) bool {
	o.mu.Lock()
	if len(o.items) >= o.limit {
		o.mu.Unlock()
		return false
	}
	o.items = append(o.items, it)
	start := !o.running
	o.running = true
	o.mu.Unlock()
	if start {
		go o.drain()
	}
	return true
}

// drain is the writer: it runs what is queued until nothing is left.
func (o *outbox) drain() {
	for {
		o.mu.Lock()
		items := o.items
		o.items = nil
		if len(items) == 0 {
			o.running = false
			o.mu.Unlock()
			return
		}
		o.mu.Unlock()
		o.write(items)
	}
}
