package routing

import (
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
	if c.Online == 0 || c.Serving <= 0 || a.AHTSamples < minHistory {
		return 0, false
	}
	if k <= c.Free {
		return a.ACC, true
	}
	step := float64(a.AHT) / c.Serving
	if a.ADVSamples >= advHistory {
		step = float64(a.ADV)
	}
	return a.ACC + time.Duration(float64(k-c.Free)*step), true
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
