package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/mlbench/mlbench/internal/dirlock"
)

// Launcher says how to start implementations. It is the one place that knows
// where Python, Rust and Go programs live; tests replace it with fake
// programs so the orchestrator is tested without any framework installed.
type Launcher interface {
	// Command returns the argv that runs impl (the orchestrator appends
	// "--spec PATH"), or an error saying why impl cannot run here.
	Command(task string, impl ImplRef) ([]string, error)
}

// Config is one orchestrated run.
type Config struct {
	DataDir   string // prepared data (data/processed)
	ModelsDir string // prepared models (data/models)
	OutDir    string // where result files go; created if missing
	WorkDir   string // scratch; specs and raw results go here ("" = OutDir/.work)
	Size      string // SizeQuick, SizeFull or SizeSweep
	Reps      int    // timed repetitions; 0 = the task's default for Size
	Warmup    int    // warm-up repetitions; < 0 = the task's default for Size
	Threads   int
	Device    string
	Timeout   time.Duration // per (case, implementation) process
	Launcher  Launcher
	Host      *HostInfo
	// GPU, when set, is sampled beside RSS: the GPU memory of the job's
	// processes and the utilisation of the GPUs they use (nil: no GPU).
	GPU GPUMonitor
	// Resume reuses a job's result already stored in OutDir when it passed
	// and was made with the same size, threads and device; every other job
	// runs. A reused result that is not the reference is judged again
	// against this run's reference. Long runs (the full LLM sizes) can so
	// be made in parts.
	Resume bool
	// Order is OrderSequential ("" too), OrderAlternate or OrderShuffle;
	// Rounds the rounds alternate and shuffle split a job into (0:
	// DefaultRounds); Seed draws shuffle's order (see Schedule).
	Order  string
	Rounds int
	Seed   int64
	// OnStart and OnResult, when set, are called as the run progresses
	// (from the goroutine that called Run).
	OnStart  func(j Job, index, total int)
	OnResult func(r *Result, index, total int)
	// WaitQuiet, when positive, makes each job that runs wait (up to this
	// long) until other processes keep at most DisturbedCores busy.
	WaitQuiet time.Duration
	// OnReady, when set, is called once the run has been checked (settings,
	// inputs, lock) and before the first job; an error stops the run.
	OnReady func() error
	// OnSurvivor, when set, is called when Run ended an implementation
	// process that an earlier, killed run into OutDir had left running.
	OnSurvivor func()
	// Lock is the caller's lock on OutDir (dirlock.Take); when nil, Run takes
	// the lock itself for its duration.
	Lock *dirlock.Lock
}

// Job is one (task, case, implementation) to run.
type Job struct {
	Task *Task
	Case Case
	Impl ImplRef
}

// Label names a job for progress output.
func (j Job) Label() string {
	s := j.Task.ID
	if j.Case.Variant != "" {
		s += " " + j.Case.Variant
	}
	return s + " " + j.Impl.ID
}

// Plan expands the selection into jobs: for every task and case, the
// reference implementation first (added even when the selection does not
// name it, because parity needs it; not for a selection of null
// implementations only, which parity does not apply to), then the selected
// implementations.
func Plan(tasks []*Task, impls map[string][]ImplRef, size string) []Job {
	var jobs []Job
	for _, t := range tasks {
		sel := impls[t.ID]
		needRef := false
		for _, i := range sel {
			needRef = needRef || !i.Null
		}
		for _, c := range t.Cases(size) {
			if ref, ok := t.Impl(t.Reference); ok && needRef {
				jobs = append(jobs, Job{t, c, ref})
			}
			for _, i := range sel {
				if i.ID != t.Reference {
					jobs = append(jobs, Job{t, c, i})
				}
			}
		}
	}
	return jobs
}

// Skip is a job that cannot run here, and why.
type Skip struct {
	Job    Job
	Reason string
}

// Runnable splits jobs into those the launcher can start and those it
// cannot (with the reason).
func Runnable(jobs []Job, l Launcher) (ok []Job, skipped []Skip) {
	for _, j := range jobs {
		if _, err := l.Command(j.Task.ID, j.Impl); err != nil {
			skipped = append(skipped, Skip{j, err.Error()})
			continue
		}
		ok = append(ok, j)
	}
	return ok, skipped
}

