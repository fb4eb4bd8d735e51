package simulate

import (
	"context"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/internal/routing"
	"github.com/parley/parley/internal/store"
)

// databases are the stores a run is checked on: SQLite always, PostgreSQL when PARLEY_TEST_POSTGRES_URL is set.
func databases() map[string]string {
	dbs := map[string]string{"sqlite": ""}
	if url := os.Getenv("PARLEY_TEST_POSTGRES_URL"); url != "" {
		dbs["postgres"] = url
	}
	return dbs
}

// shortConfig is a small, busy group for a short while: queues form, agents step away, visitors give up, and in
// offer mode agents decline and miss offers.
func shortConfig(mode, databaseURL string) Config {
	cfg := DefaultConfig()
	cfg.Agents, cfg.Capacity, cfg.Load, cfg.Mode, cfg.DatabaseURL = 3, 2, 0.95, mode, databaseURL
	cfg.AHT, cfg.Duration, cfg.Warmup, cfg.Tick = time.Minute, 20*time.Minute, 4*time.Minute, 10*time.Second
	cfg.Flaps, cfg.Away, cfg.Patience = 4, time.Minute, 2*time.Minute
	cfg.Decline, cfg.Miss = 0.15, 0.1
	return cfg
}

func TestShortRunIsSoundAndConsistent(t *testing.T) {
	for name, url := range databases() {
		for _, mode := range []string{store.ChatAssign, store.ChatOffer} {
			t.Run(name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				r, err := Run(context.Background(), shortConfig(mode, url), nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(r.Violations) > 0 || r.EngineWarnings > 0 {
					t.Fatalf("violations %+v, %d engine warnings", r.Violations, r.EngineWarnings)
				}
				checkConsistent(t, r)
				// The workload must have exercised what the report measures.
				if r.ETA.Measured == 0 || r.Visitors.Abandoned == 0 || r.Agents.Flaps == 0 {
					t.Fatalf("a run that exercised too little: %+v %+v %+v", r.Visitors, r.ETA, r.Agents)
				}
				if mode == store.ChatOffer && (r.Offers.Declined == 0 || r.Offers.TimedOut == 0 || r.Agents.NotResponding == 0) {
					t.Fatalf("offer mode without declines or missed offers: %+v %+v", r.Offers, r.Agents)
				}
				checkWritten(t, r)
			})
		}
	}
}

// checkConsistent checks that a report's numbers add up.
func checkConsistent(t *testing.T, r Report) {
	t.Helper()
	v := r.Visitors
	if v.Arrivals == 0 || v.Other != 0 || v.Served+v.Refused+v.Abandoned+v.Expired != v.Arrivals || v.Gone > v.Abandoned {
		t.Fatalf("outcomes don't add up to the arrivals: %+v", v)
	}
	w, e := r.Waits, r.ETA
	if w.Served > v.Served || w.Queued > w.Served || e.Measured+e.Unknown != w.Queued {
		t.Fatalf("waits %+v and estimates %+v disagree with the outcomes %+v", w, e, v)
	}
	if w.MeanSeconds <= 0 || w.P90Seconds <= 0 || w.P90Seconds > r.ArrivalSeconds+r.DrainSeconds {
		t.Fatalf("waits %+v", w)
	}
	inRange := func(x float64) bool { return x >= 0 && x <= 1 }
	if !inRange(r.Utilisation) || r.Utilisation == 0 || !inRange(e.RightBucket) || !inRange(e.OracleRightBucket) || e.MdAPE < 0 || e.OracleMdAPE < 0 {
		t.Fatalf("utilisation %v, estimates %+v", r.Utilisation, e)
	}
	n := 0
	for _, p := range e.ByPosition {
		n += p.Measured
	}
	if n != e.Measured {
		t.Fatalf("positions count %d measured visitors, the total says %d", n, e.Measured)
	}
	if o := r.Offers; r.Config.Mode == store.ChatOffer {
		// Every assignment is an accepted offer, and every offer ended one way or another.
		if o.Accepted != v.Served || o.Made != o.Accepted+o.Declined+o.TimedOut+o.Withdrawn+o.Taken || o.TimedOut != r.Agents.NotResponding {
			t.Fatalf("offers %+v for %d served, %d not responding", o, v.Served, r.Agents.NotResponding)
		}
	} else if o.Made != 0 {
		t.Fatalf("offers in assign mode: %+v", o)
	}
	if r.ArrivalSeconds != r.Config.Duration.Seconds() {
		t.Fatalf("arrivals lasted %vs, want %v", r.ArrivalSeconds, r.Config.Duration)
	}
}

