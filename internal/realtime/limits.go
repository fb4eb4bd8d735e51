package realtime

import (
	"sync"
	"time"
)

// bucket is a token bucket: rate tokens a second, up to burst. The zero value is unusable; use newBucket.
type bucket struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate float64, burst int, now time.Time) bucket {
	return bucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now}
}

// take spends one token if there is one. Otherwise it says how long until there will be.
func (b *bucket) take(now time.Time) (bool, time.Duration) {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(b.burst, b.tokens+el*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}

// keyedLimiter holds one bucket per key (a visitor, a site), on this node. Buckets that have refilled are dropped
// by sweep, so memory follows the active keys only.
type keyedLimiter struct {
	mu      sync.Mutex
	rate    float64
	burst   int
	buckets map[string]*bucket
}

func newKeyedLimiter(rate float64, burst int) *keyedLimiter {
	return &keyedLimiter{rate: rate, burst: burst, buckets: map[string]*bucket{}}
}

func (l *keyedLimiter) take(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		nb := newBucket(l.rate, l.burst, now)
		b = &nb
		l.buckets[key] = b
	}
	return b.take(now)
}

// sweep forgets buckets that would be full by now.
func (l *keyedLimiter) sweep(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*b.rate >= b.burst {
			delete(l.buckets, k)
		}
	}
}
