package simulate

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Report is what one run measured. Outcomes count every visitor; waits, estimates and utilisation count the
// measurement window only: visitors who arrived after the warm-up, agents' time from the warm-up to the end of
// arrivals.
type Report struct {
	Config   Config `json:"config"`
	Database string `json:"database"`
	// ArrivalSeconds is how long visitors arrived; DrainSeconds how long the queue then took to empty. Both are
	// simulated; WallSeconds is how long the run took.
	ArrivalSeconds float64 `json:"arrival_seconds"`
	DrainSeconds   float64 `json:"drain_seconds"`
	WallSeconds    float64 `json:"wall_seconds"`

	Visitors Visitors    `json:"visitors"`
	Waits    Waits       `json:"waits"`
	ETA      ETAAccuracy `json:"eta"`
	// Utilisation is busy slot-time / available slot-time: the agents' conversations over their chat slots, both
	// counted while they were available.
	Utilisation float64       `json:"utilisation"`
	Offers      Offers        `json:"offers"`
	Agents      AgentActivity `json:"agents"`
	// EngineWarnings counts what the engine logged at warning level or above.
	EngineWarnings int64       `json:"engine_warnings"`
	Violations     []Violation `json:"violations"`
	// TargetsMet says whether the ETA met the targets; null with fewer than MinForTargets measured.
	TargetsMet *bool `json:"targets_met"`

	samples []etaSample // the measured visitors, for CrossBound
}

// Visitors counts how every visitor's wait ended. Served + Refused + Abandoned + Expired + Other = Arrivals.
type Visitors struct {
	Arrivals  int `json:"arrivals"`
	Served    int `json:"served"`
	Refused   int `json:"refused"`
	Abandoned int `json:"abandoned"`
	Expired   int `json:"expired"`
	// Gone is how many of Abandoned the engine took out for not being seen (visitor_gone) rather than because they
	// left: 0 while the simulated visitors keep their place.
	Gone int `json:"gone"`
	// Other counts visitors still waiting, or told something else (cancelled), when the run ended: 0 in a sound run.
	Other int `json:"other"`
}

// Waits are the waits (arrival to assignment) of the visitors served after the warm-up, those served at once
// included.
type Waits struct {
	Served int `json:"served"`
	// Queued is how many of them waited in the queue (were shown a position) first.
	Queued      int     `json:"queued"`
	MeanSeconds float64 `json:"mean_seconds"`
	P90Seconds  float64 `json:"p90_seconds"`
}

// ETAAccuracy compares the estimated wait each measured visitor was shown when they joined the queue (their first
// queue notice with a position) with the wait that followed (from that notice to the assignment). A measured
// visitor arrived after the warm-up, was queued, and was then served.
type ETAAccuracy struct {
	Measured int `json:"measured"`
	// Unknown were queued and then served after the warm-up, but shown an "unknown" wait first: not in the figures.
	Unknown int `json:"unknown"`
	// Unserved were shown an estimate but then left or expired: they have no actual wait to compare.
	Unserved int `json:"unserved"`
	// MdAPE is the median of |shown − actual| / max(actual, APEFloor).
	MdAPE float64 `json:"mdape"`
	// RightBucket is the share of visitors whose shown bucket is the bucket of their actual wait.
	RightBucket float64 `json:"right_bucket"`
	// MedianSignedError is the median of (shown − actual) / max(actual, APEFloor): above 0, estimates run long.
	MedianSignedError float64 `json:"median_signed_error"`
	// Oracle figures are a diagnostic: the engine's formula, at the same instants with the same capacity, but with
	// the configured mean handling time instead of the engine's running average. EngineAHTError is the median
	// relative error of that running average when the estimates were shown.
	OracleMdAPE       float64 `json:"oracle_mdape"`
	OracleRightBucket float64 `json:"oracle_right_bucket"`
	EngineAHTError    float64 `json:"engine_aht_error"`
	// Bound figures are the best any estimate from the number of departures a visitor waits for could have done on
	// this run, chosen in hindsight (see hindsightBound).
	BoundMdAPE       float64            `json:"bound_mdape"`
	BoundRightBucket float64            `json:"bound_right_bucket"`
	ByPosition       []PositionAccuracy `json:"by_position"`
}

// PositionAccuracy is the accuracy for the visitors first shown a position in a band.
type PositionAccuracy struct {
	Positions         string  `json:"positions"`
	Measured          int     `json:"measured"`
	MdAPE             float64 `json:"mdape"`
	RightBucket       float64 `json:"right_bucket"`
	MeanShownSeconds  float64 `json:"mean_shown_seconds"`
	MeanActualSeconds float64 `json:"mean_actual_seconds"`
	MeanOracleSeconds float64 `json:"mean_oracle_seconds"`
}

