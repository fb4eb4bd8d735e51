package simulate

import (
	"cmp"
	"context"
	"log/slog"
	"runtime"
	"slices"
	"sync"
)

// MatrixLoads and MatrixAgents span the targets: loads 0.5 to 0.9 with 5 to 50 agents.
func MatrixLoads() []float64 { return []float64{0.5, 0.7, 0.9} }
func MatrixAgents() []int    { return []int{5, 20, 50} }

// RunMatrix runs base at each load and number of agents of the grid and returns the reports by load, then agents.
// Runs are independent (each has its own database), so they go one per CPU at a time, the biggest first; each
// run's report is the same as on its own. done, when not nil, sees each report as its run ends, one at a time.
func RunMatrix(ctx context.Context, base Config, log *slog.Logger, done func(Report)) ([]Report, error) {
	var cfgs []Config
	for _, load := range MatrixLoads() {
		for _, agents := range MatrixAgents() {
			cfg := base
			cfg.Load, cfg.Agents = load, agents
			cfgs = append(cfgs, cfg)
		}
	}
	return runAll(ctx, cfgs, log, done)
}

// RunSeeds runs base with n seeds, base.Seed and the n − 1 after it, and returns their reports in that order, for
// CrossBound. Runs go one per CPU at a time, as in RunMatrix.
func RunSeeds(ctx context.Context, base Config, n int, log *slog.Logger, done func(Report)) ([]Report, error) {
	cfgs := make([]Config, n)
	for i := range cfgs {
		cfgs[i] = base
		cfgs[i].Seed = base.Seed + uint64(i)
	}
	return runAll(ctx, cfgs, log, done)
}

// runAll runs the configs, one per CPU at a time, the biggest groups first so that the runs end close together, and
// returns their reports in the configs' order. The first error stops the other runs.
func runAll(ctx context.Context, cfgs []Config, log *slog.Logger, done func(Report)) ([]Report, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	reports := make([]Report, len(cfgs))
	next := make(chan int)
	var mu sync.Mutex // guards firstErr and done
	var firstErr error
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(cfgs)) {
		wg.Go(func() {
			for i := range next {
				r, err := Run(ctx, cfgs[i], log)
				mu.Lock()
				switch {
				case err != nil && firstErr == nil:
					firstErr = err
					cancel() // the other runs stop too
				case err == nil && done != nil:
					done(r)
				}
				mu.Unlock()
				reports[i] = r
			}
		})
	}
	order := make([]int, len(cfgs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(float64(cfgs[b].Agents)*cfgs[b].Load, float64(cfgs[a].Agents)*cfgs[a].Load)
	})
	for _, i := range order {
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return reports, nil
}
