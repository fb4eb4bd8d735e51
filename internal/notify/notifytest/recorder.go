// Package notifytest has a fake bus for tests of the packages that announce through notify: it keeps every notice
// published, by subject.
package notifytest

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/parley/parley/internal/notify"
)

// Recorder is a notify.Publisher that keeps what it is given. It is safe for concurrent use.
type Recorder struct {
	mu  sync.Mutex
	got map[string][]notify.Notice
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{got: map[string][]notify.Notice{}} }

// Publish decodes and keeps a notice.
func (r *Recorder) Publish(_ context.Context, subject string, data []byte) error {
	var n notify.Notice
	if err := json.Unmarshal(data, &n); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got[subject] = append(r.got[subject], n)
	return nil
}

// Kinds lists the notices published on a subject, in order, as "kind" or "event:type".
func (r *Recorder) Kinds(subject string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, n := range r.got[subject] {
		k := n.Kind
		if n.Event != nil {
			k += ":" + n.Event.Type
		}
		out = append(out, k)
	}
	return out
}

// Last returns the newest notice of a kind on a subject, or nil.
func (r *Recorder) Last(subject, kind string) *notify.Notice {
	r.mu.Lock()
	defer r.mu.Unlock()
	ns := r.got[subject]
	for i := len(ns) - 1; i >= 0; i-- {
		if ns[i].Kind == kind {
			return &ns[i]
		}
	}
	return nil
}
