package simulate

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/routing"
	"github.com/parley/parley/internal/store"
)

// agent is one simulated agent at their desk.
type agent struct {
	n      int
	acc    store.Account
	status string // chat presence, as the desk was last told
	away   bool   // stepped away (a presence flap) and not back yet
	open   int    // conversations assigned and not ended
	rand   *rand.Rand

	// Slot-time while available, inside the measurement window, up to since: every slot, and the busy ones.
	since                  time.Time
	slotTime, busySlotTime time.Duration
}

// AgentActivity counts what the agents did besides conversations.
type AgentActivity struct {
	// Flaps is how many times an agent stepped away; NotResponding how many times the engine set one
	// not_responding after a missed offer.
	Flaps         int `json:"flaps"`
	NotResponding int `json:"not_responding"`
}

// Offers counts the offers made in offer mode, and how each ended, as the desks were told.
type Offers struct {
	Made      int `json:"made"`
	Accepted  int `json:"accepted"`
	Declined  int `json:"declined"`
	TimedOut  int `json:"timed_out"`
	Withdrawn int `json:"withdrawn"` // the agent stepped away, or the visitor left, while it rang
	Taken     int `json:"taken"`     // another agent of a group-wide offer answered first
	// Late counts answers the engine refused: the offer had ended before the agent answered it.
	Late int `json:"late"`
}

func (o *Offers) ended(reason string) {
	switch reason {
	case store.OfferAccepted:
		o.Accepted++
	case store.OfferDeclined:
		o.Declined++
	case store.OfferTimedOut:
		o.TimedOut++
	case store.OfferWithdrawn:
		o.Withdrawn++
	case store.OfferTaken:
		o.Taken++
	}
}

// setPresence is the agent choosing a status at their desk.
func (s *sim) setPresence(a *agent, status string) error {
	_, err := s.eng.SetPresence(s.ctx, a.acc.ID, store.ChannelChat, status)
	return err
}

// onPresence is a presence notice reaching the agent's desk. An agent the engine set not_responding comes back
// after a while, unless they are away, in which case they come back with the end of the flap.
func (s *sim) onPresence(a *agent, p *notify.PresenceView) {
	s.integrate(a)
	a.status = p.Chat
	switch p.Chat {
	case store.StatusNotResponding:
		s.activity.NotResponding++
		s.agenda.after(exponential(a.rand, s.cfg.Comeback), func() error {
			if a.status != store.StatusNotResponding || a.away {
				return nil
			}
			return s.setPresence(a, store.StatusAvailable)
		})
	case store.StatusOffline:
		// Desks touch their connection every heartbeat: the engine should never see one gone.
		s.violations.add(s.clk.Now(), fmt.Sprintf("simulator: agent %s went offline although their desk is alive", a.acc.ID))
	}
}

// onOffer is an offer ringing on the agent's desk: they accept or decline it after a while, or let it ring out.
func (s *sim) onOffer(a *agent, o *notify.OfferView) {
	s.offers.Made++
	v := s.byConv[o.ConversationID]
	if v == nil {
		return
	}
	v.offers++
	answer, delay := s.work.answer(v.n, v.offers, a.n)
	if answer == answerMiss {
		return
	}
	s.agenda.after(delay, func() error {
		var err error
		if answer == answerAccept {
			_, err = s.eng.Accept(s.ctx, a.acc.ID, o.OfferID)
		} else {
			err = s.eng.Decline(s.ctx, a.acc.ID, o.OfferID)
		}
		if errors.Is(err, routing.ErrConflict) || errors.Is(err, routing.ErrNotFound) || errors.Is(err, routing.ErrAtCapacity) {
			s.offers.Late++
			return nil
		}
		return err
	})
}

// scheduleFlap plans the agent's next step away: flaps are a Poisson process of Config.Flaps per hour. An agent
// who is not available then (not responding, or still away) skips it.
func (s *sim) scheduleFlap(a *agent) {
	if s.cfg.Flaps <= 0 {
		return
	}
	s.agenda.after(exponential(a.rand, time.Duration(float64(time.Hour)/s.cfg.Flaps)), func() error {
		away := exponential(a.rand, s.cfg.Away)
		s.scheduleFlap(a)
		if a.status != store.StatusAvailable || a.away {
			return nil
		}
		s.activity.Flaps++
		a.away = true
		s.agenda.after(away, func() error {
			a.away = false
			return s.setPresence(a, store.StatusAvailable)
		})
		return s.setPresence(a, store.StatusAway)
	})
}

// integrate adds the agent's slot-time since the last call, while they were available and within the measurement
// window (from the warm-up to the end of arrivals). Call it before the agent's status or load changes.
func (s *sim) integrate(a *agent) {
	now := s.clk.Now()
	from, to := a.since, now
	if from.Before(s.warm) {
		from = s.warm
	}
	if !s.windowEnd.IsZero() && to.After(s.windowEnd) {
		to = s.windowEnd
	}
	if a.status == store.StatusAvailable && to.After(from) {
		d := to.Sub(from)
		a.slotTime += d * time.Duration(a.acc.ChatCapacity)
		a.busySlotTime += d * time.Duration(a.open)
	}
	a.since = now
}