func TestSameSeedSameReport(t *testing.T) {
	t.Parallel()
	cfg := shortConfig(store.ChatOffer, "")
	cfg.Duration, cfg.Seed = 10*time.Minute, 7
	var reports [2]Report
	var errs [2]error
	var wg sync.WaitGroup
	for i := range reports {
		wg.Go(func() { reports[i], errs[i] = Run(context.Background(), cfg, nil) })
	}
	wg.Wait()
	for i := range reports {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		reports[i].WallSeconds = 0
	}
	if reports[0].Visitors.Arrivals == 0 || reports[0].Offers.Made == 0 {
		t.Fatalf("nothing happened: %+v", reports[0])
	}
	if !reflect.DeepEqual(reports[0], reports[1]) {
		t.Fatalf("one seed, two reports:\n%+v\n%+v", reports[0], reports[1])
	}
}

func TestMinMeasuredStopsArrivals(t *testing.T) {
	t.Parallel()
	cfg := shortConfig(store.ChatAssign, "")
	cfg.MinMeasured = 3
	r, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.ETA.Measured < 3 || r.ArrivalSeconds >= cfg.Duration.Seconds() || len(r.Violations) > 0 {
		t.Fatalf("measured %d in %vs (of %v); violations %v", r.ETA.Measured, r.ArrivalSeconds, cfg.Duration, r.Violations)
	}
}

// checkWritten checks that the text report and the matrix row show the report's figures.
func checkWritten(t *testing.T, r Report) {
	t.Helper()
	var text strings.Builder
	r.WriteText(&text)
	var table strings.Builder
	WriteMatrix(&table, []Report{r})
	for _, want := range []string{"arrived", "served", "p90", "utilisation", "median absolute percentage error", "right bucket", "violations", "targets"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the report doesn't say %q:\n%s", want, text.String())
		}
	}
	if lines := strings.Split(strings.TrimSpace(table.String()), "\n"); len(lines) != 2 || !strings.Contains(lines[0], "MdAPE") {
		t.Errorf("matrix table:\n%s", table.String())
	}
	b, err := r.Config.MarshalJSON()
	if err != nil || !strings.Contains(string(b), `"aht":"1m0s"`) || strings.Contains(string(b), "database") {
		t.Errorf("config as JSON: %s %v", b, err)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"defaults", func(*Config) {}, ""},
		{"no agents", func(c *Config) { c.Agents = 0 }, "agents"},
		{"load", func(c *Config) { c.Load = 0 }, "load"},
		{"mode", func(c *Config) { c.Mode = "broadcast" }, "mode"},
		{"probabilities", func(c *Config) { c.Decline, c.Miss = 0.6, 0.5 }, "decline and miss"},
		{"warm-up", func(c *Config) { c.Warmup = c.Duration }, "warm-up"},
		{"handling", func(c *Config) { c.Handling = "uniform" }, "handling"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.mutate(&cfg)
			err := cfg.Validate()
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("got %v, want an error about %q", err, tc.want)
			}
		})
	}
}