// MarshalJSON writes durations as Go durations ("5m0s") rather than nanoseconds.
func (c Config) MarshalJSON() ([]byte, error) {
	type plain Config
	return json.Marshal(struct {
		plain
		AHT          string `json:"aht"`
		AcceptDelay  string `json:"accept_delay"`
		Comeback     string `json:"comeback"`
		Away         string `json:"away"`
		Patience     string `json:"patience"`
		OfferTimeout string `json:"offer_timeout"`
		MaxWait      string `json:"max_wait"`
		Duration     string `json:"duration"`
		Warmup       string `json:"warmup"`
		Tick         string `json:"tick"`
	}{plain(c), c.AHT.String(), c.AcceptDelay.String(), c.Comeback.String(), c.Away.String(), c.Patience.String(),
		c.OfferTimeout.String(), c.MaxWait.String(), c.Duration.String(), c.Warmup.String(), c.Tick.String()})
}

// Targets says whether the ETA met the targets: "met", "NOT met", or "n/a" with too few measured.
func (r Report) Targets() string {
	switch {
	case r.TargetsMet == nil:
		return "n/a"
	case *r.TargetsMet:
		return "met"
	}
	return "NOT met"
}

// WriteText writes the report for a person.
func (r Report) WriteText(w io.Writer) {
	c := r.Config
	fmt.Fprintf(w, "parley simulate: %d agents x %d chat slots, load %.2f (%.2f visitors/min), AHT %s %s",
		c.Agents, c.Capacity, c.Load, c.ArrivalRate()*60, c.AHT, c.Handling)
	if c.Handling == Lognormal {
		fmt.Fprintf(w, " (cv %.2g)", c.HandlingCV)
	}
	fmt.Fprintf(w, ", mode %s", c.Mode)
	if c.Mode == "offer" {
		fmt.Fprintf(w, " (decline %.0f%%, miss %.0f%%, answer in %s)", c.Decline*100, c.Miss*100, c.AcceptDelay)
	}
	fmt.Fprintf(w, "\n  flaps %.3g/agent/h (away %s), patience %s, queue places %d, max wait %s, tick %s, seed %d, %s\n",
		c.Flaps, c.Away, orNever(c.Patience), c.QueuePlaces, c.MaxWait, c.Tick, c.Seed, r.Database)
	fmt.Fprintf(w, "  visitors arrived for %s, then %s until nobody waited; the first %s is warm-up, left out of waits, estimates and utilisation; %.1f s of wall time\n\n",
		secs(r.ArrivalSeconds), secs(r.DrainSeconds), c.Warmup, r.WallSeconds)

	v := r.Visitors
	fmt.Fprintf(w, "visitors     %d arrived: %d served, %d refused, %d abandoned (%d taken out as gone), %d expired",
		v.Arrivals, v.Served, v.Refused, v.Abandoned, v.Gone, v.Expired)
	if v.Other > 0 {
		fmt.Fprintf(w, ", %d unaccounted for", v.Other)
	}
	fmt.Fprintf(w, "\nwaits        %d served after warm-up, %s of them after queueing: mean %s, p90 %s\n",
		r.Waits.Served, pct(ratio(r.Waits.Queued, r.Waits.Served)), secs(r.Waits.MeanSeconds), secs(r.Waits.P90Seconds))
	fmt.Fprintf(w, "utilisation  %s  (busy slot-time / available slot-time)\n", pct(r.Utilisation))
	if o := r.Offers; o.Made > 0 {
		fmt.Fprintf(w, "offers       %d made: %d accepted, %d declined, %d timed out, %d withdrawn, %d taken by another; %d answered too late\n",
			o.Made, o.Accepted, o.Declined, o.TimedOut, o.Withdrawn, o.Taken, o.Late)
	}
	fmt.Fprintf(w, "agents       %d presence flaps, %d times not responding\n", r.Agents.Flaps, r.Agents.NotResponding)

	e := r.ETA
	fmt.Fprintf(w, "ETA          %d measured (queued after warm-up, shown an estimate, then served); %d shown \"unknown\"; %d shown an estimate but left or expired\n",
		e.Measured, e.Unknown, e.Unserved)
	if e.Measured > 0 {
		fmt.Fprintf(w, "             median absolute percentage error (MdAPE) %s, of |shown - actual| / max(actual, %s)\n", pct(e.MdAPE), APEFloor)
		fmt.Fprintf(w, "             right bucket (<1, <2, <5, <10, 10+ minutes) %s\n", pct(e.RightBucket))
		fmt.Fprintf(w, "             median signed error %+.1f%% (above 0: estimates run long)\n", e.MedianSignedError*100)
		fmt.Fprintf(w, "             diagnostic, with the true AHT instead of the engine's running average: MdAPE %s, right bucket %s;\n",
			pct(e.OracleMdAPE), pct(e.OracleRightBucket))
		fmt.Fprintf(w, "             the running average was off by %s (median) when estimates were shown\n", pct(e.EngineAHTError))
		fmt.Fprintf(w, "             bound: the best estimate from the departures waited for, chosen in hindsight: MdAPE %s, right bucket %s\n",
			pct(e.BoundMdAPE), pct(e.BoundRightBucket))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "             position\tmeasured\tMdAPE\tright bucket\tmean shown\tmean actual\tmean oracle\t")
		for _, p := range e.ByPosition {
			fmt.Fprintf(tw, "             %s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", p.Positions, p.Measured, pct(p.MdAPE), pct(p.RightBucket),
				secs(p.MeanShownSeconds), secs(p.MeanActualSeconds), secs(p.MeanOracleSeconds))
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "invariants   %d violations (checked every simulated minute and at the end); %d engine warnings\n", len(r.Violations), r.EngineWarnings)
	for _, x := range r.Violations {
		fmt.Fprintf(w, "             at %s (seen %d times): %s\n", secs(x.AtSeconds), x.Seen, x.What)
	}
	fmt.Fprintf(w, "targets      MdAPE <= %.0f%% and right bucket >= %.0f%%: %s", TargetMdAPE*100, TargetRightBucket*100, r.Targets())
	if r.TargetsMet == nil {
		fmt.Fprintf(w, " (fewer than %d measured)", MinForTargets)
	}
	fmt.Fprintln(w)
}

