// Package loadtest drives a running Parley server with synthetic load and measures it: `parley loadtest calls`
// runs many concurrent video calls through its media relay, over the real signalling (the visitor and desk
// WebSockets) and real DTLS-SRTP, with a synthetic peer (internal/media's Peer) on each side of each call. It
// reports the calls that worked and why the others failed, and the server's CPU, memory, loss and latencies
// against DESIGN section 7's targets.
//
// The load test needs an admin account. It creates the agents it needs through the admin API ("Load agent 001",
// ...) in the site's routing group, and reuses them on later runs.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/parley/parley/internal/demo"
)

// Config is one load test of video calls.
type Config struct {
	// URL is the running Parley server, e.g. http://127.0.0.1:8080.
	URL string
	// Calls is how many calls run at the same time.
	Calls int
	// Duration is how long all the calls stay up together, measured, once they have started.
	Duration time.Duration
	// AdminEmail and AdminPassword log in the admin who sets up the agents and the group.
	AdminEmail, AdminPassword string
	// Site is the public id or the name of the site the visitors come from; empty means the demo site.
	Site string
	// VideoKbps is each peer's video bitrate; 0 means 500.
	VideoKbps int
	// Ramp is how many calls start per second; 0 means 20.
	Ramp float64
	// Settle is the wait between the last call's set-up and the measurement; 0 means 2 s.
	Settle time.Duration
	// SetupTimeout bounds each call's set-up, from the visitor's session to media both ways; 0 means 60 s.
	SetupTimeout time.Duration
}

// Defaults of the command's flags.
const (
	DefaultURL       = "http://127.0.0.1:8080"
	DefaultCalls     = 10
	DefaultDuration  = 30 * time.Second
	DefaultVideoKbps = 500
	DefaultRamp      = 20
)

// ErrInterrupted is returned when the context ends before the load test does. The calls are hung up all the same.
var ErrInterrupted = errors.New("interrupted")

