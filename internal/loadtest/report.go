package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/parley/parley/internal/media"
)

// Result is what a load test measured. Times are in milliseconds, memory in bytes.
type Result struct {
	Date      string  `json:"date"`
	URL       string  `json:"url"`
	Calls     int     `json:"calls"`
	VideoKbps int     `json:"video_kbps"`
	Ramp      float64 `json:"ramp_per_second"`
	DurationS float64 `json:"duration_s"`

	// Established counts the calls whose media flowed both ways, and kept flowing through the measurement.
	Established int         `json:"established"`
	Failed      int         `json:"failed"`
	FailedPct   float64     `json:"failed_pct"`
	Failures    []Failure   `json:"failures,omitempty"`
	Interrupted bool        `json:"interrupted,omitempty"`
	Agents      AgentCounts `json:"agents"`
	// SetupS is the time from the first call's start to the last call's set-up.
	SetupS float64 `json:"setup_s"`
	// WindowS is the measurement's length, and CallsInWindow the calls up at its start.
	WindowS       float64 `json:"window_s,omitempty"`
	CallsInWindow int     `json:"calls_in_window,omitempty"`

	CPU *CPUResult `json:"cpu,omitempty"`
	// Generator is the load test's own CPU, and this machine's, over the window.
	Generator *GeneratorResult `json:"load_generator,omitempty"`
	Memory    *MemoryResult    `json:"memory,omitempty"`
	Traffic   *TrafficResult   `json:"traffic,omitempty"`
	// Forwarding is the relay's own time per packet, from parley_media_forward_seconds over the window.
	Forwarding *Quantiles `json:"relay_forwarding_ms,omitempty"`
	// OneWay is the delay from a peer's send to the other peer's receive, through the relay, over each call.
	OneWay *Quantiles `json:"one_way_delay_ms,omitempty"`
	// FirstMedia and FirstVideo run from a side's call.connect to the first packet (of any kind; of video) it
	// received from the relay.
	FirstMedia *Quantiles `json:"join_to_first_media_ms,omitempty"`
	FirstVideo *Quantiles `json:"join_to_first_video_ms,omitempty"`
	// Answer runs from the visitor's call.request to the call being live.
	Answer  *Quantiles `json:"request_to_live_ms,omitempty"`
	Targets []Target   `json:"targets,omitempty"`
	// Notes are things that went wrong outside any one call's set-up.
	Notes []string `json:"notes,omitempty"`
}

// Failure is one reason calls failed, with how many and the first such call's number.
type Failure struct {
	Reason    string `json:"reason"`
	Calls     int    `json:"calls"`
	FirstCall int    `json:"first_call"`
}

// AgentCounts says how the load test's agents came to be.
type AgentCounts struct {
	Created int `json:"created"`
	Reused  int `json:"reused"`
}

// CPUResult is the server process's CPU over the window (process_cpu_seconds_total).
type CPUResult struct {
	Seconds   float64 `json:"cpu_seconds"`
	CoresUsed float64 `json:"cores_used"`
	// MsPerCallSecond is the CPU time one call costs per second of call.
	MsPerCallSecond float64 `json:"cpu_ms_per_call_second"`
	CallsPerCore    float64 `json:"calls_per_core"`
}

// GeneratorResult is what the load test itself used of this machine over the window, and how busy the machine
// was in all (Linux only): when the server runs here too, what is left after the server and the load test is
// other work.
type GeneratorResult struct {
	CoresUsed        float64 `json:"cores_used"`
	MachineCores     int     `json:"machine_cores"`
	MachineBusyCores float64 `json:"machine_busy_cores,omitempty"`
}

// MemoryResult is the server's growth from before the calls (once the set-up's garbage was collected) to the
// window, in bytes. Resident is the resident set (process_resident_memory_bytes) less the free heap the Go
// runtime had not yet returned to the system, read every second through the window and averaged (it rises and
// falls with each garbage collection); RSS is the resident set itself, before and at the window's end. Heap is
// the Go heap and stacks, where the heap is the lowest seen during the window, just after a collection (the live
// heap, without the garbage that comes and goes).
type MemoryResult struct {
	ResidentBefore  float64 `json:"resident_before"`
	ResidentAfter   float64 `json:"resident_after"`
	ResidentPerCall float64 `json:"resident_per_call"`
	RSSBefore       float64 `json:"rss_before"`
	RSSAfter        float64 `json:"rss_after"`
	HeapBefore      float64 `json:"heap_stacks_before,omitempty"`
	HeapAfter       float64 `json:"heap_stacks_after,omitempty"`
	HeapPerCall     float64 `json:"heap_stacks_per_call,omitempty"`
}

