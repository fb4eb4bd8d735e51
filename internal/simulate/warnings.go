package simulate

import (
	"context"
	"log/slog"
	"sync/atomic"
)

// warnCounter counts the warnings and errors the engine logs during a run: in a healthy run there are none.
type warnCounter struct{ n atomic.Int64 }

// wrap returns a handler that counts records at warning level or above and passes every record to h (nil
// discards them).
func (w *warnCounter) wrap(log *slog.Logger) slog.Handler {
	var h slog.Handler = slog.DiscardHandler
	if log != nil {
		h = log.Handler()
	}
	return countingHandler{Handler: h, n: &w.n}
}

type countingHandler struct {
	slog.Handler
	n *atomic.Int64
}

// Enabled lets warnings through even when the wrapped handler would drop them, so they are counted.
func (c countingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || c.Handler.Enabled(ctx, l)
}

func (c countingHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		c.n.Add(1)
	}
	if !c.Handler.Enabled(ctx, r.Level) {
		return nil
	}
	return c.Handler.Handle(ctx, r)
}

func (c countingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return countingHandler{Handler: c.Handler.WithAttrs(as), n: c.n}
}

func (c countingHandler) WithGroup(name string) slog.Handler {
	return countingHandler{Handler: c.Handler.WithGroup(name), n: c.n}
}
