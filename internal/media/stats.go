package media

import (
	"sync"
	"time"

	"github.com/pion/rtp"
)

// inboundStats measures one incoming RTP stream as the relay receives it: counts, loss and interarrival jitter, as
// a receiver computes them for its reports (RFC 3550 section 6.4.1 and appendix A.3 and A.8). The stream's forward
// loop records every packet; Stats and End read it at any time. Recording allocates nothing.
type inboundStats struct {
	mu        sync.Mutex
	clockRate float64

	started    bool
	lastSeq    uint16
	extSeq     int64 // extended sequence number of the last packet (RFC 3550 appendix A.1)
	baseSeq    int64 // lowest extended sequence number seen
	maxSeq     int64 // highest extended sequence number seen
	packets    uint64
	bytes      uint64
	late       uint64 // packets that arrived behind the highest sequence number: reordered, or resent after a NACK
	first      time.Time
	last       time.Time
	transit    float64 // relative transit time of the previous packet, in seconds
	jitter     float64 // RFC 3550 interarrival jitter, in seconds
	jitterSum  float64 // sum of jitter after each packet, for the mean
	jitterRuns uint64  // packets summed in jitterSum
}

func (s *inboundStats) setClockRate(rate uint32) {
	s.mu.Lock()
	s.clockRate = float64(rate)
	s.mu.Unlock()
}

// record notes one packet of n bytes that arrived at the given time.
func (s *inboundStats) record(h *rtp.Header, n int, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		s.started = true
		s.lastSeq = h.SequenceNumber
		s.extSeq = int64(h.SequenceNumber)
		s.baseSeq, s.maxSeq = s.extSeq, s.extSeq
		s.first = at
	} else {
		// The difference, read as a signed 16-bit number, handles wrap-around and reordering alike.
		s.extSeq += int64(int16(h.SequenceNumber - s.lastSeq))
		s.lastSeq = h.SequenceNumber
		if s.extSeq < s.maxSeq {
			s.late++
		}
		s.baseSeq = min(s.baseSeq, s.extSeq)
		s.maxSeq = max(s.maxSeq, s.extSeq)
	}
	s.packets++
	s.bytes += uint64(n)
	s.last = at

	if s.clockRate > 0 {
		// RFC 3550 A.8: D(i-1,i) = (Rj - Ri) - (Sj - Si), J += (|D| - J) / 16, here in seconds.
		transit := at.Sub(s.first).Seconds() - float64(h.Timestamp)/s.clockRate
		if s.packets > 1 {
			d := transit - s.transit
			// The RTP timestamp wrapped (about every 13 hours at 90 kHz): start again from this packet.
			if d < 1<<31/s.clockRate && d > -(1<<31)/s.clockRate {
				if d < 0 {
					d = -d
				}
				s.jitter += (d - s.jitter) / 16
			}
			s.jitterSum += s.jitter
			s.jitterRuns++
		}
		s.transit = transit
	}
}

// inboundTotals is a snapshot of a leg's incoming streams, in a form that adds up across the legs of one side.
type inboundTotals struct {
	packets, bytes  uint64
	expected, lost  uint64
	span            time.Duration // from the first packet to the last
	jitterSum       float64       // see inboundStats.jitterSum
	jitterRuns      uint64
	rttSum          time.Duration
	rttMeasurements uint64
	// Per kind, for tests and logs: audio has no NACK, so its loss is the network's, video's is what NACK left.
	audioExpected, audioLost uint64
	videoExpected, videoLost uint64
}

func (s *inboundStats) snapshot() (packets, bytes, expected, lost uint64, first, last time.Time, jitterSum float64,
	jitterRuns uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		return
	}
	expected = uint64(s.maxSeq - s.baseSeq + 1)
	if expected > s.packets {
		lost = expected - s.packets
	}
	return s.packets, s.bytes, expected, lost, s.first, s.last, s.jitterSum, s.jitterRuns
}

// lateCount returns the number of packets that arrived late (see inboundStats.late).
func (s *inboundStats) lateCount() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.late
}

