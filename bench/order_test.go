package bench

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stepNames is "impl:part/parts:reps" for each step.
func stepNames(jobs []Job, steps []Step) []string {
	var out []string
	for _, s := range steps {
		out = append(out, fmt.Sprintf("%s:%d/%d:%d", jobs[s.Job].Impl.ID, s.Part+1, s.Parts, s.Reps))
	}
	return out
}

func TestScheduleSequentialIsThePlan(t *testing.T) {
	task := fakeTask("a", "b")
	jobs := Plan([]*Task{task}, map[string][]ImplRef{task.ID: task.Impls}, SizeQuick)
	for _, order := range []string{"", OrderSequential} {
		steps, err := Schedule(Config{Size: SizeQuick, Warmup: -1, Reps: 7, Order: order}, jobs)
		require.NoError(t, err)
		assert.Equal(t, []string{"ok:1/1:7", "a:1/1:7", "b:1/1:7"}, stepNames(jobs, steps), order)
	}
}

// Alternate: 7 repetitions in 3 rounds of 3+2+2; every other round runs
// backwards, so the reference is first, last, first.
func TestScheduleAlternateInterleavesRounds(t *testing.T) {
	task := fakeTask("a", "b")
	jobs := Plan([]*Task{task}, map[string][]ImplRef{task.ID: task.Impls}, SizeQuick)
	steps, err := Schedule(Config{Size: SizeQuick, Warmup: -1, Reps: 7, Order: OrderAlternate}, jobs)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"ok:1/3:3", "a:1/3:3", "b:1/3:3",
		"b:2/3:2", "a:2/3:2", "ok:2/3:2",
		"ok:3/3:2", "a:3/3:2", "b:3/3:2",
	}, stepNames(jobs, steps))

	// Never more rounds than repetitions; --rounds 1 is the plan's order.
	steps, err = Schedule(Config{Size: SizeQuick, Warmup: -1, Reps: 2, Rounds: 5, Order: OrderAlternate}, jobs)
	require.NoError(t, err)
	assert.Equal(t, []string{"ok:1/2:1", "a:1/2:1", "b:1/2:1", "b:2/2:1", "a:2/2:1", "ok:2/2:1"}, stepNames(jobs, steps))
	steps, err = Schedule(Config{Size: SizeQuick, Warmup: -1, Reps: 4, Rounds: 1, Order: OrderAlternate}, jobs)
	require.NoError(t, err)
	assert.Equal(t, []string{"ok:1/1:4", "a:1/1:4", "b:1/1:4"}, stepNames(jobs, steps))
}

func TestScheduleShuffleIsSeeded(t *testing.T) {
	task := fakeTask("a", "b", "c", "d")
	jobs := Plan([]*Task{task}, map[string][]ImplRef{task.ID: task.Impls}, SizeQuick)
	cfg := Config{Size: SizeQuick, Warmup: -1, Reps: 9, Order: OrderShuffle, Seed: 7}
	first, err := Schedule(cfg, jobs)
	require.NoError(t, err)
	again, err := Schedule(cfg, jobs)
	require.NoError(t, err)
	assert.Equal(t, first, again, "the same seed draws the same order")
	alt, err := Schedule(Config{Size: SizeQuick, Warmup: -1, Reps: 9, Order: OrderAlternate}, jobs)
	require.NoError(t, err)
	assert.NotEqual(t, stepNames(jobs, alt), stepNames(jobs, first), "shuffled, not alternated")
	differs := false
	for seed := int64(8); seed < 12 && !differs; seed++ {
		cfg.Seed = seed
		other, err := Schedule(cfg, jobs)
		require.NoError(t, err)
		differs = !slices.Equal(stepNames(jobs, other), stepNames(jobs, first))
	}
	assert.True(t, differs, "another seed draws another order")
	// Every job runs all its repetitions, its rounds counting up.
	reps, next := map[int]int{}, map[int]int{}
	for _, s := range first {
		assert.Equal(t, next[s.Job], s.Part)
		next[s.Job]++
		reps[s.Job] += s.Reps
		assert.Equal(t, 3, s.Parts)
	}
	for i := range jobs {
		assert.Equal(t, 9, reps[i])
	}
}