// TrafficResult is the relay's forwarding over the window, and the loss.
type TrafficResult struct {
	ForwardedPackets float64 `json:"forwarded_packets"`
	PacketsPerSecond float64 `json:"packets_per_second"`
	Mbps             float64 `json:"mbps"`
	// DroppedPackets are packets the relay had nobody to forward to.
	DroppedPackets float64 `json:"dropped_packets"`
	// ReceivedPackets is what the peers received over the window.
	ReceivedPackets float64 `json:"received_packets"`
	// RelayToPeerLossPct compares the packets the relay forwarded with those the peers received, over the window.
	RelayToPeerLossPct float64 `json:"relay_to_peer_loss_pct"`
	// PeerToRelayLossPct is the loss from the call-quality records: the packets of each side that never reached
	// the relay, over whole calls. Negative when there was no record.
	PeerToRelayLossPct float64 `json:"peer_to_relay_loss_pct"`
	QualityRecords     int     `json:"quality_records"`
}

// Quantiles summarise a distribution, in milliseconds.
type Quantiles struct {
	P50     float64 `json:"p50"`
	P95     float64 `json:"p95"`
	P99     float64 `json:"p99"`
	Mean    float64 `json:"mean"`
	Samples int     `json:"samples"`
}

// Target is one of DESIGN section 7's targets, against what was measured.
type Target struct {
	What     string `json:"what"`
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
}

