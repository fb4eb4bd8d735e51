package simulate

import (
	"errors"
	"fmt"
	"time"

	"github.com/parley/parley/internal/store"
)

// Handling-time distributions.
const (
	Exponential = "exponential"
	Lognormal   = "lognormal"
)

// Config is one simulation: the routing group, its agents, and the workload they face. Durations are simulated
// time; none of them is waited for.
type Config struct {
	// Agents is the number of agents in the one routing group; every one starts available for chat.
	Agents int `json:"agents"`
	// Capacity is each agent's chat slots. 1 models video-like load, where a call takes the agent whole.
	Capacity int `json:"capacity"`
	// Load is the offered load ρ = λ·AHT / (Agents·Capacity): the arrival rate λ follows from it.
	Load float64 `json:"load"`
	// AHT is the mean handling time, from assignment to the end of the conversation.
	AHT time.Duration `json:"aht"`
	// Handling is the handling-time distribution: Exponential or Lognormal.
	Handling string `json:"handling"`
	// HandlingCV is the lognormal's coefficient of variation (standard deviation / mean).
	HandlingCV float64 `json:"handling_cv"`
	// Mode is the group's chat mode: store.ChatAssign, or store.ChatOffer where every conversation rings first.
	Mode string `json:"mode"`
	// Decline and Miss are the probabilities that an agent declines a ringing offer, or lets it ring out (the group's
	// offer timeout). Only in offer mode.
	Decline float64 `json:"decline"`
	Miss    float64 `json:"miss"`
	// AcceptDelay is the mean time an agent takes to accept or decline an offer (exponential).
	AcceptDelay time.Duration `json:"accept_delay"`
	// Comeback is the mean time an agent set not_responding after a missed offer takes to become available again.
	Comeback time.Duration `json:"comeback"`
	// Flaps is how often each agent goes away, per hour (a Poisson process); Away is the mean time away.
	Flaps float64       `json:"flaps_per_hour"`
	Away  time.Duration `json:"away"`
	// Patience is the mean time a visitor waits before leaving the queue (exponential); 0 means nobody leaves.
	Patience time.Duration `json:"patience"`
	// QueuePlaces, OfferTimeout and MaxWait are the routing group's settings.
	QueuePlaces  int           `json:"queue_places"`
	OfferTimeout time.Duration `json:"offer_timeout"`
	MaxWait      time.Duration `json:"max_wait"`
	// Duration is how long visitors keep arriving. The run then drains: it goes on until nobody waits.
	Duration time.Duration `json:"duration"`
	// MinMeasured, when above 0, stops arrivals early once that many visitors have been measured (see Report).
	MinMeasured int `json:"min_measured,omitempty"`
	// Warmup is excluded from the measurements: visitors who arrive before it, and the agents' time before it.
	// It lets the engine's running averages gather history and the queue reach its steady state.
	Warmup time.Duration `json:"warmup"`
	// Tick is how often the engine's Tick runs (offer timeouts, expiry, estimates refreshed).
	Tick time.Duration `json:"tick"`
	// Seed makes the run reproducible: the same seed and config give the same report.
	Seed uint64 `json:"seed"`
	// DatabaseURL is a postgres:// URL to run against PostgreSQL, in a fresh schema dropped at the end; empty runs
	// on SQLite in a temporary directory.
	DatabaseURL string `json:"-"`
}

// DefaultConfig is a 10-agent group at load 0.8 for two simulated hours.
func DefaultConfig() Config {
	return Config{
		Agents: 10, Capacity: 3, Load: 0.8, AHT: 5 * time.Minute, Handling: Lognormal, HandlingCV: 1,
		Mode: store.ChatAssign, Decline: 0.1, Miss: 0.05, AcceptDelay: 5 * time.Second, Comeback: time.Minute,
		Flaps: 1, Away: 3 * time.Minute, Patience: 10 * time.Minute,
		QueuePlaces: 50, OfferTimeout: 30 * time.Second, MaxWait: 15 * time.Minute,
		Duration: 2 * time.Hour, Warmup: 20 * time.Minute, Tick: 2 * time.Second, Seed: 1,
	}
}

// ArrivalRate is λ, visitors per second, that makes the offered load Load.
func (c Config) ArrivalRate() float64 {
	return c.Load * float64(c.Agents*c.Capacity) / c.AHT.Seconds()
}

// Validate reports every setting out of range.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.Agents >= 1, "agents must be at least 1")
	check(c.Capacity >= 1, "capacity must be at least 1")
	check(c.Load > 0 && c.Load <= 2, "load must be in (0, 2]")
	check(c.AHT >= time.Second, "aht must be at least 1s")
	check(c.Handling == Exponential || c.Handling == Lognormal, "handling must be %q or %q", Exponential, Lognormal)
	check(c.HandlingCV > 0, "handling cv must be above 0")
	check(c.Mode == store.ChatAssign || c.Mode == store.ChatOffer, "mode must be %q or %q", store.ChatAssign, store.ChatOffer)
	check(c.Decline >= 0 && c.Miss >= 0 && c.Decline+c.Miss < 1, "decline and miss must be probabilities adding up to less than 1")
	check(c.AcceptDelay >= 0 && c.Comeback >= 0 && c.Away >= 0 && c.Patience >= 0, "delays can't be negative")
	check(c.Flaps >= 0, "flaps can't be negative")
	check(c.QueuePlaces >= 0, "queue places can't be negative")
	check(c.OfferTimeout >= time.Second && c.MaxWait >= time.Second, "offer timeout and max wait must be at least 1s")
	check(c.Duration > c.Warmup && c.Warmup >= 0, "duration must be longer than the warm-up")
	check(c.Tick >= 100*time.Millisecond && c.Tick <= 30*time.Second, "tick must be between 100ms and 30s")
	check(c.MinMeasured >= 0, "min measured can't be negative")
	return errors.Join(errs...)
}