func TestScheduleRefusesUnknownOrder(t *testing.T) {
	_, err := Schedule(Config{Order: "random"}, nil)
	assert.ErrorContains(t, err, `order "random": want sequential, alternate, shuffle`)
	_, err = Schedule(Config{Order: OrderAlternate, Rounds: -1}, nil)
	assert.ErrorContains(t, err, "rounds -1")
}

func TestSplitReps(t *testing.T) {
	for _, c := range []struct {
		n, rounds int
		want      []int
	}{{7, 3, []int{3, 2, 2}}, {1, 3, []int{1}}, {6, 3, []int{2, 2, 2}}, {5, 1, []int{5}}, {2, 0, []int{2}}} {
		assert.Equal(t, c.want, splitReps(c.n, c.rounds), "%d in %d", c.n, c.rounds)
	}
}

// An alternated run makes one result per job from its rounds, and judges
// parity against the whole reference even when the reference's last round
// comes after the other's (round 2 runs backwards).
func TestRunAlternateMergesRounds(t *testing.T) {
	cfg := testConfig(t)
	cfg.Order, cfg.Reps, cfg.Rounds = OrderAlternate, 4, 2
	task := fakeTask("ok2", "crash")
	cfg.Launcher = aliasLauncher{fakeLauncher{}, map[string]string{"ok2": "ok"}}
	jobs := Plan([]*Task{task}, map[string][]ImplRef{task.ID: task.Impls}, SizeQuick)
	var started []string
	cfg.OnStart = func(j Job, i, n int) { started = append(started, fmt.Sprintf("%s %d/%d", j.Impl.ID, i+1, n)) }
	var stored []string
	cfg.OnResult = func(r *Result, _, _ int) { stored = append(stored, r.Impl) }
	rs, err := Run(context.Background(), cfg, jobs)
	require.NoError(t, err)
	assert.Equal(t, []string{"ok 1/6", "ok2 2/6", "crash 3/6", "ok2 5/6", "ok 6/6"}, started,
		"crash failed in round 1: its round 2 does not run")
	assert.Equal(t, []string{"crash", "ok", "ok2"}, stored, "ok2 waits for the reference's last round")
	got := byImpl(rs)
	for _, id := range []string{"ok", "ok2"} {
		r := got[id]
		assert.Equal(t, StatusOK, r.Status, "%s: %s", id, r.Reason)
		assert.Len(t, r.Phases["fit"], 6, "the fake writes 3 per process: two rounds")
		assert.Equal(t, 4, r.Reps)
		assert.Equal(t, 2, r.Rounds)
		assert.Equal(t, 1, r.Warmup)
		assert.Contains(t, r.Notes[len(r.Notes)-1], "made in 2 processes (--order alternate) of 2+2 timed repetitions")
		require.NotNil(t, r.Parity)
		assert.True(t, r.Parity.OK)
	}
	assert.Equal(t, "ok", got["ok2"].Reference)
	assert.Equal(t, StatusFailed, got["crash"].Status)
	assert.Contains(t, got["crash"].Reason, "round 1 of 2: exit status 3")

	// --resume keeps the merged results: they record the run's repetitions.
	cfg.Resume = true
	cfg.Launcher = launcherFunc(func(task string, impl ImplRef) ([]string, error) {
		if impl.ID != "crash" {
			return nil, fmt.Errorf("%s not built", impl.ID)
		}
		return fakeLauncher{}.Command(task, ImplRef{ID: "ok", Launch: impl.Launch})
	})
	again, err := Run(context.Background(), cfg, jobs)
	require.NoError(t, err)
	after := byImpl(again)
	for _, id := range []string{"ok", "ok2"} {
		assert.Equal(t, got[id].StartedAt, after[id].StartedAt, "%s reused, not run", id)
		assert.True(t, after[id].Parity.OK, id)
	}
	assert.Equal(t, StatusOK, after["crash"].Status, after["crash"].Reason)
	assert.Len(t, after["crash"].Phases["fit"], 6)
}