func (cfg *Config) fill() error {
	if cfg.URL == "" {
		cfg.URL = DefaultURL
	}
	if cfg.AdminEmail == "" {
		cfg.AdminEmail = demo.AdminEmail
	}
	if cfg.AdminPassword == "" {
		cfg.AdminPassword = demo.Password
	}
	if cfg.VideoKbps == 0 {
		cfg.VideoKbps = DefaultVideoKbps
	}
	if cfg.Ramp == 0 {
		cfg.Ramp = DefaultRamp
	}
	if cfg.Settle == 0 {
		cfg.Settle = 2 * time.Second
	}
	if cfg.SetupTimeout == 0 {
		cfg.SetupTimeout = 60 * time.Second
	}
	var bad []string
	if cfg.Calls < 1 || cfg.Calls > 999 {
		bad = append(bad, "--calls must be between 1 and 999")
	}
	if cfg.Duration <= 0 {
		bad = append(bad, "--duration must be positive")
	}
	if cfg.VideoKbps < 0 || cfg.VideoKbps > 10000 {
		bad = append(bad, "--video-kbps must be between 1 and 10000")
	}
	if cfg.Ramp < 0 {
		bad = append(bad, "--ramp must be positive")
	}
	if u, err := url.Parse(cfg.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad = append(bad, "--url must be an http:// or https:// URL")
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

// loadTest is one run.
type loadTest struct {
	cfg       Config
	ctx       context.Context // the caller's: ends on Ctrl+C
	progress  io.Writer
	base      string // scheme://host, with no path
	origin    string // Parley's own origin, which its sockets and API accept
	wsBase    string
	transport *http.Transport
	plain     *http.Client // for /metrics and the visitors' sockets: no cookies
	admin     *apiClient
	widget    *apiClient
	site      site
	group     group
	agents    []*agent
	ours      map[string]bool // the agents' account ids; read-only once the calls start

	mu     sync.Mutex
	byCall map[string]*callRun
	early  map[string]*agent // calls an agent heard were live before the visitor's ack named them
	notes  map[string]int
}

// Run runs a load test against the server at cfg.URL, writing its progress to progress. It returns the result
// even when some calls failed; the error is for a load test that could not run, or was interrupted (then the
// result has what was measured before).
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Result, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	if progress == nil {
		progress = io.Discard
	}
	u, _ := url.Parse(cfg.URL)
	lt := &loadTest{cfg: cfg, ctx: ctx, progress: progress, base: u.Scheme + "://" + u.Host,
		byCall: map[string]*callRun{}, early: map[string]*agent{}, notes: map[string]int{}, ours: map[string]bool{}}
	lt.origin = lt.base
	lt.wsBase = "ws" + strings.TrimPrefix(lt.base, "http")
	lt.transport = http.DefaultTransport.(*http.Transport).Clone()
	lt.transport.MaxIdleConnsPerHost = 64
	defer lt.transport.CloseIdleConnections()
	lt.plain = &http.Client{Transport: lt.transport, Timeout: 30 * time.Second}
	lt.admin = newAPIClient(lt.base, lt.origin, lt.transport)
	lt.widget = newAPIClient(lt.base, lt.origin, lt.transport)

	res := &Result{Date: time.Now().Format("2006-01-02 15:04:05 MST"), URL: lt.base, Calls: cfg.Calls,
		VideoKbps: cfg.VideoKbps, Ramp: cfg.Ramp, DurationS: cfg.Duration.Seconds()}
	err := lt.run(res)
	lt.mu.Lock()
	for n, count := range lt.notes {
		res.Notes = append(res.Notes, fmt.Sprintf("%s (%d×)", n, count))
	}
	lt.mu.Unlock()
	sort.Strings(res.Notes)
	if ctx.Err() != nil {
		err = ErrInterrupted // whatever failed, failed because of it
	}
	if errors.Is(err, ErrInterrupted) {
		res.Interrupted = true
	}
	return res, err
}

func (lt *loadTest) logf(format string, args ...any) {
	fmt.Fprintf(lt.progress, format+"\n", args...)
}

func (lt *loadTest) run(res *Result) (err error) {
	ctx, cfg := lt.ctx, lt.cfg
	if err := lt.prepare(ctx); err != nil {
		return err
	}
	defer lt.restoreGroup()

	lt.logf("Starting %d agents (%q, ...) in the group %q...", cfg.Calls, agentName(1), lt.group.Name)
	created, reused, err := lt.startAgents(ctx)
	res.Agents = AgentCounts{Created: created, Reused: reused}
	defer lt.stopAgents()
	if err != nil {
		if ctx.Err() != nil {
			return ErrInterrupted
		}
		return err
	}
	lt.logf("%d agents ready for video (%d created, %d reused).", len(lt.agents), created, reused)

	// The server's memory before the calls.
	before, err := lt.settledSnapshot(ctx)
	if err != nil {
		return err
	}

	calls := make([]*callRun, cfg.Calls)
	for i := range calls {
		calls[i] = newCallRun(lt, i+1)
	}
	defer func() {
		lt.logf("Hanging up...")
		lt.teardown(calls, res)
	}()

	lt.logf("Starting %d calls, %g per second...", cfg.Calls, cfg.Ramp)
	start := time.Now()
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / cfg.Ramp)
	progressDone := make(chan struct{})
	go lt.reportSetup(calls, progressDone)
	for i, c := range calls {
		if i > 0 && !sleep(ctx, time.Until(start.Add(time.Duration(i)*interval))) {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.setup(ctx)
		}()
	}
	wg.Wait()
	close(progressDone)
	setupEnd := time.Now()
	for _, c := range calls {
		if c.failed() == "" && !c.isEstablished() {
			c.fail("not started: interrupted")
		}
	}
	up := countEstablished(calls)
	res.SetupS = setupEnd.Sub(start).Seconds()
	lt.logf("%d of %d calls have media both ways (set-up took %.1f s).", up, cfg.Calls, res.SetupS)
	if ctx.Err() != nil {
		return ErrInterrupted
	}
	if up == 0 {
		return nil // nothing to measure; the report says why the calls failed
	}

	if !sleep(ctx, cfg.Settle) {
		return ErrInterrupted
	}
	lt.logf("Measuring for %s with %d calls up...", cfg.Duration, up)
	a, err := lt.windowMark(ctx, calls)
	if err != nil {
		return err
	}
	// Read the server's memory every second meanwhile: the resident set goes up and down with each garbage
	// collection, so the window's mean is kept; the lowest heap seen is the live heap, just after a collection.
	mem := windowMemory{minHeap: a.snap.heapAlloc}
	mem.add(a.snap)
	for end := time.Now().Add(cfg.Duration); time.Until(end) > 0; {
		if !sleep(ctx, min(time.Second, time.Until(end))) {
			return ErrInterrupted
		}
		if s, err := fetchSnapshot(ctx, lt.plain, lt.base); err == nil {
			mem.add(s)
		}
	}
	b, err := lt.windowMark(ctx, calls)
	if err != nil {
		return err
	}
	mem.add(b.snap)
	lt.measure(res, calls, before, a, b, mem)
	return nil
}

