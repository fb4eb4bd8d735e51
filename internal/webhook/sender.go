package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/parley/parley/internal/bot"
)

// Config tunes delivery.
type Config struct {
	// Timeout is how long one attempt may take.
	Timeout time.Duration
	// Attempts is how many times a delivery is tried in all before it is given up.
	Attempts int
	// Backoff is the wait before the first retry; it doubles before each next one.
	Backoff time.Duration
	// Workers is how many deliveries are posted at once.
	Workers int
	// Queue is how many deliveries may wait; beyond, Send refuses (and the bot hands over).
	Queue int
}

// Sender posts webhooks in the background. It implements bot.Webhooks.
type Sender struct {
	cfg    Config
	client *http.Client
	now    func() time.Time
	log    *slog.Logger
	queue  chan job
}

var _ bot.Webhooks = (*Sender)(nil)

type job struct {
	d       bot.Delivery
	attempt int
}

// NewSender builds a sender; call Run to start it.
func NewSender(cfg Config, now func() time.Time, log *slog.Logger) *Sender {
	if cfg.Workers < 1 {
		cfg.Workers = 1
	}
	if cfg.Attempts < 1 {
		cfg.Attempts = 1
	}
	client := &http.Client{
		Timeout: cfg.Timeout,
		// A webhook goes to the URL the admin gave, never elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Sender{cfg: cfg, client: client, now: now, log: log, queue: make(chan job, max(cfg.Queue, 1))}
}

// Run posts deliveries until ctx ends.
func (s *Sender) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range s.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-s.queue:
					s.attempt(ctx, j)
				}
			}
		}()
	}
	wg.Wait()
}

// Send queues a delivery and returns at once. It reports false when the queue is full.
func (s *Sender) Send(d bot.Delivery) bool {
	select {
	case s.queue <- job{d: d}:
		return true
	default:
		return false
	}
}

// errPermanent marks an answer that a retry would not change.
var errPermanent = errors.New("webhook: refused by the receiver")

func (s *Sender) attempt(ctx context.Context, j job) {
	err := s.post(ctx, j.d)
	if err == nil {
		if j.d.Outcome != nil {
			j.d.Outcome(nil)
		}
		return
	}
	if ctx.Err() != nil {
		return // shutting down
	}
	j.attempt++
	if errors.Is(err, errPermanent) || j.attempt >= s.cfg.Attempts {
		s.log.Warn("webhook failed", slog.String("delivery_id", j.d.ID), slog.Int("attempts", j.attempt), slog.Any("error", err))
		s.giveUp(j.d, err)
		return
	}
	// Retry later without holding a worker: a slow bot must not delay the others.
	wait := s.cfg.Backoff << (j.attempt - 1)
	time.AfterFunc(wait, func() {
		if ctx.Err() != nil {
			return
		}
		select {
		case s.queue <- j:
		default:
			s.giveUp(j.d, fmt.Errorf("webhook: the delivery queue is full (last error: %w)", err))
		}
	})
}

func (s *Sender) giveUp(d bot.Delivery, err error) {
	if d.GiveUp != nil {
		d.GiveUp()
	}
	if d.Outcome != nil {
		d.Outcome(err)
	}
}

// post makes one attempt. A 2xx answer is a success; 408, 429 and 5xx (and network errors) may be retried; any
// other answer is final.
func (s *Sender) post(ctx context.Context, d bot.Delivery) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	ts := s.now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Parley-Webhook/1")
	req.Header.Set(TimestampHeader, strconv.FormatInt(ts, 10))
	req.Header.Set(SignatureHeader, Sign(d.Secret, ts, d.Body))
	req.Header.Set(DeliveryHeader, d.ID)
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		return fmt.Errorf("webhook: status %d", resp.StatusCode)
	}
	return fmt.Errorf("%w: status %d", errPermanent, resp.StatusCode)
}