// A null implementation is never judged: its result passes with one
// "null" check and no reference; one that writes probes fails. Selected
// alone, it runs without the reference.
func TestRunNullImplementation(t *testing.T) {
	cfg := testConfig(t)
	task := fakeTask()
	task.Impls = append(task.Impls, ImplRef{ID: "null", Launch: Launch{"go", ""}, Null: true},
		ImplRef{ID: "nullprobes", Launch: Launch{"go", ""}, Null: true})
	cfg.Launcher = aliasLauncher{fakeLauncher{}, map[string]string{"nullprobes": "ok"}}
	nulls := task.Impls[1:]
	jobs := Plan([]*Task{task}, map[string][]ImplRef{task.ID: nulls}, SizeQuick)
	require.Len(t, jobs, 2, "no reference for null implementations alone")
	rs, err := Run(context.Background(), cfg, jobs)
	require.NoError(t, err)
	got := byImpl(rs)
	assert.Equal(t, StatusOK, got["null"].Status, got["null"].Reason)
	assert.Empty(t, got["null"].Reference)
	require.NotNil(t, got["null"].Parity)
	assert.Equal(t, "null", got["null"].Parity.Checks[0].Name)
	assert.Equal(t, StatusFailed, got["nullprobes"].Status)
	assert.Contains(t, got["nullprobes"].Reason, "must not write probes or metrics")

	spec, err := makeSpec(cfg, jobs[0], t.TempDir())
	require.NoError(t, err)
	assert.Contains(t, spec.Params, NullParam, "the phases travel in the spec")

	all := Plan([]*Task{task}, map[string][]ImplRef{task.ID: task.Impls}, SizeQuick)
	assert.Equal(t, "ok", all[0].Impl.ID, "with another implementation the reference runs first")
}

// Every task has the three null implementations, last, with its phases.
func TestNullImplementationsInEveryTask(t *testing.T) {
	for _, task := range Tasks {
		require.Contains(t, NullPhases, task.ID)
		assert.Contains(t, NullPhases[task.ID], "load")
		var nulls []string
		for _, i := range task.Impls {
			if i.Null {
				nulls = append(nulls, i.ID)
				assert.True(t, IsNull(i.ID))
			}
		}
		assert.Equal(t, []string{"go-null", "python-null", "rust-null"}, nulls, task.ID)
		assert.False(t, IsNull(task.Reference))
	}
}

// Stopped during the reference's last round, an alternated run stores the
// result that waited for it as interrupted (a later --resume runs it
// again), not as failing parity against a killed reference.
func TestRunAlternateStoppedBeforeTheReferenceEnds(t *testing.T) {
	cfg := testConfig(t)
	cfg.Order, cfg.Reps, cfg.Rounds = OrderAlternate, 2, 2
	task := fakeTask("slow") // the reference: it is still running when the run is stopped
	task.Reference = "slow"
	cfg.Launcher = aliasLauncher{fakeLauncher{}, map[string]string{"ok2": "ok"}}
	jobs := Plan([]*Task{task}, map[string][]ImplRef{task.ID: {{ID: "ok2", Launch: Launch{"go", ""}}}}, SizeQuick)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg.OnStart = func(j Job, i, _ int) {
		if i == 3 { // slow, ok2, ok2, then the reference's last round
			require.Equal(t, "slow", j.Impl.ID)
			cancel()
		}
	}
	rs, err := Run(ctx, cfg, jobs)
	require.ErrorIs(t, err, context.Canceled)
	got := byImpl(rs)
	require.Len(t, got, 2)
	assert.Equal(t, StatusFailed, got["slow"].Status)
	assert.Contains(t, got["slow"].Reason, "interrupted: the run was stopped during this job")
	assert.Equal(t, StatusFailed, got["ok2"].Status)
	assert.Contains(t, got["ok2"].Reason, "interrupted: the run was stopped before the reference's last round")
}

func TestNullImplementationsRunOnCUDAToo(t *testing.T) {
	for _, n := range NullImpls {
		need, ok := CUDANeeds(n.ID)
		assert.True(t, ok, n.ID)
		assert.Equal(t, CUDANeedsNothing, need, n.ID)
	}
	_, ok := CUDANeeds("rust-burn")
	assert.False(t, ok)
}