// windowMemory follows the server's memory through the window.
type windowMemory struct {
	residentSum float64
	samples     int
	minHeap     float64
}

func (w *windowMemory) add(s snapshot) {
	w.residentSum += s.resident()
	w.samples++
	w.minHeap = min(w.minHeap, s.heapAlloc)
}

func (w *windowMemory) resident() float64 { return w.residentSum / float64(max(1, w.samples)) }

// settledSnapshot reads the server's metrics once the garbage of the set-up is collected. Logins hash passwords
// with 19 MiB of memory each, which stays on an idle server's heap until its next collection, up to two minutes
// later, and would hide the calls' memory. Each read of /metrics makes some garbage on the server: reading it
// until a collection has run brings that collection on. (The freed memory stays resident until the runtime returns
// it to the system, which an idle server does slowly: the resident set is measured without it.)
func (lt *loadTest) settledSnapshot(ctx context.Context) (snapshot, error) {
	first, err := fetchSnapshot(ctx, lt.plain, lt.base)
	if err != nil || !first.has[metricGCs] {
		return first, err
	}
	collected := false
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		s, err := fetchSnapshot(ctx, lt.plain, lt.base)
		if err != nil {
			return s, err
		}
		if s.gcs > first.gcs {
			collected = true
			break
		}
	}
	if !collected {
		lt.note("the server's heap was not collected before the calls: memory per call is approximate")
	}
	// Let the sweep finish.
	if !sleep(ctx, time.Second) {
		return snapshot{}, ctx.Err()
	}
	return fetchSnapshot(ctx, lt.plain, lt.base)
}

// prepare logs the admin in, finds the site and its group, and makes room in the group's queue.
func (lt *loadTest) prepare(ctx context.Context) error {
	acct, err := lt.admin.login(ctx, lt.cfg.AdminEmail, lt.cfg.AdminPassword)
	if err != nil {
		return fmt.Errorf("log in as the admin %s: %w", lt.cfg.AdminEmail, err)
	}
	if acct.Role != "admin" {
		return fmt.Errorf("%s is not an admin", lt.cfg.AdminEmail)
	}
	var sites struct {
		Sites []site `json:"sites"`
	}
	if err := lt.admin.do(ctx, "GET", "/api/admin/sites", nil, &sites); err != nil {
		return err
	}
	want := lt.cfg.Site
	if want == "" {
		want = demo.SiteName
	}
	found := false
	for _, s := range sites.Sites {
		if s.PublicID == want || strings.EqualFold(s.Name, want) {
			lt.site, found = s, true
			break
		}
	}
	if !found && lt.cfg.Site == "" && len(sites.Sites) == 1 {
		lt.site, found = sites.Sites[0], true
	}
	if !found {
		return fmt.Errorf("no site %q on the server (use --site with a site's public id or name)", want)
	}
	if lt.site.GroupID == "" {
		return fmt.Errorf("the site %q has no routing group", lt.site.Name)
	}
	var groups struct {
		Groups []group `json:"groups"`
	}
	if err := lt.admin.do(ctx, "GET", "/api/admin/groups", nil, &groups); err != nil {
		return err
	}
	for _, g := range groups.Groups {
		if g.ID == lt.site.GroupID {
			lt.group = g
		}
	}
	if lt.group.ID == "" {
		return fmt.Errorf("the routing group of the site %q is missing", lt.site.Name)
	}
	if !lt.group.hasVideo() {
		return fmt.Errorf("the group %q does not take video calls", lt.group.Name)
	}
	// Each call's conversation waits in the group's chat queue, and a call may wait for its agent a moment:
	// the queue must not refuse them. Offers must ring long enough for a loaded desk to accept.
	patch := map[string]any{}
	if places := min(1000, 2*lt.cfg.Calls+20); lt.group.QueuePlaces < places {
		patch["queue_places"] = places
	}
	if lt.group.OfferTimeoutSeconds < 30 {
		patch["offer_timeout_seconds"] = 30
	}
	if len(patch) > 0 {
		if err := lt.admin.do(ctx, "PATCH", "/api/admin/groups/"+lt.group.ID, patch, nil); err != nil {
			return fmt.Errorf("make room in the group's queue: %w", err)
		}
		lt.logf("Group %q: %s for the load test (restored at the end).", lt.group.Name, describePatch(patch))
	}
	lt.cfg.Site = lt.site.PublicID
	return nil
}

