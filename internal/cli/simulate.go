package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/parley/parley/internal/simulate"
)

// matrixDuration and matrixMinMeasured bound each run of --matrix: arrivals stop once enough visitors are measured
// for the statistics to mean something, or after the duration, whichever comes first.
const (
	matrixDuration    = 6 * time.Hour
	matrixMinMeasured = 300
)

// simulateCmd runs the distribution engine under a virtual clock (see package simulate) and prints its report. Any
// invariant violation makes it fail.
func simulateCmd(args []string, stdout, stderr io.Writer) error {
	cfg := simulate.DefaultConfig()
	fs := flag.NewFlagSet("parley simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.Agents, "agents", cfg.Agents, "agents in the routing group")
	fs.Float64Var(&cfg.Load, "load", cfg.Load, "offered load ρ = λ·AHT/(agents·capacity); sets the arrival rate λ")
	fs.IntVar(&cfg.Capacity, "capacity", cfg.Capacity, "chat slots per agent (1 models video-like load)")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, fmt.Sprintf("simulated time during which visitors arrive (with --matrix: %s per run, or until %d are measured)", matrixDuration, matrixMinMeasured))
	fs.IntVar(&cfg.MinMeasured, "min-measured", 0, "stop arrivals once this many visitors are measured (0: run for --duration)")
	fs.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "simulated warm-up left out of waits, estimates and utilisation")
	fs.DurationVar(&cfg.AHT, "aht", cfg.AHT, "mean handling time")
	fs.StringVar(&cfg.Handling, "handling", cfg.Handling, "handling-time distribution: exponential or lognormal")
	fs.Float64Var(&cfg.HandlingCV, "handling-cv", cfg.HandlingCV, "coefficient of variation of the lognormal handling time")
	fs.StringVar(&cfg.Mode, "mode", cfg.Mode, "chat mode: assign, or offer (every conversation rings first)")
	fs.Float64Var(&cfg.Decline, "decline", cfg.Decline, "probability that an agent declines an offer (offer mode)")
	fs.Float64Var(&cfg.Miss, "miss", cfg.Miss, "probability that an agent lets an offer ring out (offer mode)")
	fs.DurationVar(&cfg.AcceptDelay, "accept-delay", cfg.AcceptDelay, "mean time an agent takes to answer an offer")
	fs.Float64Var(&cfg.Flaps, "flaps", cfg.Flaps, "times each agent steps away per hour, on average")
	fs.DurationVar(&cfg.Away, "away", cfg.Away, "mean time an agent stays away")
	fs.DurationVar(&cfg.Patience, "patience", cfg.Patience, "mean time a visitor waits before leaving the queue (0: never leaves)")
	fs.IntVar(&cfg.QueuePlaces, "queue-places", cfg.QueuePlaces, "places in the group's queue")
	fs.DurationVar(&cfg.MaxWait, "max-wait", cfg.MaxWait, "the group's maximum wait before a request expires")
	fs.DurationVar(&cfg.Tick, "tick", cfg.Tick, "how often the engine's Tick runs, in simulated time")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed: the same seed gives the same report")
	fs.StringVar(&cfg.DatabaseURL, "database-url", "", "postgres://... to run against PostgreSQL, in a fresh schema dropped at the end (default: SQLite in a temporary directory)")
	matrix := fs.Bool("matrix", false, "run the grid of loads 0.5, 0.7, 0.9 x 5, 20, 50 agents and print one row each")
	seeds := fs.Int("seeds", 1, "run the workload with this many seeds (--seed and those after it), one row each, and judge the best estimate from the position across them")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	logLevel := fs.String("log-level", "error", "level of the engine's own logs on stderr: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: parley simulate [flags]\n\nRuns the distribution engine under a virtual clock against a synthetic workload, and reports ETA\naccuracy, waits, utilisation and invariant violations.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *seeds < 1 || (*seeds > 1 && *matrix) {
		return fmt.Errorf("--seeds must be at least 1, and can't go with --matrix")
	}
	var reports []simulate.Report
	switch {
	case *seeds > 1:
		if err := cfg.Validate(); err != nil {
			return err
		}
		var err error
		reports, err = simulate.RunSeeds(ctx, cfg, *seeds, log, func(r simulate.Report) {
			fmt.Fprintf(stderr, "seed %d: %d measured, %.1f s\n", r.Config.Seed, r.ETA.Measured, r.WallSeconds)
		})
		if err != nil {
			return err
		}
		if *asJSON {
			if err := writeJSON(stdout, map[string]any{"reports": reports, "cross_seed_bound": simulate.CrossBound(reports)}); err != nil {
				return err
			}
		} else {
			simulate.WriteSeeds(stdout, reports)
			fmt.Fprintf(stdout, "\nbound: the best estimate per number of departures waited for, chosen on the run's own visitors (it flatters);\n")
			fmt.Fprintf(stdout, "cross-seed: the same choice made on the other seeds' visitors and judged on this run's, which an estimate from the position can't beat by more than noise.\n")
		}
	case *matrix:
		if !set["duration"] {
			cfg.Duration = matrixDuration
		}
		if !set["min-measured"] {
			cfg.MinMeasured = matrixMinMeasured
		}
		if err := cfg.Validate(); err != nil {
			return err
		}
		started := time.Now()
		var err error
		reports, err = simulate.RunMatrix(ctx, cfg, log, func(r simulate.Report) {
			fmt.Fprintf(stderr, "load %.1f, %d agents: %d measured, %.1f s\n", r.Config.Load, r.Config.Agents, r.ETA.Measured, r.WallSeconds)
		})
		if err != nil {
			return err
		}
		if *asJSON {
			if err := writeJSON(stdout, reports); err != nil {
				return err
			}
		} else {
			simulate.WriteMatrix(stdout, reports)
			fmt.Fprintf(stdout, "\n%d runs in %.1f s of wall time.\n", len(reports), time.Since(started).Seconds())
			fmt.Fprintf(stdout, "queued: served after the warm-up, after waiting in the queue; measured: those shown an estimate (unknown: shown \"unknown\").\n")
			fmt.Fprintf(stdout, "MdAPE: median of |shown - actual| / max(actual, %s); right bucket: the shown bucket is that of the actual wait;\n", simulate.APEFloor)
			fmt.Fprintf(stdout, "oracle MdAPE: the same formula with the true AHT instead of the engine's running average.\n")
			fmt.Fprintf(stdout, "targets: MdAPE <= %.0f%% and right bucket >= %.0f%%, judged with %d measured or more (n/a below).\n",
				simulate.TargetMdAPE*100, simulate.TargetRightBucket*100, simulate.MinForTargets)
		}
	default:
		r, err := simulate.Run(ctx, cfg, log)
		if err != nil {
			return err
		}
		reports = []simulate.Report{r}
		if *asJSON {
			if err := writeJSON(stdout, r); err != nil {
				return err
			}
		} else {
			r.WriteText(stdout)
		}
	}
	violations := 0
	for _, r := range reports {
		violations += len(r.Violations)
	}
	if violations > 0 {
		return fmt.Errorf("simulate: %d invariant violations", violations)
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
