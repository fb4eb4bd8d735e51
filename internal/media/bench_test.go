package media

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkForward measures the cost of one video packet through a real relay on loopback: a Peer encrypts and
// sends it, the relay decrypts, forwards and encrypts it again, and the other Peer decrypts it; all on this
// machine's cores. ns/op is the whole path's cost per packet, with at most 64 packets in flight. It also reports
// the relay's own forwarding time (read to write, from parley_media_forward_seconds; p50 and p99, interpolated in
// the histogram's buckets) and the one-way delay Peer to Peer.
//
//	go test -run '^$' -bench BenchmarkForward -benchtime 20000x ./internal/media/
func BenchmarkForward(b *testing.B) {
	r := newTestRelay(b, Config{TCPPort: -1})
	callID := newCallID()
	if err := r.Open(callID, Hooks{}); err != nil {
		b.Fatal(err)
	}
	sender := newTestPeer(b, PeerConfig{Video: true})
	receiver := newTestPeer(b, PeerConfig{Video: true})
	join(b, r, nil, callID, SideVisitor, sender, false)
	join(b, r, nil, callID, SideAgent, receiver, false)
	waitConnected(b, sender, receiver)

	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: ptVP8, SSRC: 0x5eed, SequenceNumber: 1},
		Payload: make([]byte, 1000)}
	pkt.Payload[0] = 0x10
	send := func() {
		stamp(pkt.Payload)
		if err := sender.video.WriteRTP(&pkt); err != nil {
			b.Fatal(err)
		}
		pkt.SequenceNumber++
		pkt.Timestamp += 1500
	}
	// Warm up until packets come through (the receiver's track starts with the first one).
	eventually(b, 5*time.Second, "first packets", func() bool {
		send()
		_, v := receiver.Received()
		return v > 10
	})
	const window = 64
	_, base := receiver.Received()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		send()
		for {
			_, v := receiver.Received()
			if uint64(i)+1-(v-base) <= window {
				break
			}
			time.Sleep(20 * time.Microsecond)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, v := receiver.Received()
		if v-base >= uint64(b.N) || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()

	_, v := receiver.Received()
	b.ReportMetric(float64(uint64(b.N)-min(uint64(b.N), v-base))/float64(b.N)*100, "lost-%")
	hist := forwardHistogram(b, r)
	b.ReportMetric(hist.quantile(0.5)*1e6, "relay-p50-µs")
	b.ReportMetric(hist.quantile(0.99)*1e6, "relay-p99-µs")
	lat := receiver.Latencies()
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "e2e-p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "e2e-p99-µs")
	}
}

// histogram is a Prometheus histogram's cumulative buckets.
type histogram struct {
	bounds []float64
	counts []uint64
	total  uint64
}

func forwardHistogram(tb testing.TB, r *Relay) histogram {
	tb.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(r.Collectors()...)
	families, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	var h histogram
	for _, f := range families {
		if f.GetName() != "parley_media_forward_seconds" {
			continue
		}
		ph := f.GetMetric()[0].GetHistogram()
		for _, bk := range ph.GetBucket() {
			h.bounds = append(h.bounds, bk.GetUpperBound())
			h.counts = append(h.counts, bk.GetCumulativeCount())
		}
		h.total = ph.GetSampleCount()
	}
	return h
}

// quantile interpolates linearly inside the bucket that holds quantile q, as PromQL's histogram_quantile does.
func (h histogram) quantile(q float64) float64 {
	if h.total == 0 {
		return math.NaN()
	}
	rank := q * float64(h.total)
	lower, below := 0.0, uint64(0)
	for i, c := range h.counts {
		if float64(c) >= rank {
			inBucket := float64(c - below)
			if inBucket == 0 {
				return h.bounds[i]
			}
			return lower + (h.bounds[i]-lower)*(rank-float64(below))/inBucket
		}
		lower, below = h.bounds[i], c
	}
	return h.bounds[len(h.bounds)-1]
}
