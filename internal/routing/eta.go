package routing

import (
	"math"
	"time"

	"github.com/parley/parley/internal/store"
)

// ETA buckets shown to visitors, shortest first. An estimate is shown as the first bucket it fits.
var buckets = []struct {
	name  string
	under time.Duration
}{
	{"<1", time.Minute},
	{"<2", 2 * time.Minute},
	{"<5", 5 * time.Minute},
	{"<10", 10 * time.Minute},
	{"10+", 0},
}

// BucketNames lists the buckets, shortest first.
func BucketNames() []string {
	names := make([]string, len(buckets))
	for i, b := range buckets {
		names[i] = b.name
	}
	return names
}

// Unknown is the bucket of an estimate the engine can't make honestly.
const Unknown = "unknown"

// advHistory is how many departures from a busy queue the measured advance needs before it replaces AHT / S.
const advHistory = 20

// Estimate is the wait of the visitor at position k (1 is next), per DESIGN section 4:
//
//	ETA_k = ACC                      if k <= F
//	ETA_k = ACC + (k - F) * AHT / S  otherwise
//
// with F the free slots, S the serving slots, AHT the average handling time and ACC the average time to accept.
// AHT / S is how long the queue takes to advance by one place. Once the queue has advanced often enough, the
// engine uses the measured time between departures instead (ADV): it also counts the visitors ahead who give up,
// offers declined or missed, agents stepping away, and the shape of handling times, which AHT / S ignores
// (`parley simulate` measures the difference). It is unknown (ok false) with no agent online or fewer than
// minHistory handled conversations behind AHT.
func Estimate(k int, c store.Capacity, a store.Averages, minHistory int) (time.Duration, bool) {
	w, ok := WaitOf(k, c, a, minHistory)
	return w.Mean(), ok
}

// Wait is the shape of a visitor's wait behind the formula: the time to accept (Base), after N more departures
// from the queue, which come every Step on average.
type Wait struct {
	Base, Step time.Duration
	N          int
}

// WaitOf is the wait of position k, whose mean is Estimate's. ok is false when the wait can't be estimated.
func WaitOf(k int, c store.Capacity, a store.Averages, minHistory int) (Wait, bool) {
	if c.Online == 0 || c.Serving <= 0 || a.AHTSamples < minHistory {
		return Wait{}, false
	}
	if k <= c.Free {
		return Wait{Base: a.ACC}, true
	}
	step := float64(a.AHT) / c.Serving
	if a.ADVSamples >= advHistory {
		step = float64(a.ADV)
	}
	return Wait{Base: a.ACC, Step: time.Duration(step), N: k - c.Free}, true
}

// Mean is the formula's estimate: Base + N × Step.
func (w Wait) Mean() time.Duration { return w.Base + time.Duration(w.N)*w.Step }

// Within is the probability that the wait ends before d, when departures come at random times (so the N-th comes
// after an Erlang-distributed time, whose spread is the mean's 1/√N).
func (w Wait) Within(d time.Duration) float64 {
	if d <= w.Base {
		return 0
	}
	if w.N == 0 || w.Step <= 0 {
		return 1
	}
	// P(Erlang(N, 1) < x) = 1 − Σ_{i<N} e^−x x^i / i!
	x := float64(d-w.Base) / float64(w.Step)
	term, sum := math.Exp(-x), 0.0
	for i := 0; i < w.N; i++ {
		sum += term
		term *= x / float64(i+1)
	}
	return max(0, 1-sum)
}

// likelyBucket is the bucket the wait most probably ends in, with its probability, and the probability of each
// bucket by name.
func (w Wait) likelyBucket() (string, map[string]float64) {
	probs := map[string]float64{}
	best, bestP := "", -1.0
	lower := 0.0
	for _, b := range buckets {
		upper := 1.0
		if b.under > 0 {
			upper = w.Within(b.under)
		}
		p := upper - lower
		probs[b.name] = p
		if p > bestP {
			best, bestP = b.name, p
		}
		lower = upper
	}
	return best, probs
}

// stickiness is how much less likely than the most likely bucket the bucket shown before may be and still be kept.
const stickiness = 0.1

// BucketOfWait is the bucket shown for a wait: the one it most probably ends in, not the one its mean falls in. The
// two differ when the mean sits near a bucket's edge: a wait of two departures 30 s apart has a mean of one minute
// but ends within the first minute 59% of the time. The bucket shown before stays while it is nearly as likely,
// so it doesn't flicker between neighbours.
func BucketOfWait(w Wait, ok bool, prev string) string {
	if !ok {
		return Unknown
	}
	best, probs := w.likelyBucket()
	if p, known := probs[prev]; known && p >= probs[best]-stickiness {
		return prev
	}
	return best
}

func bucketOf(d time.Duration) string {
	for _, b := range buckets {
		if b.under == 0 || d < b.under {
			return b.name
		}
	}
	return buckets[len(buckets)-1].name
}

// hysteresis is how far past a bucket's edge an estimate must go before the bucket shown changes.
const hysteresis = 0.15

// Bucket rounds an estimate to the bucket shown, sticking to the previous bucket while the estimate stays within
// 15% of it, so a visitor doesn't see "less than 2 minutes" and "less than 5 minutes" alternate.
func Bucket(d time.Duration, ok bool, prev string) string {
	if !ok {
		return Unknown
	}
	raw := bucketOf(d)
	if prev == "" || prev == Unknown || raw == prev {
		return raw
	}
	lo := bucketOf(time.Duration(float64(d) * (1 - hysteresis)))
	hi := bucketOf(time.Duration(float64(d) * (1 + hysteresis)))
	if prev == lo || prev == hi {
		return prev
	}
	return raw
}
