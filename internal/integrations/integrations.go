// Package integrations sends conversation events to a company's own systems (a CRM, a help desk, a chat room) as
// signed webhooks, which an admin sets up (docs/api.md, "Webhooks").
//
// The node that commits an event hands it over (Dispatcher.Events, from the notifier) without waiting: a worker
// matches it against the webhooks, reads the conversation's summary once, and queues one delivery per webhook
// that wants it. Delivery (internal/webhook) retries with a backoff and signs each attempt. Agents' notes are not
// events and never leave.
package integrations

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/parley/parley/internal/bot"
	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/store"
)

// EventTypes are the conversation events a webhook may send.
var EventTypes = []string{store.EventInvited, store.EventMessage, store.EventAssigned, store.EventTransferred,
	store.EventEnded, store.EventCallStarted, store.EventCallEnded}

// Payload is the body of a webhook (docs/api.md, "Webhooks").
type Payload struct {
	// Type is "conversation.event".
	Type         string             `json:"type"`
	DeliveryID   string             `json:"delivery_id"`
	WebhookID    string             `json:"webhook_id"`
	Conversation notify.SummaryView `json:"conversation"`
	Event        notify.EventView   `json:"event"`
}

// PayloadType is the type of every webhook's payload.
const PayloadType = "conversation.event"

// Sender posts deliveries (internal/webhook's Sender).
type Sender interface {
	Send(d bot.Delivery) bool
}

// Dispatcher matches committed events with the webhooks and queues their deliveries.
type Dispatcher struct {
	st   *store.Store
	send Sender
	log  *slog.Logger
	now  func() time.Time
	in   chan batch

	mu     sync.Mutex
	hooks  []store.Webhook
	loaded time.Time // when hooks was read; zero: read again
}

type batch struct {
	c   store.Conversation
	evs []store.Event
}

// refresh is how long the webhooks read from the database are used: an admin's change on another node is
// picked up within it (at once on the node that made it, through Invalidate).
const refresh = 30 * time.Second

// New builds a dispatcher; call Run to start it.
func New(st *store.Store, send Sender, now func() time.Time, log *slog.Logger) *Dispatcher {
	return &Dispatcher{st: st, send: send, log: log, now: now, in: make(chan batch, 4096)}
}

// Events hands over committed events of conversation c. It never blocks: when the worker is that far behind,
// the events are dropped from the webhooks (and logged), never held up in the conversation.
func (d *Dispatcher) Events(c store.Conversation, evs []store.Event) {
	select {
	case d.in <- batch{c: c, evs: evs}:
	default:
		d.log.Warn("webhooks: too many events waiting, some are not sent", slog.String("conversation_id", c.ID))
	}
}

// Invalidate makes the next events read the webhooks again (an admin changed them).
func (d *Dispatcher) Invalidate() {
	d.mu.Lock()
	d.loaded = time.Time{}
	d.mu.Unlock()
}

// Run matches and queues until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-d.in:
			d.dispatch(ctx, b)
		}
	}
}

func (d *Dispatcher) webhooks(ctx context.Context) []store.Webhook {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.loaded.IsZero() && d.now().Sub(d.loaded) < refresh {
		return d.hooks
	}
	hooks, err := d.st.Webhooks(ctx)
	if err != nil {
		d.log.Warn("webhooks: read", slog.Any("error", err))
		return d.hooks // the last ones known
	}
	d.hooks, d.loaded = hooks, d.now()
	return hooks
}

// record returns what notes, for the admin, how a delivery of webhook id ended.
func (d *Dispatcher) record(id string) func(err error) {
	return func(err error) {
		result := store.WebhookOK
		if err != nil {
			result = err.Error()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := d.st.RecordWebhookDelivery(ctx, id, result, d.now()); err != nil {
			d.log.Warn("webhooks: record a delivery", slog.String("webhook_id", id), slog.Any("error", err))
		}
	}
}

func (d *Dispatcher) dispatch(ctx context.Context, b batch) {
	hooks := d.webhooks(ctx)
	var summary *notify.SummaryView
	for _, e := range b.evs {
		for _, w := range hooks {
			if !w.Wants(b.c.SiteID, e.Type) {
				continue
			}
			if summary == nil {
				sm, err := d.st.ConversationSummary(ctx, b.c.ID)
				if err != nil {
					d.log.Warn("webhooks: conversation summary", slog.String("conversation_id", b.c.ID), slog.Any("error", err))
					return
				}
				v := notify.ViewSummary(sm)
				summary = &v
			}
			p := Payload{Type: PayloadType, DeliveryID: store.NewID("dl"), WebhookID: w.ID, Conversation: *summary, Event: notify.ViewEvent(e)}
			body, err := json.Marshal(p)
			if err != nil {
				continue
			}
			if !d.send.Send(bot.Delivery{ID: p.DeliveryID, URL: w.URL, Secret: w.Secret, Body: body, Outcome: d.record(w.ID)}) {
				d.log.Warn("webhooks: the delivery queue is full", slog.String("webhook_id", w.ID))
				d.record(w.ID)(errors.New("the delivery queue was full: the event was not sent"))
			}
		}
	}
}
