package bench

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Orders in which a run's jobs run (Config.Order).
const (
	// OrderSequential runs each job in one process, case by case, the
	// reference first: the order of Plan.
	OrderSequential = "sequential"
	// OrderAlternate splits each job's timed repetitions into rounds (one
	// process each) and, case by case, runs one round of every job before
	// the next round, the reference and the others alternating: round 1 in
	// the plan's order, round 2 reversed, and so on. Each implementation
	// then sees the machine early and late alike, so a ratio between two of
	// them carries no order bias (a warming or cooling machine, a
	// neighbour that starts half-way).
	OrderAlternate = "alternate"
	// OrderShuffle splits jobs into rounds as alternate does and runs every
	// round of the run in a random order drawn from Config.Seed.
	OrderShuffle = "shuffle"
)

// Orders lists the orders a run can have.
var Orders = []string{OrderSequential, OrderAlternate, OrderShuffle}

// DefaultRounds is the number of rounds alternate and shuffle split a job
// into when Config.Rounds is 0 (never more rounds than timed repetitions).
const DefaultRounds = 3

// Step is one process of a run: round Part (0-based) of Parts of job Job,
// with Reps timed repetitions (and the job's warm-ups: every process is
// fresh and warms up again).
type Step struct {
	Job   int // index into the run's jobs
	Part  int
	Parts int
	Reps  int
}

// Label names a step of jobs for progress output and run.json.
func (s Step) Label(jobs []Job) string {
	l := jobs[s.Job].Label()
	if s.Parts > 1 {
		l += fmt.Sprintf(" (round %d of %d, %d reps)", s.Part+1, s.Parts, s.Reps)
	}
	return l
}

// CheckOrder refuses an unknown order or a negative number of rounds.
func CheckOrder(order string, rounds int) error {
	if order != "" && !strings.Contains(","+strings.Join(Orders, ",")+",", ","+order+",") {
		return fmt.Errorf("order %q: want %s", order, strings.Join(Orders, ", "))
	}
	if rounds < 0 {
		return fmt.Errorf("rounds %d: want at least 1 (or 0 for %d)", rounds, DefaultRounds)
	}
	return nil
}

// Schedule is the order in which Run runs jobs, as steps (processes).
// Sequential gives one step per job in the jobs' order; alternate and
// shuffle split each job into rounds, as their doc comments say. The
// steps of one job always run in order of Part.
func Schedule(cfg Config, jobs []Job) ([]Step, error) {
	if err := CheckOrder(cfg.Order, cfg.Rounds); err != nil {
		return nil, err
	}
	if cfg.Order == "" || cfg.Order == OrderSequential {
		steps := make([]Step, len(jobs))
		for i, j := range jobs {
			steps[i] = Step{Job: i, Parts: 1, Reps: repetitions(cfg, j).Reps}
		}
		return steps, nil
	}
	rounds := cfg.Rounds
	if rounds == 0 {
		rounds = DefaultRounds
	}
	var steps []Step
	for _, group := range caseGroups(jobs) {
		split := make([][]int, len(group))
		most := 0
		for k, i := range group {
			split[k] = splitReps(repetitions(cfg, jobs[i]).Reps, rounds)
			most = max(most, len(split[k]))
		}
		for r := 0; r < most; r++ {
			for n := range group {
				k := n
				if r%2 == 1 { // every other round backwards
					k = len(group) - 1 - n
				}
				if r < len(split[k]) {
					steps = append(steps, Step{Job: group[k], Part: r, Parts: len(split[k]), Reps: split[k][r]})
				}
			}
		}
	}
	if cfg.Order == OrderShuffle {
		rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6d6c62656e6368)) // "mlbench"
		rng.Shuffle(len(steps), func(a, b int) { steps[a], steps[b] = steps[b], steps[a] })
		// The rounds of a job are alike but for their size: renumber them
		// in the order they now run, so Part still counts up.
		next := map[int]int{}
		for i, s := range steps {
			steps[i].Part = next[s.Job]
			next[s.Job]++
		}
	}
	return steps, nil
}