// Run runs jobs one after another (never concurrently: they would disturb
// each other's timings), judges parity against each case's reference, and
// stores every result atomically in cfg.OutDir. A job that crashes, hangs,
// or writes an invalid result becomes a failed result; the run goes on.
// Run returns an error only for problems that stop the whole run (bad
// configuration, data not prepared, results directory not writable), and
// ctx's error when ctx ended during the run, even during its last job.
func Run(ctx context.Context, cfg Config, jobs []Job) ([]*Result, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	// Every input must exist, unchanged since it was prepared, before
	// anything starts: a missing or altered dataset is the user's to fix,
	// not a failure of each implementation.
	if err := checkInputs(cfg, jobs); err != nil {
		return nil, err
	}
	work, done, err := setUp(&cfg)
	if err != nil {
		return nil, err
	}
	defer done()

	steps, err := Schedule(cfg, jobs)
	if err != nil {
		return nil, err
	}
	st := newRunState(cfg, jobs)
	for n, s := range steps {
		if err := ctx.Err(); err != nil {
			return st.interrupted(), err
		}
		j := jobs[s.Job]
		if st.done[s.Job] {
			continue // reused, or an earlier round failed
		}
		if cfg.OnStart != nil {
			cfg.OnStart(j, n, len(steps))
		}
		if s.Part == 0 {
			if r := reusable(cfg, j); r != nil {
				if err := st.finish(s.Job, r); err != nil {
					return st.out, err
				}
				continue
			}
		}
		var waited string
		if cfg.WaitQuiet > 0 {
			waited = waitQuiet(ctx, cfg.WaitQuiet)
		}
		d := repetitions(cfg, j)
		d.Reps = s.Reps
		r := runJob(ctx, cfg, j, filepath.Join(work, fmt.Sprintf("%03d", n)), d)
		if r.Machine != nil {
			r.Machine.Waited = waited
		}
		if ctx.Err() != nil && r.Status != StatusOK {
			// Killed because the run was stopped, not because it failed.
			r.Reason = "interrupted: the run was stopped during this job (" + r.Reason + ")"
			st.stopped = true
		}
		st.parts[s.Job] = append(st.parts[s.Job], r)
		if r.Status == StatusFailed || s.Part == s.Parts-1 {
			if err := st.finish(s.Job, mergeParts(st.parts[s.Job], s.Parts, cfg.Order)); err != nil {
				return st.out, err
			}
		}
		if err := ctx.Err(); err != nil {
			return st.interrupted(), err // also after the last job: the run did not end by itself
		}
	}
	return st.out, nil
}

// check is an error for a configuration no run can have.
func (cfg Config) check() error {
	if cfg.Threads < 1 || cfg.Threads > MaxThreads() {
		return fmt.Errorf("threads %d: want 1 to %d (4 per logical CPU)", cfg.Threads, MaxThreads())
	}
	if cfg.Device != "cpu" && cfg.Device != "cuda" {
		return fmt.Errorf("device %q: want cpu or cuda", cfg.Device)
	}
	if err := CheckSize(cfg.Size); err != nil {
		return err
	}
	if cfg.Timeout <= 0 {
		return fmt.Errorf("timeout %v must be positive", cfg.Timeout)
	}
	return nil
}