// WriteMatrix writes one table row per run.
func WriteMatrix(w io.Writer, reports []Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "load\tagents\tarrivals\tqueued\tmeasured\tunknown\tMdAPE\tright bucket\toracle MdAPE\tbound MdAPE\tbound bucket\twait mean\twait p90\tutilisation\tviolations\ttargets\tsimulated\twall\t")
	for _, r := range reports {
		e := r.ETA
		mdape, bucket, oracle, boundAPE, boundBucket := "-", "-", "-", "-", "-"
		if e.Measured > 0 {
			mdape, bucket, oracle = pct(e.MdAPE), pct(e.RightBucket), pct(e.OracleMdAPE)
			boundAPE, boundBucket = pct(e.BoundMdAPE), pct(e.BoundRightBucket)
		}
		fmt.Fprintf(tw, "%.1f\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%.1fs\t\n",
			r.Config.Load, r.Config.Agents, r.Visitors.Arrivals, r.Waits.Queued, e.Measured, e.Unknown, mdape, bucket, oracle, boundAPE, boundBucket,
			secs(r.Waits.MeanSeconds), secs(r.Waits.P90Seconds), pct(r.Utilisation), len(r.Violations), r.Targets(),
			secs(r.ArrivalSeconds), r.WallSeconds)
	}
	tw.Flush()
	for _, r := range reports {
		for _, x := range r.Violations {
			fmt.Fprintf(w, "violation at load %.1f, %d agents, %s: %s\n", r.Config.Load, r.Config.Agents, secs(x.AtSeconds), x.What)
		}
	}
}

// WriteSeeds prints one row per seed of the same workload, with the hindsight bound of each run and the bound
// judged across seeds (CrossBound), then their means.
func WriteSeeds(w io.Writer, reports []Report) {
	cross := CrossBound(reports)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "seed\tmeasured\tMdAPE\tright bucket\tbound MdAPE\tbound bucket\tcross-seed MdAPE\tcross-seed bucket\tviolations\ttargets\t")
	var sum [6]float64
	for i, r := range reports {
		e := r.ETA
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t\n", r.Config.Seed, e.Measured, pct(e.MdAPE), pct(e.RightBucket),
			pct(e.BoundMdAPE), pct(e.BoundRightBucket), pct(cross[i].MdAPE), pct(cross[i].RightBucket), len(r.Violations), r.Targets())
		for j, x := range []float64{e.MdAPE, e.RightBucket, e.BoundMdAPE, e.BoundRightBucket, cross[i].MdAPE, cross[i].RightBucket} {
			sum[j] += x
		}
	}
	n := float64(max(len(reports), 1))
	fmt.Fprintf(tw, "mean\t\t%s\t%s\t%s\t%s\t%s\t%s\t\t\t\n", pct(sum[0]/n), pct(sum[1]/n), pct(sum[2]/n), pct(sum[3]/n), pct(sum[4]/n), pct(sum[5]/n))
	tw.Flush()
	for _, r := range reports {
		for _, x := range r.Violations {
			fmt.Fprintf(w, "violation with seed %d, %s: %s\n", r.Config.Seed, secs(x.AtSeconds), x.What)
		}
	}
}

func pct(x float64) string { return fmt.Sprintf("%.1f%%", x*100) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func secs(s float64) string {
	d := time.Duration(s * float64(time.Second))
	if d < time.Minute {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

func orNever(d time.Duration) string {
	if d == 0 {
		return "never"
	}
	return d.String()
}