func quantiles(ds []time.Duration) *Quantiles {
	if len(ds) == 0 {
		return nil
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	at := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return ms(s[max(0, min(i, len(s)-1))])
	}
	return &Quantiles{P50: at(0.50), P95: at(0.95), P99: at(0.99), Mean: ms(sum / time.Duration(len(s))), Samples: len(s)}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// measure fills the result from the server's metrics before the calls (before) and at the window's ends (a, b),
// and from the calls' peers.
func (lt *loadTest) measure(res *Result, calls []*callRun, before snapshot, a, b mark, mem windowMemory) {
	window := b.snap.at.Sub(a.snap.at).Seconds()
	res.WindowS = window
	res.CallsInWindow = len(a.counts)
	n := float64(len(a.counts))

	// Calls that stopped during the window failed.
	var received float64
	for c, start := range a.counts {
		end, ok := b.counts[c]
		select {
		case <-c.ended:
			c.fail("during the measurement: the call " + c.endedReason())
			continue
		default:
		}
		for side := range 2 {
			if !ok || end[side].audio <= start[side].audio || end[side].video <= start[side].video {
				c.fail(fmt.Sprintf("during the measurement: the %s's media stopped", sideNames[side]))
			}
			received += float64(end[side].audio-start[side].audio) + float64(end[side].video-start[side].video)
		}
	}

	sa, sb := a.snap, b.snap
	if sa.has[metricCPU] && window > 0 && n > 0 {
		cpu := sb.cpu - sa.cpu
		cores := cpu / window
		r := &CPUResult{Seconds: cpu, CoresUsed: cores, MsPerCallSecond: cores / n * 1000}
		if cores > 0 {
			r.CallsPerCore = n / cores
		}
		res.CPU = r
	}
	if ma, mb := a.machine, b.machine; ma.selfOK && mb.selfOK && window > 0 {
		g := &GeneratorResult{CoresUsed: (mb.self - ma.self).Seconds() / window, MachineCores: runtime.NumCPU()}
		if ma.ok && mb.ok && mb.total > ma.total && mb.cores > 0 {
			g.MachineCores = mb.cores // all of them, whatever this process may run on
			g.MachineBusyCores = (mb.busy - ma.busy) / (mb.total - ma.total) * float64(g.MachineCores)
		}
		res.Generator = g
	}
	if before.has[metricRSS] && n > 0 {
		m := &MemoryResult{RSSBefore: before.rss, RSSAfter: sb.rss, ResidentBefore: before.resident(),
			ResidentAfter: mem.resident(), ResidentPerCall: (mem.resident() - before.resident()) / n}
		if before.has[metricHeapAlloc] && before.has[metricStack] {
			m.HeapBefore, m.HeapAfter = before.heapAlloc+before.stack, mem.minHeap+sb.stack
			m.HeapPerCall = (m.HeapAfter - m.HeapBefore) / n
		}
		res.Memory = m
	}
	if sa.has[metricForwarded] && window > 0 {
		fwd := sb.forwarded - sa.forwarded
		t := &TrafficResult{ForwardedPackets: fwd, PacketsPerSecond: fwd / window,
			Mbps: (sb.forwardedBytes - sa.forwardedBytes) * 8 / window / 1e6, DroppedPackets: sb.dropped - sa.dropped,
			ReceivedPackets: received, PeerToRelayLossPct: -1}
		if fwd > 0 {
			t.RelayToPeerLossPct = max(0, (fwd-received)/fwd*100)
		}
		res.Traffic = t
	}
	if sa.has[metricForward] {
		h := sb.forward.sub(sa.forward)
		if h.count > 0 {
			res.Forwarding = &Quantiles{P50: h.quantile(0.50) * 1000, P95: h.quantile(0.95) * 1000,
				P99: h.quantile(0.99) * 1000, Mean: h.sum / h.count * 1000, Samples: int(h.count)}
		}
	}

	var oneWay, first, firstVideo, answer []time.Duration
	for c := range a.counts {
		c.mu.Lock()
		for side := range 2 {
			p := c.peers[side]
			oneWay = append(oneWay, p.Latencies()...)
			if at := p.FirstMediaAt(); !at.IsZero() {
				first = append(first, at.Sub(c.joinAt[side]))
			}
			if !c.firstVideo[side].IsZero() {
				firstVideo = append(firstVideo, c.firstVideo[side].Sub(c.joinAt[side]))
			}
		}
		answer = append(answer, c.liveAt.Sub(c.requestAt))
		c.mu.Unlock()
	}
	res.OneWay, res.FirstMedia, res.FirstVideo, res.Answer = quantiles(oneWay), quantiles(first), quantiles(firstVideo), quantiles(answer)
}

// addQuality adds up the call-quality records: the loss from each side to the relay.
func (r *Result) addQuality(records []string) {
	var expected, lost float64
	count := 0
	for _, rec := range records {
		if rec == "" {
			continue
		}
		var q struct {
			Legs map[string]media.LegStats `json:"legs"`
		}
		if json.Unmarshal([]byte(rec), &q) != nil {
			continue
		}
		count++
		for _, leg := range q.Legs {
			if leg.Packets == 0 || leg.LossPct >= 100 {
				continue
			}
			e := float64(leg.Packets) / (1 - leg.LossPct/100)
			expected += e
			lost += e - float64(leg.Packets)
		}
	}
	if r.Traffic != nil {
		r.Traffic.QualityRecords = count
		if expected > 0 {
			r.Traffic.PeerToRelayLossPct = lost / expected * 100
		}
	}
}

// addFailures counts the calls, and groups the failures by reason, the most frequent first.
func (r *Result) addFailures(calls []*callRun) {
	by := map[string]*Failure{}
	r.Established, r.Failed = 0, 0
	for _, c := range calls {
		reason := c.failed()
		if reason == "" && c.isEstablished() {
			r.Established++
			continue
		}
		if reason == "" {
			reason = "not set up"
		}
		r.Failed++
		f := by[reason]
		if f == nil {
			f = &Failure{Reason: reason, FirstCall: c.n}
			by[reason] = f
		}
		f.Calls++
	}
	r.Failures = r.Failures[:0]
	for _, f := range by {
		r.Failures = append(r.Failures, *f)
	}
	sort.Slice(r.Failures, func(i, j int) bool {
		if r.Failures[i].Calls != r.Failures[j].Calls {
			return r.Failures[i].Calls > r.Failures[j].Calls
		}
		return r.Failures[i].FirstCall < r.Failures[j].FirstCall
	})
	if r.Calls > 0 {
		r.FailedPct = float64(r.Failed) / float64(r.Calls) * 100
	}
	r.Targets = r.targets()
}

// targets compares the result with DESIGN section 7.
func (r *Result) targets() []Target {
	var out []Target
	if r.CPU != nil && r.CPU.CallsPerCore > 0 {
		out = append(out, Target{"calls per core", "≥ 200", fmt.Sprintf("%.0f", r.CPU.CallsPerCore), r.CPU.CallsPerCore >= 200})
	}
	if r.Forwarding != nil {
		out = append(out,
			Target{"relay forwarding p50", "≤ 0.5 ms", fmt.Sprintf("%.3f ms", r.Forwarding.P50), r.Forwarding.P50 <= 0.5},
			Target{"relay forwarding p99", "≤ 2 ms", fmt.Sprintf("%.3f ms", r.Forwarding.P99), r.Forwarding.P99 <= 2})
	}
	if t := r.Traffic; t != nil {
		loss := t.RelayToPeerLossPct
		if t.PeerToRelayLossPct > 0 {
			loss = 100 * (1 - (1-t.PeerToRelayLossPct/100)*(1-loss/100))
		}
		out = append(out, Target{"loss", "≤ 0.1%", fmt.Sprintf("%.3f%%", loss), loss <= 0.1})
	}
	if r.Memory != nil {
		out = append(out, Target{"memory per call (resident)", "≤ 2 MB", fmt.Sprintf("%.2f MB", r.Memory.ResidentPerCall/1e6),
			r.Memory.ResidentPerCall <= 2e6})
	}
	if r.FirstVideo != nil {
		out = append(out, Target{"join → first video p95", "≤ 400 ms", fmt.Sprintf("%.0f ms", r.FirstVideo.P95),
			r.FirstVideo.P95 <= 400})
	}
	return out
}

// WriteJSON writes the result as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the result for people.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "\nParley load test: %d video calls through %s (%s)\n", r.Calls, r.URL, r.Date)
	fmt.Fprintf(&b, "Each call: a visitor and an agent peer, each sending %d kb/s of video and 50 Opus-sized audio packets a second.\n\n", r.VideoKbps)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, args...)) }
	row("Calls", "%d established, %d failed (%.1f%%), of %d; set up in %.1f s at %g per second", r.Established, r.Failed,
		r.FailedPct, r.Calls, r.SetupS, r.Ramp)
	if r.WindowS > 0 {
		row("Measured", "%.1f s with %d calls up", r.WindowS, r.CallsInWindow)
	}
	if c := r.CPU; c != nil {
		row("Server CPU", "%.2f cores: %.1f ms of CPU per call per second, %.0f calls per core", c.CoresUsed,
			c.MsPerCallSecond, c.CallsPerCore)
	}
	if g := r.Generator; g != nil {
		line := fmt.Sprintf("%.2f cores (this process)", g.CoresUsed)
		if g.MachineBusyCores > 0 {
			line += fmt.Sprintf("; this machine was busy %.2f of its %d cores", g.MachineBusyCores, g.MachineCores)
		}
		row("Load generator", "%s", line)
	}
	if m := r.Memory; m != nil {
		line := fmt.Sprintf("%+.1f MB resident (%.2f MB per call; resident set %.1f → %.1f MB)",
			(m.ResidentAfter-m.ResidentBefore)/1e6, m.ResidentPerCall/1e6, m.RSSBefore/1e6, m.RSSAfter/1e6)
		if m.HeapBefore > 0 {
			line += fmt.Sprintf(", %+.1f MB live Go heap and stacks (%.2f MB per call)", (m.HeapAfter-m.HeapBefore)/1e6,
				m.HeapPerCall/1e6)
		}
		row("Server memory", "%s", line)
	}
	if t := r.Traffic; t != nil {
		row("Relay traffic", "%.0f packets/s, %.1f Mb/s forwarded; %.0f packets dropped (no receiver)",
			t.PacketsPerSecond, t.Mbps, t.DroppedPackets)
		inbound := "no call-quality record"
		if t.PeerToRelayLossPct >= 0 {
			inbound = fmt.Sprintf("%.3f%% peer → relay (%d call-quality records)", t.PeerToRelayLossPct, t.QualityRecords)
		}
		row("Loss", "%s, %.3f%% relay → peer (%.0f forwarded, %.0f received)", inbound, t.RelayToPeerLossPct,
			t.ForwardedPackets, t.ReceivedPackets)
	}
	if q := r.Forwarding; q != nil {
		row("Relay forwarding", "p50 %.3f ms, p99 %.3f ms, mean %.3f ms (%d packets; interpolated in the histogram's buckets)",
			q.P50, q.P99, q.Mean, q.Samples)
	}
	if q := r.OneWay; q != nil {
		row("One-way delay", "p50 %.2f ms, p99 %.2f ms (peer to peer through the relay, %d samples)", q.P50, q.P99, q.Samples)
	}
	if q := r.FirstMedia; q != nil {
		line := fmt.Sprintf("p50 %.0f ms, p95 %.0f ms (first packet)", q.P50, q.P95)
		if v := r.FirstVideo; v != nil {
			line += fmt.Sprintf("; first video p50 %.0f ms, p95 %.0f ms", v.P50, v.P95)
		}
		row("Join → first media", "%s", line)
	}
	if q := r.Answer; q != nil {
		row("Request → live", "p50 %.0f ms, p95 %.0f ms (routing, the offer and its accept)", q.P50, q.P95)
	}
	row("Agents", "%d created, %d reused", r.Agents.Created, r.Agents.Reused)
	tw.Flush()
	if r.Interrupted {
		b.WriteString("\nInterrupted: the calls were hung up before the measurement ended.\n")
	}
	if len(r.Failures) > 0 {
		b.WriteString("\nFailures:\n")
		for _, f := range r.Failures {
			fmt.Fprintf(&b, "  %4d × %s (first: call %d)\n", f.Calls, f.Reason, f.FirstCall)
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\nNotes:\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "  %s\n", n)
		}
	}
	if len(r.Targets) > 0 {
		b.WriteString("\nTargets (DESIGN section 7):\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, t := range r.Targets {
			met := "not met"
			if t.Met {
				met = "met"
			}
			fmt.Fprintf(tw, "  %s %s\t%s\t%s\n", t.What, t.Target, t.Measured, met)
		}
		tw.Flush()
	}
	_, err := io.WriteString(w, b.String())
	return err
}
