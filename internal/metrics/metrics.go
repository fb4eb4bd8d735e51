// Package metrics defines Parley's Prometheus metrics. They are built once by the composition root and handed to
// the packages that record them; nothing here is global.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds every collector.
type Metrics struct {
	Registry *prometheus.Registry
	// Connections counts open sockets by role (visitor, desk).
	Connections *prometheus.GaugeVec
	// Messages counts chat messages stored, by author (visitor, agent).
	Messages *prometheus.CounterVec
	// DeliveryLatency is the time from a message frame arriving at the server to its event being written to the
	// other side's socket.
	DeliveryLatency prometheus.Histogram
	// Frames counts frames received, by type; bad ones are counted under their error code.
	Frames *prometheus.CounterVec
	// Errors counts error frames sent, by code.
	Errors *prometheus.CounterVec
	// Disconnects counts sockets closed by the server, by code.
	Disconnects *prometheus.CounterVec
}

// New registers Parley's metrics, plus Go runtime and process metrics, on a new registry.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		Connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "parley_connections", Help: "Open WebSocket connections, by role."}, []string{"role"}),
		Messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_messages_total", Help: "Chat messages stored, by author."}, []string{"author"}),
		DeliveryLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "parley_message_delivery_seconds",
			Help:    "Time from a message reaching the server to its delivery on the other side's socket.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, .5, 1, 2.5},
		}),
		Frames: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_frames_received_total", Help: "WebSocket frames received, by type."}, []string{"type"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_protocol_errors_total", Help: "Error frames sent, by code."}, []string{"code"}),
		Disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_disconnects_total", Help: "Sockets closed by the server, by code."}, []string{"code"}),
	}
	reg.MustRegister(m.Connections, m.Messages, m.DeliveryLatency, m.Frames, m.Errors, m.Disconnects,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Series exist from the start, at zero, so dashboards and alerts see them before the first connection.
	for _, role := range []string{"visitor", "desk"} {
		m.Connections.WithLabelValues(role)
	}
	for _, author := range []string{"visitor", "agent"} {
		m.Messages.WithLabelValues(author)
	}
	return m
}