func TestStatistics(t *testing.T) {
	for _, tc := range []struct {
		name      string
		est, act  time.Duration
		wantAPE   float64
		wantRight bool
	}{
		{"short waits are judged against the floor", 12 * time.Second, 4 * time.Second, 8.0 / 30, true},
		{"exact", 90 * time.Second, 90 * time.Second, 0, true},
		{"long by double", 3 * time.Minute, 90 * time.Second, 1, false},
		{"short by a quarter", 3 * time.Minute, 4 * time.Minute, 0.25, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// One agent with one slot, busy: the oracle estimate at position 1 is the true AHT, which is the actual wait.
			sh := &shown{position: 1, eta: tc.est, known: true, bucket: routing.Bucket(tc.est, true, ""),
				capacity: store.Capacity{Online: 1, Serving: 1}, averages: store.Averages{AHT: time.Minute, AHTSamples: 10}}
			s := newSample(sh, tc.act, tc.act)
			if d := s.ape - tc.wantAPE; d > 1e-9 || d < -1e-9 || s.right != tc.wantRight || s.oracleAPE != 0 || !s.oracleRight {
				t.Fatalf("got %+v, want ape %v right %v", s, tc.wantAPE, tc.wantRight)
			}
		})
	}
	xs := []float64{5, 1, 4, 2, 3, 6, 7, 8, 9, 10}
	if m, q := median(xs), quantile(xs, 0.9); m != 5.5 || q != 9 || mean(xs) != 5.5 {
		t.Fatalf("median %v, p90 %v, mean %v", m, q, mean(xs))
	}
	if median(nil) != 0 || quantile(nil, 0.9) != 0 || mean(nil) != 0 {
		t.Fatal("statistics of nothing must be 0, to encode as JSON")
	}
}

// The hindsight bound picks, for each number of departures waited for, the best single estimate and the most common
// bucket: a group whose waits all agree is perfect, one whose waits are spread is not.
func TestHindsightBound(t *testing.T) {
	var samples []etaSample
	for range 4 { // one departure to wait for, always 40 s
		samples = append(samples, etaSample{needed: 1, actual: 40 * time.Second})
	}
	for _, w := range []time.Duration{20 * time.Second, 50 * time.Second, 100 * time.Second, 4 * time.Minute} { // spread
		samples = append(samples, etaSample{needed: 3, actual: w})
	}
	// The first group is exact; the spread group's most common bucket is <1 (20 s and 50 s), and its best estimate
	// is 50 s, off by 100%, 0%, 50% and 79%: a median of 65% for that group alone.
	if mdape, right := hindsightBound(samples); mdape != 0 || right != 0.75 {
		t.Fatalf("both groups: MdAPE %v, right bucket %v; want 0 and 0.75", mdape, right)
	}
	if mdape, right := hindsightBound(samples[4:]); mdape < 0.645 || mdape > 0.646 || right != 0.5 {
		t.Fatalf("spread group: MdAPE %v, right bucket %v; want 0.646 and 0.5", mdape, right)
	}
	if m, r := hindsightBound(nil); m != 0 || r != 0 {
		t.Fatal("the bound of nothing must be 0")
	}
}

// The cross-seed bound judges each run with the choices made on the others: runs that agree are perfect, a run
// unlike the others is judged by their choices, and a number of departures no other run saw takes the nearest one's.
func TestCrossBound(t *testing.T) {
	run := func(needed int, waits ...time.Duration) Report {
		var r Report
		for _, w := range waits {
			r.samples = append(r.samples, etaSample{needed: needed, actual: w})
		}
		return r
	}
	same := []Report{run(1, 40*time.Second, 40*time.Second), run(1, 40*time.Second)}
	for i, a := range CrossBound(same) {
		if a.MdAPE != 0 || a.RightBucket != 1 {
			t.Fatalf("run %d: %+v, want exact", i, a)
		}
	}
	// The third run waited 3 minutes for 2 departures; the others only ever waited for 1, 40 s: that is its
	// estimate (off by 140 s of 180 s) and its bucket (<1, not <5).
	odd := append(same, run(2, 3*time.Minute))
	got := CrossBound(odd)[2]
	if want := 140.0 / 180; got.MdAPE < want-1e-9 || got.MdAPE > want+1e-9 || got.RightBucket != 0 {
		t.Fatalf("odd run: %+v, want MdAPE %.3f and no right bucket", got, want)
	}
	// Waiting for fewer departures than any other run saw takes the smallest one above.
	if got := CrossBound([]Report{run(3, time.Minute), run(0, time.Minute)})[1]; got.MdAPE != 0 || got.RightBucket != 1 {
		t.Fatalf("below every other run: %+v, want exact", got)
	}
	if got := CrossBound([]Report{run(1, time.Minute)}); got[0] != (Accuracy{}) {
		t.Fatalf("a single run has nothing to be judged against: %+v", got)
	}
}
