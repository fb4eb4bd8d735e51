package loadtest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"math"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/demo"
	"github.com/parley/parley/internal/store"
)

// logWriter sends the load test's progress to the test log, and calls onLine for each line.
type logWriter struct {
	t      *testing.T
	onLine func(string)
}

func (w logWriter) Write(p []byte) (int, error) {
	line := strings.TrimRight(string(p), "\n")
	w.t.Log(line)
	if w.onLine != nil {
		w.onLine(line)
	}
	return len(p), nil
}

// The load test runs for real against a Parley node (SQLite, the relay on loopback): its calls are set up over
// the sockets, media flows through the relay, the server's metrics are read, and everything is cleaned up. A
// second run reuses the agents, and Ctrl+C (the context ending) stops it cleanly.
func TestCallsThroughARealNode(t *testing.T) {
	env := apptest.Start(t, nil)
	ctx := context.Background()
	baseline := runtime.NumGoroutine()

	cfg := Config{URL: env.URL, Calls: 3, Duration: 3 * time.Second, Settle: time.Second, VideoKbps: 300}
	res, err := Run(ctx, cfg, logWriter{t: t})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res.WriteText(&out)
	t.Log(out.String())

	if res.Established != 3 || res.Failed != 0 || res.CallsInWindow != 3 {
		t.Fatalf("%d established, %d failed (%+v), %d in the window; want 3, 0, 3", res.Established, res.Failed,
			res.Failures, res.CallsInWindow)
	}
	if res.Agents.Created != 3 || res.Agents.Reused != 0 {
		t.Errorf("agents %+v, want 3 created", res.Agents)
	}
	tr := res.Traffic
	if tr == nil || tr.ForwardedPackets <= 0 || tr.ReceivedPackets <= 0 || tr.QualityRecords != 3 {
		t.Fatalf("traffic %+v: want packets forwarded and received, and 3 call-quality records", tr)
	}
	// 3 calls, both ways, 300 kb/s of video (2 packets a frame at 30 frames a second) and 50 audio packets a second.
	if want := 3.0 * 2 * (60 + 50); tr.PacketsPerSecond < want/2 || tr.PacketsPerSecond > want*1.5 {
		t.Errorf("%.0f packets forwarded a second, want about %.0f", tr.PacketsPerSecond, want)
	}
	if tr.PeerToRelayLossPct < 0 || tr.PeerToRelayLossPct > 5 || tr.RelayToPeerLossPct > 5 {
		t.Errorf("loss %.3f%% to the relay, %.3f%% from it", tr.PeerToRelayLossPct, tr.RelayToPeerLossPct)
	}
	if res.CPU == nil || res.CPU.Seconds <= 0 || res.CPU.CallsPerCore <= 0 {
		t.Errorf("CPU %+v: want the server's CPU time", res.CPU)
	}
	if res.Generator == nil || res.Generator.CoresUsed <= 0 {
		t.Errorf("load generator %+v: want its own CPU", res.Generator)
	}
	if res.Memory == nil || res.Memory.RSSAfter <= 0 || res.Memory.ResidentAfter <= 0 || res.Memory.HeapAfter <= 0 {
		t.Errorf("memory %+v: want the server's resident set and heap", res.Memory)
	}
	if q := res.Forwarding; q == nil || q.Samples <= 0 || !(q.P50 > 0) || q.P99 < q.P50 {
		t.Errorf("relay forwarding %+v: want quantiles from the histogram", q)
	}
	if q := res.OneWay; q == nil || q.Samples == 0 || q.P50 <= 0 {
		t.Errorf("one-way delay %+v", q)
	}
	if res.FirstMedia == nil || res.FirstMedia.Samples != 6 || res.FirstVideo == nil || res.FirstVideo.Samples != 6 {
		t.Errorf("join to first media %+v, first video %+v: want both sides of 3 calls", res.FirstMedia, res.FirstVideo)
	}
	if res.Answer == nil || res.Answer.Samples != 3 {
		t.Errorf("request to live %+v", res.Answer)
	}
	if len(res.Targets) != 6 {
		t.Errorf("targets %+v", res.Targets)
	}
	for _, want := range []string{"3 established, 0 failed", "Relay forwarding", "calls per core"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}

	// The group's settings are back, and nothing of the load test waits in its queues.
	g, err := env.Store.GroupByName(ctx, demo.GroupName)
	if err != nil {
		t.Fatal(err)
	}
	if g.QueuePlaces != store.DefaultGroup("").QueuePlaces {
		t.Errorf("queue places %d after the load test, want them restored", g.QueuePlaces)
	}
	for _, ch := range []string{store.ChannelChat, store.ChannelVideo} {
		if q, err := env.Store.Queue(ctx, g.ID, ch); err != nil || len(q) != 0 {
			t.Errorf("%d requests still waiting on %s (%v)", len(q), ch, err)
		}
	}
	if calls := relayCalls(t, env.URL); calls != 0 {
		t.Errorf("%v calls still open on the relay", calls)
	}

	// A second run reuses the agents; the context ending during the measurement stops it, and it cleans up.
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var once sync.Once
	started := time.Now()
	var measuringAt time.Time
	cfg = Config{URL: env.URL, Calls: 2, Duration: time.Minute, Settle: 100 * time.Millisecond}
	res, err = Run(runCtx, cfg, logWriter{t: t, onLine: func(line string) {
		if strings.HasPrefix(line, "Measuring") {
			once.Do(func() {
				measuringAt = time.Now()
				cancel()
			})
		}
	}})
	if !errors.Is(err, ErrInterrupted) || res == nil || !res.Interrupted {
		t.Fatalf("interrupted run: %v, %+v", err, res)
	}
	if measuringAt.IsZero() || time.Since(measuringAt) > 15*time.Second {
		t.Fatalf("the interrupted run took %s to stop (started %s ago)", time.Since(measuringAt), time.Since(started))
	}
	if res.Agents.Created != 0 || res.Agents.Reused != 2 {
		t.Errorf("second run's agents %+v, want 2 reused", res.Agents)
	}
	if res.Established != 2 {
		t.Errorf("second run: %d established (%+v), want 2 hung up cleanly", res.Established, res.Failures)
	}
	if calls := relayCalls(t, env.URL); calls != 0 {
		t.Errorf("%v calls still open on the relay after the interrupted run", calls)
	}

	// Nothing the load tests started is left running: their sockets, peers and the server's side of the calls.
	deadline := time.Now().Add(15 * time.Second)
	for runtime.NumGoroutine() > baseline+5 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after the load tests, %d before:\n%s", runtime.NumGoroutine(), baseline,
				buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func relayCalls(t *testing.T, base string) float64 {
	t.Helper()
	s, err := fetchSnapshot(context.Background(), http.DefaultClient, base)
	if err != nil {
		t.Fatal(err)
	}
	if !s.has[metricRelayCalls] {
		t.Fatal("no parley_media_calls on /metrics")
	}
	return s.relayCalls
}

func TestMetricsParsingAndQuantiles(t *testing.T) {
	text := `# HELP parley_media_forward_seconds Time the relay takes.
# TYPE parley_media_forward_seconds histogram
parley_media_forward_seconds_bucket{le="0.0001"} 50
parley_media_forward_seconds_bucket{le="0.001"} 90
parley_media_forward_seconds_bucket{le="0.01"} 100
parley_media_forward_seconds_bucket{le="+Inf"} 100
parley_media_forward_seconds_sum 0.05
parley_media_forward_seconds_count 100
parley_media_forwarded_packets_total{kind="audio"} 10
parley_media_forwarded_packets_total{kind="video"} 32
process_cpu_seconds_total 12.5
process_resident_memory_bytes 1.2e+08
go_memstats_heap_inuse_bytes 4e+07
go_memstats_stack_inuse_bytes 2e+06
go_memstats_heap_alloc_bytes 3e+07
go_gc_duration_seconds{quantile="0.5"} 0.0001
go_gc_duration_seconds_count 17
parley_frames_received_total{type="a \"quoted\", odd}label"} 7
`
	samples, err := parseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	s := newSnapshot(time.Now(), samples)
	if s.cpu != 12.5 || s.rss != 1.2e8 || s.heap != 4e7 || s.heapAlloc != 3e7 || s.stack != 2e6 || s.forwarded != 42 || s.gcs != 17 {
		t.Fatalf("snapshot %+v", s)
	}
	for _, name := range []string{metricCPU, metricRSS, metricForward, metricForwarded, metricGCs, metricHeapAlloc} {
		if !s.has[name] {
			t.Errorf("%s not seen", name)
		}
	}
	for _, sm := range samples {
		if sm.name == "parley_frames_received_total" && sm.labels["type"] != `a "quoted", odd}label` {
			t.Errorf("label %q", sm.labels["type"])
		}
	}
	h := s.forward
	near := func(got, want float64) bool { return math.Abs(got-want) < 1e-9 }
	// p50 is the top of the first bucket; p80 is 3/4 into the second; p99 is 9/10 into the third.
	if q := h.quantile(0.5); !near(q, 0.0001) {
		t.Errorf("p50 %g", q)
	}
	if q := h.quantile(0.8); !near(q, 0.0001+0.0009*30/40) {
		t.Errorf("p80 %g", q)
	}
	if q := h.quantile(0.99); !near(q, 0.001+0.009*9/10) {
		t.Errorf("p99 %g", q)
	}
	// Observations since an earlier reading only.
	earlier := histogram{bounds: h.bounds, counts: []float64{50, 50, 50, 50}, sum: 0.001, count: 50}
	d := h.sub(earlier)
	if d.count != 50 || !near(d.quantile(0.5), 0.0001+0.0009*25/40) {
		t.Errorf("difference %+v, p50 %g", d, d.quantile(0.5))
	}
	if q := (histogram{bounds: []float64{1, math.Inf(1)}, counts: []float64{1, 10}}).quantile(0.99); q != 1 {
		t.Errorf("a quantile past the last finite bucket is %g, want that bound", q)
	}
	if !math.IsNaN((histogram{}).quantile(0.5)) {
		t.Error("quantile of nothing is not NaN")
	}
}

func TestCommandLine(t *testing.T) {
	var out, errb bytes.Buffer
	if err := Main([]string{"--help"}, &out, &errb); !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "parley loadtest calls") {
		t.Fatalf("--help: %v %s", err, out.String())
	}
	errb.Reset()
	if err := Main([]string{"calls", "--help"}, &out, &errb); !errors.Is(err, flag.ErrHelp) || !strings.Contains(errb.String(), "-video-kbps") {
		t.Fatalf("calls --help: %v %s", err, errb.String())
	}
	if err := Main(nil, &out, &errb); err == nil {
		t.Fatal("no scenario accepted")
	}
	if err := Main([]string{"chats"}, &out, &errb); err == nil || !strings.Contains(err.Error(), "unknown scenario") {
		t.Fatalf("unknown scenario: %v", err)
	}
	if err := Main([]string{"calls", "--calls", "0", "--url", "ftp://x"}, &out, &errb); err == nil ||
		!strings.Contains(err.Error(), "--calls") || !strings.Contains(err.Error(), "--url") {
		t.Fatalf("bad flags: %v", err)
	}
	// Nobody listening: a clear error, at once.
	start := time.Now()
	err := Main([]string{"calls", "--url", "http://127.0.0.1:1"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "log in as the admin") || time.Since(start) > 10*time.Second {
		t.Fatalf("no server: %v after %s", err, time.Since(start))
	}
}
