package media

import (
	"sync"
	"time"

	"github.com/pion/rtp"
)

// streamRewriter keeps one of a leg's outgoing streams continuous while its source changes: the other side's
// browser reconnects after a reload or a network loss, or changes its SSRC. Each source numbers its packets and
// stamps its timestamps from its own random start; passed through as they are, the jump would look to the
// receiving browser like a flood of lost packets, or like old packets that SRTP replay protection drops
// (RFC 3711 section 3.3.2). So each new source is mapped to continue the outgoing sequence numbers, and its
// timestamps to follow on by the time that passed (RFC 3550 section 5.1).
type streamRewriter struct {
	mu        sync.Mutex
	clockRate float64
	started   bool
	src       uint32 // SSRC of the current source
	seqDelta  uint16 // added to the source's sequence numbers
	tsDelta   uint32 // added to the source's timestamps
	lastSeq   uint16 // highest outgoing sequence number so far
	lastTS    uint32 // and its timestamp
	lastAt    time.Time
}

// rewrite maps a packet of the current source into the outgoing stream, and reports whether the source changed.
func (w *streamRewriter) rewrite(h *rtp.Header, now time.Time) (switched bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started && h.SSRC != w.src {
		gap := uint32(max(now.Sub(w.lastAt).Seconds()*w.clockRate, 1))
		w.seqDelta = w.lastSeq + 1 - h.SequenceNumber
		w.tsDelta = w.lastTS + gap - h.Timestamp
		switched = true
	}
	w.src = h.SSRC
	h.SequenceNumber += w.seqDelta
	h.Timestamp += w.tsDelta
	if !w.started || int16(h.SequenceNumber-w.lastSeq) > 0 {
		w.lastSeq, w.lastTS, w.lastAt = h.SequenceNumber, h.Timestamp, now
	}
	w.started = true
	return switched
}
