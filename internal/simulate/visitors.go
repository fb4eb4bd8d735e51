package simulate

import (
	"errors"
	"fmt"
	"time"

	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/routing"
	"github.com/parley/parley/internal/store"
)

// visitor is one simulated visitor and what they were told.
type visitor struct {
	n       int
	id      string
	conv    store.Conversation
	traits  visitorTraits
	arrived time.Time
	// state is the request's state in the last queue notice ("" before the first); reason goes with a final one.
	state, reason string
	agentID       string // from the "assigned" event
	assignedAt    time.Time
	shown         *shown // the first estimate shown in the queue; nil if never queued
	offers        int    // offers made for the visitor's conversation so far
	leaving       bool   // patience ran out: they leave as soon as the engine lets them
}

// shown is the first estimated wait a visitor saw in the queue, with what the simulator knew at that instant.
type shown struct {
	at       time.Time
	position int
	bucket   string
	eta      time.Duration // what the seconds said; meaningful when known
	known    bool
	// capacity and averages are the group's, as the engine read them then; they make the diagnostics.
	capacity store.Capacity
	averages store.Averages
}

// afterWarmup reports whether the visitor arrived after the warm-up: only they are measured.
func (s *sim) afterWarmup(v *visitor) bool { return !v.arrived.Before(s.warm) }

func (v *visitor) settled() bool {
	switch v.state {
	case "", store.RequestQueued, store.RequestOffered:
		return false
	}
	return true
}

// arrive brings a new visitor, whose first message opens a conversation that goes to the engine, as the chat
// service does, and schedules the next arrival while the window is open.
func (s *sim) arrive() error {
	if !s.windowEnd.IsZero() {
		return nil
	}
	now := s.clk.Now()
	v := &visitor{n: len(s.visitors), arrived: now}
	v.id, v.traits = fmt.Sprintf("vis%07d", v.n), s.work.visitor(v.n)
	res, err := s.st.AppendVisitorMessage(s.ctx, store.VisitorMessage{SiteID: s.site.ID, VisitorID: v.id, VisitorName: "Visitor",
		ClientMsgID: "m1", Body: "Hello, I have a question about my order.", At: now})
	if err != nil {
		return err
	}
	v.conv = res.Conversation
	s.visitors = append(s.visitors, v)
	s.live = append(s.live, v)
	s.byVisitor[v.id], s.byConv[v.conv.ID] = v, v
	s.waiting++
	if err := s.eng.Enqueue(s.ctx, v.conv); err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}
	if v.traits.patience > 0 {
		s.agenda.after(v.traits.patience, func() error { v.leaving = true; return s.leave(v) })
	}
	s.agenda.after(s.work.nextArrival(), s.arrive)
	return nil
}

// leave takes a visitor whose patience ran out out of the queue. The engine only lets a queued visitor leave: one
// whose conversation is ringing on a desk leaves if it comes back to the queue, and stays if an agent takes it.
func (s *sim) leave(v *visitor) error {
	if v.state != store.RequestQueued {
		return nil
	}
	err := s.eng.Leave(s.ctx, v.id, v.conv.ID)
	if errors.Is(err, routing.ErrNotFound) {
		return nil
	}
	return err
}

// onQueue is a queue notice reaching the visitor: their place and estimated wait, or how their wait ended.
func (s *sim) onQueue(v *visitor, q *notify.QueueView) error {
	if v.state == store.RequestAssigned && q.State == store.RequestClosed {
		return nil // the conversation ended: the visitor was served
	}
	if v.settled() {
		s.violations.add(s.clk.Now(), fmt.Sprintf("simulator: visitor %s was told %s after %s", v.id, q.State, v.state))
		return nil
	}
	v.state = q.State
	switch q.State {
	case store.RequestQueued:
		if v.shown == nil && q.ETA != nil {
			if err := s.recordShown(v, q); err != nil {
				return err
			}
		}
		if v.leaving {
			return s.leave(v)
		}
	case store.RequestOffered:
	case store.RequestAssigned:
		return s.assigned(v)
	default:
		v.reason = q.Reason
		s.waiting--
	}
	return nil
}

// recordShown keeps the first estimate a visitor was shown and, for measured visitors, the group's capacity and
// running averages at that instant.
func (s *sim) recordShown(v *visitor, q *notify.QueueView) error {
	sh := &shown{at: s.clk.Now(), position: q.Position, bucket: q.ETA.Bucket}
	if q.ETA.Seconds != nil {
		sh.eta, sh.known = time.Duration(*q.ETA.Seconds)*time.Second, true
	}
	v.shown = sh
	if !s.afterWarmup(v) || !sh.known {
		return nil
	}
	var err error
	if sh.capacity, err = s.st.GroupCapacity(s.ctx, s.group.ID, store.ChannelChat); err != nil {
		return err
	}
	sh.averages, err = s.st.GroupAverages(s.ctx, s.group.ID, store.ChannelChat)
	return err
}

// assigned starts the visitor's conversation with their agent, who ends it after the visitor's handling time.
func (s *sim) assigned(v *visitor) error {
	v.assignedAt = s.clk.Now()
	s.waiting--
	if v.agentID == "" {
		return fmt.Errorf("visitor %s was assigned without an assigned event", v.id)
	}
	a := s.byAccount[v.agentID]
	if a == nil {
		return fmt.Errorf("visitor %s was assigned to unknown agent %s", v.id, v.agentID)
	}
	if v.shown != nil && v.shown.known && s.afterWarmup(v) {
		s.measured++
		if s.cfg.MinMeasured > 0 && s.measured >= s.cfg.MinMeasured {
			s.closeWindow()
		}
	}
	s.integrate(a)
	a.open++
	s.agenda.after(v.traits.handling, func() error { return s.end(v, a) })
	return nil
}

// end is the agent ending the conversation, as the chat service does: the store closes it, then the engine frees
// the agent's slot.
func (s *sim) end(v *visitor, a *agent) error {
	if _, err := s.st.EndConversation(s.ctx, v.conv.ID, a.acc.ID, a.acc.Name, s.clk.Now()); err != nil {
		return fmt.Errorf("end conversation %s: %w", v.conv.ID, err)
	}
	s.eng.Ended(s.ctx, v.conv.ID)
	s.integrate(a)
	a.open--
	return nil
}
