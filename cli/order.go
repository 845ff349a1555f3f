package cli

import (
	"fmt"

	"github.com/mlbench/mlbench/bench"
)

// runOrder is what run.json records of the run's order: the order, its
// rounds and seed where they apply, and the processes in the order they
// are to run.
func runOrder(cfg bench.Config, jobs []bench.Job) (order string, rounds int, seed int64, schedule []string) {
	order = cfg.Order
	if order == "" {
		order = bench.OrderSequential
	}
	if order != bench.OrderSequential {
		rounds = cfg.Rounds
		if rounds == 0 {
			rounds = bench.DefaultRounds
		}
	}
	if order == bench.OrderShuffle {
		seed = cfg.Seed
	}
	steps, err := bench.Schedule(cfg, jobs)
	if err != nil {
		return order, rounds, seed, nil // Run refuses the same order before anything runs
	}
	for _, s := range steps {
		schedule = append(schedule, s.Label(jobs))
	}
	return order, rounds, seed, schedule
}

// checkResumeOrder refuses to go on with a run made in another order: its
// parts would not be comparable. A shuffled run goes on with its own seed
// unless --seed says otherwise.
func checkResumeOrder(out string, ri runInfo, cfg *bench.Config, seedSet bool) error {
	was := ri.Order
	if was == "" {
		was = bench.OrderSequential
	}
	if cfg.Order == bench.OrderShuffle && was == bench.OrderShuffle && !seedSet {
		cfg.Seed = ri.Seed
	}
	order, rounds, seed, _ := runOrder(*cfg, nil)
	if was != order || ri.Rounds != rounds || ri.Seed != seed {
		return fmt.Errorf("--resume %s: that run used --order %s --rounds %d --seed %d; this one asks for --order %s --rounds %d --seed %d",
			out, was, ri.Rounds, ri.Seed, order, rounds, seed)
	}
	return nil
}
