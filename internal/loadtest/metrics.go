package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The server's metrics the load test reads (GET /metrics, Prometheus text format).
const (
	metricCPU            = "process_cpu_seconds_total"
	metricRSS            = "process_resident_memory_bytes"
	metricHeap           = "go_memstats_heap_inuse_bytes"
	metricStack          = "go_memstats_stack_inuse_bytes"
	metricHeapAlloc      = "go_memstats_heap_alloc_bytes"
	metricHeapIdle       = "go_memstats_heap_idle_bytes"
	metricHeapReleased   = "go_memstats_heap_released_bytes"
	metricGCs            = "go_gc_duration_seconds_count"
	metricForward        = "parley_media_forward_seconds" // internal/media/metrics.go
	metricForwarded      = "parley_media_forwarded_packets_total"
	metricForwardedBytes = "parley_media_forwarded_bytes_total"
	metricDropped        = "parley_media_dropped_packets_total"
	metricRelayCalls     = "parley_media_calls"
)

// snapshot is what the load test reads from /metrics at one moment. A metric the server does not expose is absent
// from has.
type snapshot struct {
	at             time.Time
	has            map[string]bool
	cpu            float64
	rss            float64
	heap           float64 // in use: live objects and garbage not yet swept
	heapAlloc      float64 // allocated: live objects and garbage not yet collected
	stack          float64
	heapIdle       float64 // free heap spans, returned to the system or not
	heapReleased   float64 // free heap spans returned to the system
	gcs            float64 // collections so far
	forward        histogram
	forwarded      float64 // all kinds
	forwardedBytes float64
	dropped        float64
	relayCalls     float64
}

// histogram is a Prometheus histogram: cumulative counts by upper bound, in increasing order of bound.
type histogram struct {
	bounds []float64 // the last one may be +Inf
	counts []float64
	sum    float64
	count  float64
}

// sample is one line of the text format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// parseMetrics reads the Prometheus text exposition format: comments are skipped, and so are lines it can't read.
func parseMetrics(r io.Reader) ([]sample, error) {
	var out []sample
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		var s sample
		rest := line
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			if j < i {
				continue
			}
			s.name = line[:i]
			s.labels = parseLabels(line[i+1 : j])
			rest = strings.TrimSpace(line[j+1:])
		} else {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			s.name, rest = f[0], strings.Join(f[1:], " ")
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := parseFloat(f[0])
		if err != nil {
			continue
		}
		s.value = v
		out = append(out, s)
	}
	return out, sc.Err()
}

func parseFloat(s string) (float64, error) {
	switch s {
	case "+Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	}
	return strconv.ParseFloat(s, 64)
}

// parseLabels reads `a="x",b="y"`, with the format's escapes.
func parseLabels(s string) map[string]string {
	out := map[string]string{}
	for len(s) > 0 {
		eq := strings.IndexByte(s, '=')
		if eq < 0 || eq+1 >= len(s) || s[eq+1] != '"' {
			return out
		}
		name := strings.TrimSpace(strings.TrimLeft(s[:eq], ","))
		var val strings.Builder
		i := eq + 2
		for ; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
				switch s[i] {
				case 'n':
					val.WriteByte('\n')
				default:
					val.WriteByte(s[i])
				}
				continue
			}
			val.WriteByte(s[i])
		}
		out[name] = val.String()
		if i+1 >= len(s) {
			break
		}
		s = s[i+1:]
	}
	return out
}

// newSnapshot picks the load test's metrics out of samples.
func newSnapshot(at time.Time, samples []sample) snapshot {
	sn := snapshot{at: at, has: map[string]bool{}}
	type bucket struct{ le, count float64 }
	var buckets []bucket
	for _, s := range samples {
		switch s.name {
		case metricCPU:
			sn.cpu = s.value
		case metricRSS:
			sn.rss = s.value
		case metricHeap:
			sn.heap = s.value
		case metricStack:
			sn.stack = s.value
		case metricHeapAlloc:
			sn.heapAlloc = s.value
		case metricHeapIdle:
			sn.heapIdle = s.value
		case metricHeapReleased:
			sn.heapReleased = s.value
		case metricGCs:
			sn.gcs = s.value
		case metricForwarded:
			sn.forwarded += s.value
		case metricForwardedBytes:
			sn.forwardedBytes += s.value
		case metricDropped:
			sn.dropped += s.value
		case metricRelayCalls:
			sn.relayCalls = s.value
		case metricForward + "_bucket":
			le, err := parseFloat(s.labels["le"])
			if err != nil {
				continue
			}
			buckets = append(buckets, bucket{le, s.value})
		case metricForward + "_sum":
			sn.forward.sum = s.value
		case metricForward + "_count":
			sn.forward.count = s.value
		default:
			continue
		}
		name := s.name
		if strings.HasPrefix(name, metricForward+"_") {
			name = metricForward
		}
		sn.has[name] = true
	}
	sort.Slice(buckets, func(i, j int) bool { return buckets[i].le < buckets[j].le })
	for _, b := range buckets {
		sn.forward.bounds = append(sn.forward.bounds, b.le)
		sn.forward.counts = append(sn.forward.counts, b.count)
	}
	return sn
}

// resident is the resident set without the free heap the Go runtime keeps and has not yet returned to the
// system: after a burst of garbage, that can be tens of megabytes for minutes on an idle server.
func (s snapshot) resident() float64 {
	if !s.has[metricHeapIdle] || !s.has[metricHeapReleased] {
		return s.rss
	}
	return s.rss - max(0, s.heapIdle-s.heapReleased)
}

// fetchSnapshot reads the server's /metrics.
func fetchSnapshot(ctx context.Context, client *http.Client, base string) (snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/metrics", nil)
	if err != nil {
		return snapshot{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return snapshot{}, fmt.Errorf("read the server's metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return snapshot{}, fmt.Errorf("read the server's metrics: GET /metrics: HTTP %d", resp.StatusCode)
	}
	at := time.Now()
	samples, err := parseMetrics(resp.Body)
	if err != nil {
		return snapshot{}, fmt.Errorf("read the server's metrics: %w", err)
	}
	return newSnapshot(at, samples), nil
}

// sub returns the observations made between earlier and h: the difference of their counts. Both must come from
// the same histogram (the same buckets).
func (h histogram) sub(earlier histogram) histogram {
	out := histogram{bounds: h.bounds, counts: make([]float64, len(h.counts)), sum: h.sum - earlier.sum,
		count: h.count - earlier.count}
	for i := range h.counts {
		out.counts[i] = h.counts[i]
		if i < len(earlier.counts) {
			out.counts[i] -= earlier.counts[i]
		}
	}
	return out
}

// quantile interpolates linearly inside the bucket that holds quantile q, as PromQL's histogram_quantile does. A
// quantile that falls in the +Inf bucket is the highest finite bound (the true value is above it). It is NaN
// without observations.
func (h histogram) quantile(q float64) float64 {
	if len(h.counts) == 0 {
		return math.NaN()
	}
	total := h.counts[len(h.counts)-1]
	if total <= 0 {
		return math.NaN()
	}
	rank := q * total
	lower, below := 0.0, 0.0
	for i, c := range h.counts {
		if c >= rank {
			if math.IsInf(h.bounds[i], 1) {
				return lower
			}
			inBucket := c - below
			if inBucket <= 0 {
				return h.bounds[i]
			}
			return lower + (h.bounds[i]-lower)*(rank-below)/inBucket
		}
		lower, below = h.bounds[i], c
	}
	return lower
}
