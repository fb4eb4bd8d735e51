package simulate

import (
	"math"
	"math/rand/v2"
	"time"
)

// Random streams. Each visitor, offer and agent draws from its own stream, derived from the seed and its number, so
// that what one of them draws doesn't depend on the order in which the engine announced things: the same seed
// gives the same run, and two configs with the same seed face the same visitors (common random numbers).
const (
	streamArrivals uint64 = iota + 1
	streamVisitor
	streamOffer
	streamAgent
)

// workload draws the synthetic traffic: when visitors arrive, how long they stay, how agents answer offers, and
// when agents step away.
type workload struct {
	cfg      Config
	arrivals *rand.Rand
}

func newWorkload(cfg Config) *workload {
	return &workload{cfg: cfg, arrivals: stream(cfg.Seed, streamArrivals, 0, 0)}
}

// stream is the random source for one purpose and one subject (a visitor, an offer, an agent).
func stream(seed, purpose, a, b uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed^purpose*0x9e3779b97f4a7c15, a<<32^b))
}

// nextArrival is the gap before the next visitor: arrivals are a Poisson process of rate Config.ArrivalRate.
func (w *workload) nextArrival() time.Duration {
	return seconds(w.arrivals.ExpFloat64() / w.cfg.ArrivalRate())
}

// visitorTraits are what a visitor brings: how long their conversation will take once an agent has it, and how long
// they will wait in the queue before leaving (0: forever).
type visitorTraits struct {
	handling time.Duration
	patience time.Duration
}

func (w *workload) visitor(n int) visitorTraits {
	r := stream(w.cfg.Seed, streamVisitor, uint64(n), 0)
	t := visitorTraits{handling: w.handling(r)}
	if w.cfg.Patience > 0 {
		t.patience = exponential(r, w.cfg.Patience)
	}
	return t
}

func (w *workload) handling(r *rand.Rand) time.Duration {
	d := exponential(r, w.cfg.AHT)
	if w.cfg.Handling == Lognormal {
		// For mean m and coefficient of variation cv: σ² = ln(1 + cv²), μ = ln m − σ²/2.
		s2 := math.Log1p(w.cfg.HandlingCV * w.cfg.HandlingCV)
		mu := math.Log(w.cfg.AHT.Seconds()) - s2/2
		d = seconds(math.Exp(mu + math.Sqrt(s2)*r.NormFloat64()))
	}
	return max(d, time.Second)
}

// Answers an agent gives a ringing offer.
const (
	answerAccept = iota
	answerDecline
	answerMiss
)

// answer is how an agent answers a visitor's attempt-th offer, and after how long; a missed offer is never
// answered (the engine times it out).
func (w *workload) answer(visitor, attempt, agent int) (int, time.Duration) {
	r := stream(w.cfg.Seed, streamOffer, uint64(visitor), uint64(attempt)<<16|uint64(agent))
	u := r.Float64()
	delay := exponential(r, w.cfg.AcceptDelay)
	switch {
	case u < w.cfg.Miss:
		return answerMiss, 0
	case u < w.cfg.Miss+w.cfg.Decline:
		return answerDecline, delay
	}
	return answerAccept, delay
}

// agentRand is an agent's own stream: their presence flaps and how soon they come back.
func (w *workload) agentRand(agent int) *rand.Rand {
	return stream(w.cfg.Seed, streamAgent, uint64(agent), 0)
}

func exponential(r *rand.Rand, mean time.Duration) time.Duration {
	return seconds(r.ExpFloat64() * mean.Seconds())
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
