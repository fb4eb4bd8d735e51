package simulate

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/parley/parley/internal/notify"
)

// notice is one notice the engine published for a visitor's tabs or an agent's desks.
type notice struct {
	subject string
	notify.Notice
}

// inbox is the bus the simulated visitors and agents listen on: a notify.Publisher that keeps, in order, the
// notices published on visitor and account subjects, exactly as the sockets would receive them. Site and group
// notices (the desks' lists) are dropped. The simulation takes the notices out after each engine call; reacting
// inside Publish would re-enter the engine.
type inbox struct {
	mu      sync.Mutex
	pending []notice
}

var _ notify.Publisher = (*inbox)(nil)

// Publish keeps a visitor's or an agent's notice.
func (b *inbox) Publish(_ context.Context, subject string, data []byte) error {
	if !strings.HasPrefix(subject, "visitor.") && !strings.HasPrefix(subject, "account.") {
		return nil
	}
	var n notify.Notice
	if err := json.Unmarshal(data, &n); err != nil {
		return fmt.Errorf("simulate: notice on %s: %w", subject, err)
	}
	b.mu.Lock()
	b.pending = append(b.pending, notice{subject: subject, Notice: n})
	b.mu.Unlock()
	return nil
}

// take returns the notices published since the last take, oldest first.
func (b *inbox) take() []notice {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.pending
	b.pending = nil
	return out
}
