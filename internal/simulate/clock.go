package simulate

import (
	"container/heap"
	"time"
)

// clock is the simulation's time, injected into the engine as its now. It only moves when the agenda runs the next
// action, so everything the engine does in one call happens at one instant. It is not safe for concurrent use: the
// simulation is one goroutine.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

// action is something that happens at a simulated instant.
type action struct {
	at  time.Time
	seq uint64 // order of scheduling, which breaks ties between equal instants
	do  func() error
}

// agenda holds the actions to come, earliest first; actions at the same instant run in the order they were
// scheduled. That order is deterministic, so a run is too.
type agenda struct {
	clk  *clock
	q    actionHeap
	next uint64
}

// at schedules do at t, rounded to the millisecond the store keeps; a time already past runs at the clock's now.
func (a *agenda) at(t time.Time, do func() error) {
	t = t.Round(time.Millisecond)
	if t.Before(a.clk.t) {
		t = a.clk.t
	}
	a.next++
	heap.Push(&a.q, action{at: t, seq: a.next, do: do})
}

// after schedules do d after the clock's now.
func (a *agenda) after(d time.Duration, do func() error) { a.at(a.clk.t.Add(d), do) }

// every runs do at start and then every period after it, for good: the run ends when it has what it needs, not
// when the agenda is empty.
func (a *agenda) every(start time.Time, period time.Duration, do func() error) {
	var step func() error
	step = func() error {
		a.after(period, step)
		return do()
	}
	a.at(start, step)
}

// step moves the clock to the earliest action and runs it. It reports false when nothing is left.
func (a *agenda) step() (bool, error) {
	if len(a.q) == 0 {
		return false, nil
	}
	x := heap.Pop(&a.q).(action)
	a.clk.t = x.at
	return true, x.do()
}

type actionHeap []action

func (h actionHeap) Len() int { return len(h) }
func (h actionHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h actionHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *actionHeap) Push(x any)   { *h = append(*h, x.(action)) }
func (h *actionHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