// rttStats averages round-trip times measured from receiver reports.
type rttStats struct {
	mu  sync.Mutex
	sum time.Duration
	n   uint64
}

func (r *rttStats) add(d time.Duration) {
	r.mu.Lock()
	r.sum += d
	r.n++
	r.mu.Unlock()
}

func (r *rttStats) get() (time.Duration, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sum, r.n
}

// totals reads a leg's streams.
func (l *leg) totals() inboundTotals {
	var t inboundTotals
	var first, last time.Time
	var audioJitter, videoJitter float64
	var audioRuns, videoRuns uint64
	for k, in := range l.in {
		packets, bytes, expected, lost, f, la, jitterSum, jitterRuns := in.snapshot()
		if packets == 0 {
			continue
		}
		t.packets += packets
		t.bytes += bytes
		t.expected += expected
		t.lost += lost
		if first.IsZero() || f.Before(first) {
			first = f
		}
		if la.After(last) {
			last = la
		}
		if kind(k) == kindAudio {
			audioJitter, audioRuns = jitterSum, jitterRuns
			t.audioExpected, t.audioLost = expected, lost
		} else {
			videoJitter, videoRuns = jitterSum, jitterRuns
			t.videoExpected, t.videoLost = expected, lost
		}
	}
	if !first.IsZero() {
		t.span = last.Sub(first)
	}
	// The jitter that matters is the audio's: the packets of one video frame leave the browser's pacer in a burst,
	// and their spread would count as jitter.
	if audioRuns > 0 {
		t.jitterSum, t.jitterRuns = audioJitter, audioRuns
	} else {
		t.jitterSum, t.jitterRuns = videoJitter, videoRuns
	}
	t.rttSum, t.rttMeasurements = l.rtt.get()
	return t
}

// add sums another leg's totals into t.
func (t *inboundTotals) add(o inboundTotals) {
	t.packets += o.packets
	t.bytes += o.bytes
	t.expected += o.expected
	t.lost += o.lost
	t.span += o.span
	t.jitterSum += o.jitterSum
	t.jitterRuns += o.jitterRuns
	t.rttSum += o.rttSum
	t.rttMeasurements += o.rttMeasurements
	t.audioExpected += o.audioExpected
	t.audioLost += o.audioLost
	t.videoExpected += o.videoExpected
	t.videoLost += o.videoLost
}

// legStats turns totals into the averages of the call-quality record.
func (t inboundTotals) legStats() LegStats {
	s := LegStats{Packets: t.packets, Bytes: t.bytes}
	if secs := t.span.Seconds(); secs > 0 {
		s.BitrateKbps = float64(t.bytes) * 8 / secs / 1000
	}
	if t.expected > 0 {
		s.LossPct = float64(t.lost) / float64(t.expected) * 100
	}
	if t.rttMeasurements > 0 {
		s.RTTMs = float64(t.rttSum) / float64(t.rttMeasurements) / float64(time.Millisecond)
	}
	if t.jitterRuns > 0 {
		s.JitterMs = t.jitterSum / float64(t.jitterRuns) * 1000
	}
	return s
}

// ntpMiddle returns the middle 32 bits of the NTP timestamp for t, the unit of LSR and DLSR (1/65536 s).
func ntpMiddle(t time.Time) uint32 {
	// NTP counts seconds from 1900-01-01; Unix from 1970-01-01.
	const ntpEpochOffset = 2208988800
	secs := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return uint32((secs<<32 | frac) >> 16)
}

// reportRTT computes a round-trip time from a reception report block (RFC 3550 section 6.4.1: A - LSR - DLSR),
// or false when the block carries no measurement.
func reportRTT(now time.Time, lastSR, delaySinceLastSR uint32) (time.Duration, bool) {
	if lastSR == 0 {
		return 0, false
	}
	rtt := ntpMiddle(now) - lastSR - delaySinceLastSR
	// A negative result (clock rounding on loopback) wraps to a huge value: report it as zero.
	if int32(rtt) < 0 {
		return 0, true
	}
	return time.Duration(uint64(rtt) * uint64(time.Second) / 65536), true
}