func describePatch(p map[string]any) string {
	var parts []string
	if v, ok := p["queue_places"]; ok {
		parts = append(parts, fmt.Sprintf("queue places raised to %v", v))
	}
	if v, ok := p["offer_timeout_seconds"]; ok {
		parts = append(parts, fmt.Sprintf("offers ring for %v s", v))
	}
	return strings.Join(parts, ", ")
}

// restoreGroup puts the group's queue and offer settings back.
func (lt *loadTest) restoreGroup() {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var now struct {
		Groups []group `json:"groups"`
	}
	if err := lt.admin.do(ctx, "GET", "/api/admin/groups", nil, &now); err != nil {
		lt.logf("Could not restore the group's settings: %v", err)
		return
	}
	patch := map[string]any{}
	for _, g := range now.Groups {
		if g.ID != lt.group.ID {
			continue
		}
		if g.QueuePlaces != lt.group.QueuePlaces {
			patch["queue_places"] = lt.group.QueuePlaces
		}
		if g.OfferTimeoutSeconds != lt.group.OfferTimeoutSeconds {
			patch["offer_timeout_seconds"] = lt.group.OfferTimeoutSeconds
		}
	}
	if len(patch) == 0 {
		return
	}
	if err := lt.admin.do(ctx, "PATCH", "/api/admin/groups/"+lt.group.ID, patch, nil); err != nil {
		lt.logf("Could not restore the group's settings: %v", err)
	}
}

// startAgents starts one agent per call, two at a time (logins hash passwords: they are slow on purpose).
func (lt *loadTest) startAgents(ctx context.Context) (created, reused int, err error) {
	var list struct {
		Agents []account `json:"agents"`
	}
	if err := lt.admin.do(ctx, "GET", "/api/admin/agents", nil, &list); err != nil {
		return 0, 0, err
	}
	byEmail := map[string]*account{}
	for i := range list.Agents {
		byEmail[strings.ToLower(list.Agents[i].Email)] = &list.Agents[i]
	}
	agents := make([]*agent, lt.cfg.Calls)
	errs := make([]error, lt.cfg.Calls)
	isNew := make([]bool, lt.cfg.Calls)
	next := make(chan int)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				agents[i], isNew[i], errs[i] = lt.startAgent(ctx, i+1, byEmail[agentEmail(i+1)])
			}
		}()
	}
	for i := range agents {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	for i, a := range agents {
		if isNew[i] {
			created++
		} else if a != nil {
			reused++
		}
		if a != nil {
			lt.agents = append(lt.agents, a)
			lt.ours[a.id] = true
		}
	}
	if err := errors.Join(errs...); err != nil {
		return created, reused, err
	}
	if ctx.Err() != nil {
		return created, reused, ErrInterrupted
	}
	return created, reused, nil
}

// stopAgents takes the agents off video and closes their desks, a few at a time.
func (lt *loadTest) stopAgents() {
	parallel(len(lt.agents), 8, func(i int) { lt.agents[i].stop() })
}

