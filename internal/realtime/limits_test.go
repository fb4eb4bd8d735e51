package realtime

import (
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	now := time.Unix(0, 0)
	b := newBucket(2, 3, now)
	for i := 0; i < 3; i++ {
		if ok, _ := b.take(now); !ok {
			t.Fatalf("burst token %d refused", i)
		}
	}
	ok, wait := b.take(now)
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("empty bucket: ok=%v wait=%v", ok, wait)
	}
	if ok, _ := b.take(now.Add(500 * time.Millisecond)); !ok {
		t.Fatal("token not refilled after 500ms at 2/s")
	}
}

func TestKeyedLimiterSweeps(t *testing.T) {
	now := time.Unix(0, 0)
	l := newKeyedLimiter(1, 1)
	l.take("a", now)
	l.take("b", now)
	if ok, _ := l.take("a", now); ok {
		t.Fatal("second take of a 1-burst bucket allowed")
	}
	l.sweep(now.Add(2 * time.Second))
	if len(l.buckets) != 0 {
		t.Fatalf("%d buckets left after they refilled", len(l.buckets))
	}
}
