package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

var _ Bus = (*NATS)(nil)

// subscribeFlushTimeout bounds how long Subscribe waits for the server to confirm a new subscription.
const subscribeFlushTimeout = 5 * time.Second

// NATS is a Bus that links Parley nodes through a NATS server, using core publish/subscribe only: no JetStream, no
// persistence, matching the bus's at-most-once contract.
//
// The connection reconnects forever. While it is down, Publish buffers messages in nats.go's reconnect buffer
// (8 MiB by default, flushed on reconnect) and returns an error once that is full; subscriptions are restored on
// reconnect, and whatever was published meanwhile by other nodes is lost, which subscribers recover from the store.
// Publish never waits for the network beyond nats.go's own write buffering.
//
// Each subscription has its own goroutine in nats.go, so handlers of different subscriptions run concurrently.
// A subscription whose handler falls too far behind (nats.go's default pending limits: 512 Ki messages or 64 MiB)
// has messages dropped, and the drop is logged. Every subscriber gets its own copy of the data. Messages over the
// server's max_payload (1 MiB by default) are refused by Publish.
type NATS struct {
	nc     *nats.Conn
	log    *slog.Logger
	closed atomic.Bool
}

// NewNATS connects to the NATS server(s) at url (a comma-separated list is allowed) and returns a Bus on that
// connection. name identifies this node to the server (it shows in the server's monitoring); logger receives
// disconnects, reconnects and asynchronous errors such as dropped messages, and may be nil for slog.Default().
//
// The first connection must succeed: a wrong URL or an unreachable server at start-up is an error rather than a
// silent retry loop. After that, the connection reconnects forever.
func NewNATS(url, name string, logger *slog.Logger) (*NATS, error) {
	if logger == nil {
		logger = slog.Default()
	}
	n := &NATS{log: logger}
	nc, err := nats.Connect(url,
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.NoCallbacksAfterClientClose(),
		nats.DisconnectErrHandler(n.onDisconnect),
		nats.ReconnectHandler(n.onReconnect),
		nats.ClosedHandler(n.onClosed),
		nats.ErrorHandler(n.onAsyncError),
	)
	if err != nil {
		return nil, fmt.Errorf("bus: connect to nats: %w", err)
	}
	n.nc = nc
	logger.Info("nats connected", slog.String("url", nc.ConnectedUrlRedacted()),
		slog.String("server_id", nc.ConnectedServerId()))
	return n, nil
}

// Publish implements [Bus.Publish].
func (n *NATS) Publish(ctx context.Context, subject string, data []byte) error {
	if err := validateSubject(subject); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if n.closed.Load() {
		return ErrClosed
	}
	if err := n.nc.Publish(subject, data); err != nil {
		if errors.Is(err, nats.ErrConnectionClosed) {
			return ErrClosed
		}
		return fmt.Errorf("bus: publish %q: %w", subject, err)
	}
	return nil
}

// Subscribe implements [Bus.Subscribe].
//
// While connected, Subscribe waits (at most 5 s) for the server to confirm the subscription, so that a message
// another node publishes after Subscribe returns is delivered. While disconnected it returns at once: nats.go sends
// the subscription again on reconnect, and messages published before then are missed like any others during an
// outage. If the server does not confirm in time, the subscription is kept, the delay is logged, and Subscribe
// succeeds.
func (n *NATS) Subscribe(subject string, fn Handler) (Subscription, error) {
	if err := validateSubject(subject); err != nil {
		return nil, err
	}
	if fn == nil {
		return nil, errNilHandler
	}
	if n.closed.Load() {
		return nil, ErrClosed
	}
	sub, err := n.nc.Subscribe(subject, func(m *nats.Msg) { fn(m.Subject, m.Data) })
	if err != nil {
		if errors.Is(err, nats.ErrConnectionClosed) {
			return nil, ErrClosed
		}
		return nil, fmt.Errorf("bus: subscribe %q: %w", subject, err)
	}
	if n.nc.IsConnected() {
		if err := n.nc.FlushTimeout(subscribeFlushTimeout); err != nil {
			if n.nc.IsClosed() {
				return nil, ErrClosed
			}
			// A disconnect during the flush also lands here; the subscription is replayed on reconnect.
			n.log.Warn("nats subscription not confirmed", slog.String("subject", subject),
				slog.Any("error", err))
		}
	}
	return &natsSub{sub: sub}, nil
}

// Close implements [Bus.Close]. Messages already handed to Publish are flushed to the server before the connection
// closes, as far as the connection allows.
func (n *NATS) Close() error {
	if n.closed.Swap(true) {
		return nil
	}
	n.nc.Close()
	return nil
}

func (n *NATS) onDisconnect(nc *nats.Conn, err error) {
	if err == nil {
		// A clean disconnect, with nothing to report; our own Close does not get here (NoCallbacksAfterClientClose).
		n.log.Info("nats disconnected")
		return
	}
	n.log.Warn("nats disconnected, reconnecting", slog.Any("error", err))
}

func (n *NATS) onReconnect(nc *nats.Conn) {
	n.log.Info("nats reconnected", slog.String("url", nc.ConnectedUrlRedacted()),
		slog.String("server_id", nc.ConnectedServerId()))
}

// onClosed runs only when the connection closes without Close being called (NoCallbacksAfterClientClose), which,
// with unlimited reconnects, means the client gave up (for example, the server rejected its credentials).
func (n *NATS) onClosed(nc *nats.Conn) {
	n.log.Error("nats connection closed; bus is down", slog.Any("error", nc.LastError()))
}

func (n *NATS) onAsyncError(_ *nats.Conn, sub *nats.Subscription, err error) {
	attrs := []any{slog.Any("error", err)}
	if sub != nil {
		attrs = append(attrs, slog.String("subject", sub.Subject))
	}
	if errors.Is(err, nats.ErrSlowConsumer) {
		n.log.Warn("nats dropped messages for a slow subscriber", attrs...)
		return
	}
	n.log.Error("nats error", attrs...)
}

// natsSub adapts *nats.Subscription to Subscription, making Unsubscribe idempotent.
type natsSub struct {
	once sync.Once
	sub  *nats.Subscription
}

var _ Subscription = (*natsSub)(nil)

// Unsubscribe implements [Subscription.Unsubscribe].
func (s *natsSub) Unsubscribe() error {
	var err error
	s.once.Do(func() {
		err = s.sub.Unsubscribe()
		if errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrBadSubscription) {
			// The connection closed, which ended the subscription already.
			err = nil
		}
	})
	if err != nil {
		return fmt.Errorf("bus: unsubscribe %q: %w", s.sub.Subject, err)
	}
	return nil
}