// caseGroups are the indices of jobs grouped by (task, variant), groups in
// the order their first job appears, jobs in the jobs' order.
func caseGroups(jobs []Job) [][]int {
	at := map[string]int{}
	var groups [][]int
	for i, j := range jobs {
		k := j.Task.ID + "\x00" + j.Case.Variant
		g, ok := at[k]
		if !ok {
			g = len(groups)
			at[k] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}

// splitReps splits n repetitions into min(rounds, n) rounds whose sizes
// differ by at most one, the larger first.
func splitReps(n, rounds int) []int {
	rounds = max(1, min(rounds, n))
	out := make([]int, rounds)
	for i := range out {
		out[i] = n / rounds
		if i < n%rounds {
			out[i]++
		}
	}
	return out
}

// mergeParts makes one result of the processes (rounds) of one job, in the
// order they ran: timed phases concatenated, wall and CPU seconds summed,
// peaks the largest, probes, metrics and the rest from the last part (every
// part computes the same thing from the same inputs). A failed part ends
// the job: its result is the job's, saying which round failed.
func mergeParts(parts []*Result, rounds int, order string) *Result {
	last := parts[len(parts)-1]
	if last.Status == StatusFailed && rounds > 1 {
		last.Reason = fmt.Sprintf("round %d of %d: %s", len(parts), rounds, last.Reason)
	}
	if len(parts) == 1 || last.Status == StatusFailed {
		return last
	}
	m := *last
	m.Phases = map[string][]float64{}
	m.Samples, m.GPUSamples, m.EarlierParts = nil, nil, nil
	m.WallSeconds, m.CPUSeconds, m.Reps = 0, 0, 0
	m.StartedAt, m.Rounds = parts[0].StartedAt, len(parts)
	var machine Machine
	var sizes []string
	for i, p := range parts {
		for k, v := range p.Phases {
			m.Phases[k] = append(m.Phases[k], v...)
		}
		for _, s := range p.Samples {
			s.T += m.WallSeconds
			m.Samples = append(m.Samples, s)
		}
		for _, s := range p.GPUSamples {
			s.T += m.WallSeconds
			m.GPUSamples = append(m.GPUSamples, s)
		}
		m.EarlierParts = append(m.EarlierParts, p.EarlierParts...)
		m.WallSeconds += p.WallSeconds
		m.CPUSeconds += p.CPUSeconds
		m.Reps += p.Reps
		m.PeakRSSBytes = max(m.PeakRSSBytes, p.PeakRSSBytes)
		m.SelfPeakRSSBytes = max(m.SelfPeakRSSBytes, p.SelfPeakRSSBytes)
		m.Wait4MaxRSSBytes = max(m.Wait4MaxRSSBytes, p.Wait4MaxRSSBytes)
		m.PeakGPUMemBytes = max(m.PeakGPUMemBytes, p.PeakGPUMemBytes)
		if p.Machine != nil {
			if machine.Waited == "" {
				machine.Waited = p.Machine.Waited
			}
			if i == 0 {
				machine.Load1Before = p.Machine.Load1Before
			}
			machine.Load1After = p.Machine.Load1After
			machine.OtherCPUSeconds += p.Machine.OtherCPUSeconds
		}
		sizes = append(sizes, fmt.Sprint(p.Reps))
	}
	if last.Machine != nil {
		if m.WallSeconds > 0 {
			machine.OtherCores = machine.OtherCPUSeconds / m.WallSeconds
		}
		m.Machine = &machine
	}
	m.Notes = append(append([]string(nil), last.Notes...), fmt.Sprintf(
		"made in %d processes (--order %s) of %s timed repetitions, each after %d warm-ups; phases are theirs in the order they ran, wall and CPU seconds their sums; "+
			"metrics and probes are the last process's (a rate metric such as images_per_s is that round's: the phases' medians are the run's)",
		len(parts), order, strings.Join(sizes, "+"), last.Warmup))
	return &m
}