// register makes a call known by its id, for the agents' frames about it.
func (lt *loadTest) register(c *callRun) {
	lt.mu.Lock()
	lt.byCall[c.callID] = c
	a := lt.early[c.callID]
	delete(lt.early, c.callID)
	lt.mu.Unlock()
	if a != nil {
		c.setAgent(a)
	}
}

// agentLive is told by an agent's desk that a call it answered is live.
func (lt *loadTest) agentLive(callID string, a *agent) {
	lt.mu.Lock()
	c := lt.byCall[callID]
	if c == nil {
		lt.early[callID] = a
	}
	lt.mu.Unlock()
	if c != nil {
		c.setAgent(a)
	}
}

func (lt *loadTest) lookup(callID string) *callRun {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	return lt.byCall[callID]
}

// note counts something that went wrong outside any one call's set-up.
func (lt *loadTest) note(what string) {
	lt.mu.Lock()
	lt.notes[what]++
	lt.mu.Unlock()
}

// reportSetup prints how the calls' set-up goes, every 2 seconds, until done is closed.
func (lt *loadTest) reportSetup(calls []*callRun, done chan struct{}) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			failed := 0
			for _, c := range calls {
				if c.failed() != "" {
					failed++
				}
			}
			lt.logf("  %d of %d calls up, %d failed", countEstablished(calls), len(calls), failed)
		}
	}
}

// mark is the state at one end of the measurement window: the server's metrics, and what every call's peers had
// received, read just before and just after the metrics so that their average matches the metrics' moment.
type mark struct {
	snap    snapshot
	counts  map[*callRun][2]received
	machine machineCPU
}

func (lt *loadTest) windowMark(ctx context.Context, calls []*callRun) (mark, error) {
	first := map[*callRun][2]received{}
	for _, c := range calls {
		if c.isEstablished() {
			first[c] = c.counts()
		}
	}
	snap, err := fetchSnapshot(ctx, lt.plain, lt.base)
	if err != nil {
		return mark{}, err
	}
	m := mark{snap: snap, counts: map[*callRun][2]received{}, machine: readMachineCPU()}
	for c, f := range first {
		s := c.counts()
		for side := range 2 {
			// Rounded down: the two readings are a few milliseconds apart.
			s[side].audio = (s[side].audio + f[side].audio) / 2
			s[side].video = (s[side].video + f[side].video) / 2
		}
		m.counts[c] = s
	}
	return m, nil
}

func (c *callRun) isEstablished() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.established && c.failure == ""
}

func countEstablished(calls []*callRun) int {
	n := 0
	for _, c := range calls {
		if c.isEstablished() {
			n++
		}
	}
	return n
}

// teardown hangs up every call, collects the call-quality records, and hangs up calls that an agent answered for
// a visitor the load test no longer knows.
func (lt *loadTest) teardown(calls []*callRun, res *Result) {
	records := make([]string, len(calls))
	parallel(len(calls), 16, func(i int) {
		var fallback *agent
		if len(lt.agents) > 0 {
			fallback = lt.agents[i%len(lt.agents)]
		}
		if q := calls[i].teardown(fallback); q != nil {
			records[i] = string(q)
		}
	})
	lt.mu.Lock()
	strays := lt.early
	lt.early = map[string]*agent{}
	lt.mu.Unlock()
	for callID, a := range strays {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = a.desk.request(ctx, "call.hangup", map[string]string{"call_id": callID}, nil)
		cancel()
	}
	res.addQuality(records)
	res.addFailures(calls)
}

// parallel runs f(0..n-1), at most width at a time.
func parallel(n, width int, f func(i int)) {
	sem := make(chan struct{}, width)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}()
	}
	wg.Wait()
}

// sleep waits for d, or until ctx ends; it reports whether it waited the whole time.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// shortError keeps an error's text to one readable line, without the ids that would make every call's differ.
func shortError(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func joinWords(parts []string) string {
	if len(parts) == 0 {
		return "media did not arrive"
	}
	return strings.Join(parts, "; ")
}