// setUp makes cfg's directories absolute, takes the lock on the output
// directory (unless the caller holds it), ends an implementation left
// running by a killed orchestrator, makes the work directory, and calls
// OnReady. It returns the work directory and what undoes it all.
func setUp(cfg *Config) (work string, done func(), err error) {
	// Implementations run in their own work directory: every path handed
	// to them must be absolute.
	for _, p := range []*string{&cfg.OutDir, &cfg.WorkDir, &cfg.DataDir, &cfg.ModelsDir} {
		if *p != "" {
			if *p, err = filepath.Abs(*p); err != nil {
				return "", nil, err
			}
		}
	}
	var undo []func()
	done = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	if cfg.Lock == nil {
		lock, err := dirlock.Take(cfg.OutDir)
		if err != nil {
			return "", nil, err
		}
		undo = append(undo, func() { lock.Unlock() })
	}
	// An implementation left running by a killed orchestrator would slow
	// every job of this run.
	if killSurvivor(cfg.OutDir) && cfg.OnSurvivor != nil {
		cfg.OnSurvivor()
	}
	work = cfg.WorkDir
	if work == "" {
		work = filepath.Join(cfg.OutDir, ".work")
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		done()
		return "", nil, fmt.Errorf("work directory: %w", err)
	}
	undo = append(undo, func() { os.RemoveAll(work) })
	if cfg.OnReady != nil {
		if err := cfg.OnReady(); err != nil {
			done()
			return "", nil, err
		}
	}
	return work, done, nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._=-]+`)

// ResultFileName is the file a result is stored under in a run directory:
// task, variant and implementation, e.g.
// "classical_kmeans.n=10000.go-gonum.result.json".
func ResultFileName(r *Result) string {
	parts := []string{r.Task}
	if r.Variant != "" {
		parts = append(parts, r.Variant)
	}
	parts = append(parts, r.Impl)
	for i, p := range parts {
		parts[i] = unsafeName.ReplaceAllString(strings.ReplaceAll(p, "/", "_"), "_")
	}
	return strings.Join(parts, ".") + ".result.json"
}

// jobFileName is the file job j's result is stored under.
func jobFileName(j Job) string {
	return ResultFileName(&Result{Task: j.Task.ID, Variant: j.Case.Variant, Impl: j.Impl.ID})
}

// MaxThreads is the most threads a run may ask for: 4 per logical CPU.
// More only slows every implementation down, and some do not survive it
// (100000 made Go's runtime die of thread exhaustion).
func MaxThreads() int { return 4 * runtime.NumCPU() }

// ThreadEnv is every thread knob --threads sets, as environment entries.
func ThreadEnv(n int) []string {
	s := strconv.Itoa(n)
	var env []string
	for _, k := range []string{"GOMAXPROCS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
		"VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "RAYON_NUM_THREADS", "MLBENCH_THREADS"} {
		env = append(env, k+"="+s)
	}
	return env
}

// runJob runs one job and always returns a result: the implementation's, or
// a failed one that says why there is none.
func runJob(ctx context.Context, cfg Config, j Job, dir string, d Defaults) (r *Result) {
	fail := func(format string, a ...any) *Result {
		r := &Result{SchemaVersion: SchemaVersion, Task: j.Task.ID, Variant: j.Case.Variant, Impl: j.Impl.ID,
			Language: j.Impl.Language(), Threads: cfg.Threads, Device: cfg.Device,
			Status: StatusFailed, Reason: fmt.Sprintf(format, a...)}
		r.Size, r.Host = cfg.Size, cfg.Host
		return r
	}
	argv, err := cfg.Launcher.Command(j.Task.ID, j.Impl)
	if err != nil {
		return fail("not runnable: %v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail("work directory: %v", err)
	}
	spec, err := makePartSpec(cfg, j, dir, d)
	if err != nil {
		return fail("spec: %v", err)
	}
	if spec.CheckpointDir, err = prepareCheckpoint(cfg, j); err != nil {
		return fail("checkpoint directory: %v", err)
	}
	var started time.Time // of the process, set below
	defer func() { settleCheckpoint(spec.CheckpointDir, r, started) }()
	specPath := filepath.Join(dir, "spec.json")
	if err := WriteJSONAtomic(specPath, spec); err != nil {
		return fail("spec: %v", err)
	}
	argv = append(append([]string{}, argv...), "--spec", specPath)
	env := ThreadEnv(cfg.Threads)
	started = time.Now().UTC()
	var gpu *gpuSampler
	if cfg.GPU != nil {
		gpu = &gpuSampler{mon: cfg.GPU, always: cfg.Device == "cuda"}
	}
	pr := runProcess(ctx, argv, env, dir, cfg.Timeout, func(pid int) { recordRunning(cfg.OutDir, pid) }, gpu)
	os.Remove(filepath.Join(cfg.OutDir, RunningFile))

	r = outcome(pr, spec.ResultPath, j, argv, cfg.Timeout, fail)
	recordProcess(r, pr, cfg, j, spec, argv, env, started)
	return r
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// repetitions are the warm-ups and timed repetitions job j runs with.
func repetitions(cfg Config, j Job) Defaults {
	d := j.Task.Defaults(cfg.Size)
	if cfg.Reps > 0 {
		d.Reps = cfg.Reps
	}
	if cfg.Warmup >= 0 {
		d.Warmup = cfg.Warmup
	}
	return d
}

// makeSpec builds the spec of job j, with the result going into dir.
func makeSpec(cfg Config, j Job, dir string) (*Spec, error) {
	return makePartSpec(cfg, j, dir, repetitions(cfg, j))
}

// makePartSpec is makeSpec with the repetitions d (one round of a job).
func makePartSpec(cfg Config, j Job, dir string, d Defaults) (*Spec, error) {
	inputs, err := resolveInputs(cfg, j.Case)
	if err != nil {
		return nil, err
	}
	ds, err := datasetRefs(cfg.DataDir, j.Case.Datasets)
	if err != nil {
		return nil, err
	}
	params := map[string]any{}
	for k, v := range j.Case.Params {
		params[k] = v
	}
	if j.Task.ModelMeta != "" {
		var m struct {
			Trained bool `json:"trained"`
		}
		if err := readJSON(filepath.Join(cfg.ModelsDir, j.Task.ModelMeta), &m); err != nil {
			return nil, err
		}
		params["trained"] = m.Trained
	}
	if j.Impl.Null {
		params[NullParam] = NullPhases[j.Task.ID]
	}
	// Round-trip the params through JSON so the spec's numbers are what
	// every implementation sees (float64), also for the Go worker.
	b, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	params = map[string]any{}
	if err := json.Unmarshal(b, &params); err != nil {
		return nil, err
	}
	return &Spec{
		SchemaVersion: SchemaVersion,
		Task:          j.Task.ID,
		Variant:       j.Case.Variant,
		Impl:          j.Impl.ID,
		Size:          cfg.Size,
		Inputs:        inputs,
		Datasets:      ds,
		Params:        params,
		Warmup:        d.Warmup,
		Reps:          d.Reps,
		Threads:       cfg.Threads,
		Device:        cfg.Device,
		ResultPath:    filepath.Join(dir, "result.json"),
		WorkDir:       dir,
	}, nil
}

// resolveInputs turns "data:" and "models:" paths into absolute paths and
// checks that each exists.
func resolveInputs(cfg Config, c Case) (map[string]string, error) {
	out := map[string]string{}
	for name, p := range c.Inputs {
		var full string
		switch {
		case strings.HasPrefix(p, "data:"):
			full = filepath.Join(cfg.DataDir, strings.TrimPrefix(p, "data:"))
		case strings.HasPrefix(p, "models:"):
			full = filepath.Join(cfg.ModelsDir, strings.TrimPrefix(p, "models:"))
		default:
			full = p
		}
		abs, err := filepath.Abs(full)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(abs); err != nil {
			what := "mlbench data prepare"
			if strings.HasPrefix(p, "models:") {
				what = "mlbench models prepare"
			}
			return nil, fmt.Errorf("input %s (%s) is missing: run `%s` first", name, abs, what)
		}
		out[name] = abs
	}
	return out, nil
}

// datasetRefs reads the meta.json of each named prepared dataset.
func datasetRefs(dataDir string, names []string) ([]DatasetRef, error) {
	var refs []DatasetRef
	for _, n := range names {
		var d DatasetRef
		if err := readJSON(filepath.Join(dataDir, n, "meta.json"), &d); err != nil {
			return nil, fmt.Errorf("dataset %s is not prepared (%v): run `mlbench data prepare` first", n, err)
		}
		refs = append(refs, d)
	}
	return refs, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

// CheckpointsDir is the directory of a run's checkpoints, inside its
// results directory.
const CheckpointsDir = ".checkpoints"

// prepareCheckpoint makes the checkpoint directory of job j and returns its
// path. Only a resumed run keeps what an earlier run left there: a new run
// starts every job from scratch.
func prepareCheckpoint(cfg Config, j Job) (string, error) {
	name := strings.TrimSuffix(jobFileName(j), ".result.json")
	dir := filepath.Join(cfg.OutDir, CheckpointsDir, name)
	if !cfg.Resume {
		if err := os.RemoveAll(dir); err != nil {
			return "", err
		}
	}
	return dir, os.MkdirAll(dir, 0o755)
}

// partsFile, in a job's checkpoint directory, lists the processes that
// ended there without a result (written by the orchestrator, not the
// implementation).
const partsFile = "parts.json"

// settleCheckpoint runs after a job's process has ended and *r holds its
// result. A result that went on from the checkpoint gets the earlier parts
// (and their peak memory); a passed result no longer needs the checkpoint;
// a failed process that leaves state behind is added to the parts, for a
// later --resume to go on from. An empty checkpoint directory is removed.
func settleCheckpoint(dir string, res *Result, started time.Time) {
	var parts []Part
	_ = readJSON(filepath.Join(dir, partsFile), &parts)
	if res.Status == StatusOK {
		if res.ResumedFrom != "" {
			res.EarlierParts = parts
			for _, p := range parts {
				res.PeakRSSBytes = max(res.PeakRSSBytes, p.PeakRSSBytes)
				res.PeakGPUMemBytes = max(res.PeakGPUMemBytes, p.PeakGPUMemBytes)
			}
		}
		os.RemoveAll(dir)
	} else if hasState(dir) {
		parts = append(parts, Part{StartedAt: started.Format(time.RFC3339), WallSeconds: res.WallSeconds,
			CPUSeconds: res.CPUSeconds, PeakRSSBytes: res.PeakRSSBytes, PeakGPUMemBytes: res.PeakGPUMemBytes, Reason: res.Reason})
		if err := WriteJSONAtomic(filepath.Join(dir, partsFile), parts); err != nil {
			res.Reason += fmt.Sprintf(" (and its checkpoint's parts could not be recorded: %v)", err)
		} else {
			res.Reason += "; its checkpoint is kept for --resume"
		}
	} else {
		os.RemoveAll(dir)
	}
	os.Remove(filepath.Dir(dir)) // only when empty
}

// hasState says whether an implementation left anything in dir.
func hasState(dir string) bool {
	es, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range es {
		if e.Name() != partsFile {
			return true
		}
	}
	return false
}

// outcome is the result of job j's process pr: fail's when it timed out,
// did not start, exited non-zero or wrote no valid result for j, else the
// result it wrote (failed when it reports an error).
func outcome(pr procResult, resultPath string, j Job, argv []string, timeout time.Duration, fail func(string, ...any) *Result) *Result {
	var r *Result
	switch {
	case pr.TimedOut:
		r = fail("timeout: no exit after %v (killed)", timeout)
	case pr.StartErr != nil:
		r = fail("could not start %s: %v", argv[0], pr.StartErr)
	case pr.ExitCode != 0:
		r = fail("exit status %d: %s", pr.ExitCode, errorLine(pr.Stderr))
	default:
		b, err := os.ReadFile(resultPath)
		switch {
		case errors.Is(err, os.ErrNotExist):
			r = fail("invalid output: exited 0 but wrote no result file")
		case err != nil:
			r = fail("invalid output: %v", err)
		default:
			got, err := DecodeResult(b)
			switch {
			case err != nil:
				r = fail("invalid output: %v", err)
			case got.Task != j.Task.ID || got.Impl != j.Impl.ID || got.Variant != j.Case.Variant:
				r = fail("invalid output: result is for %s %q %s, spec was for %s %q %s",
					got.Task, got.Variant, got.Impl, j.Task.ID, j.Case.Variant, j.Impl.ID)
			case len(got.Errors) > 0:
				r = got
				r.Status, r.Reason = StatusFailed, "implementation error: "+got.Errors[0]
			default:
				r = got
				r.Status = StatusOK
			}
		}
	}
	return r
}

// recordProcess sets on r what the orchestrator measured of its process
// and what the run gave it: command, timing, memory, GPU, machine, size,
// host, repetitions, notes.
func recordProcess(r *Result, pr procResult, cfg Config, j Job, spec *Spec, argv, env []string, started time.Time) {
	r.Command = argv
	r.Env = env
	r.StartedAt = started.Format(time.RFC3339)
	r.WallSeconds = pr.Wall.Seconds()
	r.PeakRSSBytes = max(pr.SampledPeakRSS, r.SelfPeakRSSBytes)
	r.Wait4MaxRSSBytes = pr.PeakRSS
	if r.PeakRSSBytes == 0 {
		// Too short to sample and no own figure: the upper bound is all
		// there is.
		r.PeakRSSBytes = pr.PeakRSS
	}
	r.CPUSeconds = pr.CPUSeconds
	r.Samples = pr.Samples
	r.Machine = pr.Machine
	r.PeakGPUMemBytes, r.GPUSamples = pr.PeakGPUMem, pr.GPUSamples
	if pr.GPUErr != nil {
		r.GPUError = pr.GPUErr.Error()
	}
	r.Stderr = tail(pr.Stderr, 2000)
	r.Size, r.Host = cfg.Size, cfg.Host
	r.Reps, r.Warmup = spec.Reps, spec.Warmup
	r.Notes = append(r.Notes, modelNotes(cfg, j.Task)...)
}
