package media

import "github.com/prometheus/client_golang/prometheus"

// relayMetrics are the relay's Prometheus collectors. The composition root registers them (Relay.Collectors); the
// relay never touches a global registry.
type relayMetrics struct {
	// forward is the time from an RTP packet's read returning to its write to the other leg returning: the
	// relay's own share of the media latency (DESIGN section 7: p50 <= 0.5 ms, p99 <= 2 ms).
	forward prometheus.Histogram
	calls   prometheus.GaugeFunc
	legs    *prometheus.GaugeVec
	packets *prometheus.CounterVec
	bytes   *prometheus.CounterVec
	dropped *prometheus.CounterVec
	// keyframes counts keyframe requests (PLI) the relay sent to a browser, by cause.
	keyframes *prometheus.CounterVec
	legsEnded *prometheus.CounterVec
	// restarts counts legs renegotiated in place (ICE restarts after a network change).
	restarts prometheus.Counter

	// Resolved children, so that the per-packet path does no label lookup.
	packetsBy [kindCount]prometheus.Counter
	bytesBy   [kindCount]prometheus.Counter
	droppedBy [kindCount]prometheus.Counter
}

func newRelayMetrics(calls func() float64) *relayMetrics {
	m := &relayMetrics{
		forward: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "parley_media_forward_seconds",
			Help:    "Time the relay takes to forward one RTP packet, from its read to its write to the other leg.",
			Buckets: []float64{.00001, .000025, .00005, .0001, .00025, .0005, .001, .002, .005, .01, .025, .1},
		}),
		calls: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "parley_media_calls", Help: "Calls open on the media relay."}, calls),
		legs: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "parley_media_legs", Help: "Legs (browser connections) on the media relay, by state."},
			[]string{"state"}),
		packets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_media_forwarded_packets_total", Help: "RTP packets forwarded by the relay, by kind."},
			[]string{"kind"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_media_forwarded_bytes_total", Help: "RTP bytes forwarded by the relay, by kind."},
			[]string{"kind"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_media_dropped_packets_total",
			Help: "RTP packets received with nobody to forward them to (the other side not connected), by kind."},
			[]string{"kind"}),
		keyframes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_media_keyframe_requests_total",
			Help: "Keyframe requests (PLI) the relay sent to a sender, by cause: a leg joined, or a receiver asked."},
			[]string{"cause"}),
		legsEnded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_media_legs_ended_total",
			Help: "Legs that ended, by how: failed (network or browser), replaced (page reload), ended (call over) or rejected (Join failed)."},
			[]string{"how"}),
		restarts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_media_leg_restarts_total",
			Help: "Legs renegotiated in place, keeping their DTLS session and tracks: ICE restarts after a network change."}),
	}
	for k := range kindCount {
		name := kind(k).String()
		m.packetsBy[k] = m.packets.WithLabelValues(name)
		m.bytesBy[k] = m.bytes.WithLabelValues(name)
		m.droppedBy[k] = m.dropped.WithLabelValues(name)
	}
	for _, s := range []string{"connecting", "connected"} {
		m.legs.WithLabelValues(s)
	}
	for _, c := range []string{"join", "receiver"} {
		m.keyframes.WithLabelValues(c)
	}
	for _, h := range []string{"failed", "replaced", "ended", "rejected"} {
		m.legsEnded.WithLabelValues(h)
	}
	return m
}

func (m *relayMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.forward, m.calls, m.legs, m.packets, m.bytes, m.dropped, m.keyframes, m.legsEnded,
		m.restarts}
}
