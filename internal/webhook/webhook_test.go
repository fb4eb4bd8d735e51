package webhook

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley/parley/internal/bot"
)

func TestSignAndVerify(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"type":"message"}`)
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := Sign("s3cret", now.Unix(), body)
	if err := Verify("s3cret", sig, ts, body, now, DefaultTolerance); err != nil {
		t.Fatalf("a good signature: %v", err)
	}
	tests := []struct {
		name            string
		secret, sig, ts string
		body            string
		at              time.Time
		want            error
	}{
		{"another secret", "forged", sig, ts, string(body), now, ErrBadSignature},
		{"a changed body", "s3cret", sig, ts, `{"type":"message","x":1}`, now, ErrBadSignature},
		{"a changed timestamp", "s3cret", sig, strconv.FormatInt(now.Unix()+1, 10), string(body), now, ErrBadSignature},
		{"no prefix", "s3cret", sig[len("sha256="):], ts, string(body), now, ErrBadSignature},
		{"not hex", "s3cret", "sha256=zz", ts, string(body), now, ErrBadSignature},
		{"too old: a replay", "s3cret", sig, ts, string(body), now.Add(DefaultTolerance + time.Second), ErrStale},
		{"from the future", "s3cret", sig, ts, string(body), now.Add(-DefaultTolerance - time.Second), ErrStale},
		{"no timestamp", "s3cret", sig, "", string(body), now, ErrStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Verify(tt.secret, tt.sig, tt.ts, []byte(tt.body), tt.at, DefaultTolerance); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func newSender(t *testing.T, attempts int) *Sender {
	t.Helper()
	s := NewSender(Config{Timeout: 2 * time.Second, Attempts: attempts, Backoff: 10 * time.Millisecond, Workers: 2, Queue: 8},
		time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

// A receiver that fails twice and then verifies and accepts the third attempt: the delivery succeeds, with the
// same delivery id each time and a signature the receiver checks.
func TestSenderRetriesThenDelivers(t *testing.T) {
	var calls atomic.Int32
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(DeliveryHeader) != "wh_1" {
			t.Errorf("delivery id %q", r.Header.Get(DeliveryHeader))
		}
		body, err := VerifyRequest(r, "k", time.Now())
		if err != nil {
			t.Errorf("verify: %v", err)
		}
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		got <- string(body)
	}))
	defer srv.Close()
	s := newSender(t, 3)
	gaveUp := make(chan struct{}, 1)
	if !s.Send(bot.Delivery{ID: "wh_1", URL: srv.URL, Secret: "k", Body: []byte(`{"n":1}`), GiveUp: func() { gaveUp <- struct{}{} }}) {
		t.Fatal("Send refused")
	}
	select {
	case b := <-got:
		if b != `{"n":1}` {
			t.Fatalf("body %q", b)
		}
	case <-gaveUp:
		t.Fatal("gave up")
	case <-time.After(5 * time.Second):
		t.Fatal("not delivered")
	}
}

func TestSenderGivesUp(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		attempts int
		want     int32 // attempts made
	}{
		{"after the last attempt", http.StatusInternalServerError, 3, 3},
		{"at once when refused", http.StatusUnauthorized, 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				w.WriteHeader(tt.status)
			}))
			defer srv.Close()
			s := newSender(t, tt.attempts)
			gaveUp := make(chan struct{}, 1)
			s.Send(bot.Delivery{ID: "wh_2", URL: srv.URL, Secret: "k", Body: []byte(`{}`), GiveUp: func() { gaveUp <- struct{}{} }})
			select {
			case <-gaveUp:
			case <-time.After(5 * time.Second):
				t.Fatal("never gave up")
			}
			if n := calls.Load(); n != tt.want {
				t.Fatalf("%d attempts, want %d", n, tt.want)
			}
		})
	}
}

// A receiver slower than the timeout counts as a failure, and Send never waits for it.
func TestSenderTimesOutWithoutBlocking(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	s := NewSender(Config{Timeout: 100 * time.Millisecond, Attempts: 1, Backoff: time.Millisecond, Workers: 1, Queue: 1},
		time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	gaveUp := make(chan struct{}, 4)
	start := time.Now()
	accepted := 0
	for range 4 {
		if s.Send(bot.Delivery{ID: "wh_3", URL: srv.URL, Secret: "k", Body: []byte(`{}`), GiveUp: func() { gaveUp <- struct{}{} }}) {
			accepted++
		}
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Fatalf("Send blocked for %v", d)
	}
	if accepted == 4 {
		t.Fatal("a queue of one took four deliveries at once")
	}
	select {
	case <-gaveUp:
	case <-time.After(5 * time.Second):
		t.Fatal("the slow receiver was not given up")
	}
}
