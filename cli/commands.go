package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/bench/worker"
	"github.com/mlbench/mlbench/data"
	"github.com/mlbench/mlbench/internal/dirlock"
	"github.com/mlbench/mlbench/internal/sysinfo"
	"github.com/mlbench/mlbench/report"
)

func envCommand() *cli.Command {
	return &cli.Command{
		Name:  "env",
		Usage: "print the environment as JSON: CPU, cores, memory, OS, GPU, Go/Python/Rust and framework versions",
		Flags: envMeasureFlags(),
		Action: func(c *cli.Context) error {
			p, err := resolvePaths(c)
			if err != nil {
				return err
			}
			e := sysinfo.Collect(p.Root, p.Python)
			if err := envMeasure(c, p, e); err != nil {
				return err
			}
			b, err := json.MarshalIndent(e, "", "  ")
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(c.App.Writer, string(b))
			return err
		},
	}
}

func dataOptions(c *cli.Context, p paths) data.Options {
	cache := os.Getenv("MLBENCH_CACHE")
	if cache == "" {
		if home, err := os.UserHomeDir(); err == nil {
			cache = filepath.Join(home, ".cache", "mlbench")
		}
	}
	return data.Options{
		Root:     p.Data,
		Cache:    filepath.Join(cache, "downloads"),
		Mirror:   c.String("mirror"),
		Python:   p.Python,
		Progress: c.App.ErrWriter,
	}
}

func dataCommand() *cli.Command {
	mirror := &cli.StringFlag{Name: "mirror", Usage: "take the source files from this folder (with MANIFEST.json) instead of downloading them", EnvVars: []string{"MLBENCH_MIRROR"}}
	return &cli.Command{
		Name:  "data",
		Usage: "prepare and list the datasets",
		Subcommands: []*cli.Command{
			{
				Name:  "prepare",
				Usage: "download (or take from --mirror), verify and prepare datasets into data/processed",
				Flags: []cli.Flag{
					&cli.StringSliceFlag{Name: "dataset", Usage: "dataset to prepare (repeatable; default: all of " + strings.Join(data.Names(), ", ") + ")"},
					mirror,
				},
				Action: func(c *cli.Context) error {
					if c.Args().Present() {
						return fmt.Errorf("unexpected argument %q (use --dataset NAME)", c.Args().First())
					}
					p, err := resolvePaths(c)
					if err != nil {
						return err
					}
					if err := data.Prepare(c.StringSlice("dataset"), dataOptions(c, p)); err != nil {
						return err
					}
					return printDataList(c, p)
				},
			},
			{
				Name:  "list",
				Usage: "list the datasets, whether each is prepared, its source sha256 and whether it is the official copy",
				Flags: []cli.Flag{mirror},
				Action: func(c *cli.Context) error {
					p, err := resolvePaths(c)
					if err != nil {
						return err
					}
					return printDataList(c, p)
				},
			},
		},
	}
}

func printDataList(c *cli.Context, p paths) error {
	es, err := data.List(dataOptions(c, p))
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.App.Writer, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "DATASET\tPREPARED\tOFFICIAL\tSHA256\tSOURCE")
	for _, e := range es {
		prep, off, sha, src := "no", "-", "-", "-"
		if e.Prepared {
			prep, sha, src = "yes", e.Ref.SHA256, e.Ref.Source
			off = fmt.Sprint(e.Ref.Official)
		}
		if e.Err != "" {
			prep = "error: " + e.Err
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Name, prep, off, sha, src)
	}
	return tw.Flush()
}

// modelTokenizers is the prepared tokenizer folder (data/processed/
// tokenizers/NAME) of each model, as reference/python/models.py reads it.
var modelTokenizers = map[string]string{"bert-qa": "bert-base-uncased", "gpt2": "gpt2"}

func modelsCommand() *cli.Command {
	return &cli.Command{
		Name:  "models",
		Usage: "prepare the LLM checkpoints (safetensors, ONNX export, tokenizer) into data/models",
		Subcommands: []*cli.Command{{
			Name: "prepare",
			Usage: "make bert-qa and gpt2 from --from (a local directory or Hugging Face id, when reachable) or, " +
				"without it, a seeded random initialisation of the real configuration; then export ONNX and check it",
			Flags: []cli.Flag{
				&cli.StringSliceFlag{Name: "model", Usage: "bert-qa or gpt2 (repeatable; default both)"},
				&cli.StringFlag{Name: "from", Usage: "trained weights: a local directory or a Hugging Face model id"},
			},
			Action: func(c *cli.Context) error {
				if c.Args().Present() {
					return fmt.Errorf("unexpected argument %q (use --model NAME)", c.Args().First())
				}
				p, err := resolvePaths(c)
				if err != nil {
					return err
				}
				script := filepath.Join(p.Root, "reference", "python", "models.py")
				if _, err := os.Stat(script); err != nil {
					return fmt.Errorf("model preparation is not available: %v", err)
				}
				args := []string{script, "--out", p.Models, "--tokenizers", filepath.Join(p.Data, "tokenizers")}
				models := c.StringSlice("model")
				for _, m := range models {
					if _, ok := modelTokenizers[m]; !ok {
						return fmt.Errorf("unknown model %q (want bert-qa or gpt2)", m)
					}
					args = append(args, "--model", m)
				}
				if len(models) == 0 {
					models = []string{"bert-qa", "gpt2"}
				}
				for _, m := range models {
					tok := filepath.Join(p.Data, "tokenizers", modelTokenizers[m], "tokenizer.json")
					if _, err := os.Stat(tok); err != nil {
						return fmt.Errorf("%s: the %s tokenizer is not prepared: run `mlbench data prepare` first", tok, m)
					}
				}
				if f := c.String("from"); f != "" {
					args = append(args, "--from", f)
				}
				cmd := exec.Command(p.Python, args...)
				cmd.Stdout, cmd.Stderr = c.App.Writer, c.App.ErrWriter
				return modelsPrepareError(cmd.Run(), script)
			},
		}},
	}
}

// modelsPrepareError is what `models prepare` returns when models.py ended
// with err: status 2 is bad input, which models.py has already said in one
// line, so nothing more is printed.
func modelsPrepareError(err error, script string) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 2 {
		return cli.Exit("", ExitError)
	}
	if err != nil {
		return fmt.Errorf("models prepare: %s: %v", filepath.Base(script), err)
	}
	return nil
}

func launcher(p paths) (bench.Paths, error) {
	self, err := os.Executable()
	if err != nil {
		return bench.Paths{}, err
	}
	return bench.Paths{Root: p.Root, Python: p.Python, RustBin: p.RustBin,
		Self: []string{self, "worker"}, GoLookup: worker.Lookup}, nil
}

func listCommand() *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list every task x implementation and whether it can run here (and if not, why)",
		Action: func(c *cli.Context) error {
			p, err := resolvePaths(c)
			if err != nil {
				return err
			}
			l, err := launcher(p)
			if err != nil {
				return err
			}
			cuda := newCUDALauncher(l, p)
			tw := tabwriter.NewWriter(c.App.Writer, 2, 8, 2, ' ', 0)
			fmt.Fprintln(tw, "TASK\tIMPLEMENTATION\tLANGUAGE\tRUNNABLE\tCUDA (--device cuda)")
			for _, t := range bench.Tasks {
				for _, i := range t.Impls {
					state := "yes"
					if _, err := l.Command(t.ID, i); err != nil {
						state = "no: " + oneLine(err.Error())
					}
					id := i.ID
					if i.ID == t.Reference {
						id += " (reference)"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, id, i.Language(), state, cudaState(cuda, t.ID, i))
				}
			}
			return tw.Flush()
		},
	}
}

func runCommand() *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "run the selected tasks and implementations, store one result per (task, implementation), print the comparison",
		Description: "Each implementation runs in its own process with the same spec, threads and inputs; the reference " +
			"implementation of each selected task always runs too, because parity is judged against it. A crash, a " +
			"timeout, an invalid result or a parity failure becomes a failed result and the run goes on. The exit " +
			"status is 0 when every result passed, 3 when some failed, 1 when the run could not be made.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "task", Value: "*", Usage: "tasks: a glob or a comma-separated list of globs, e.g. 'classical/*' or 'classical/linreg,dl/cnn'; * also matches '/'"},
			&cli.StringFlag{Name: "impl", Value: "*", Usage: "implementations: a glob or a comma-separated list, e.g. 'go-*', '*-ort' or 'go-ort,python-ort'"},
			&cli.StringFlag{Name: "size", Value: bench.SizeQuick, Usage: "quick, full or sweep (batch size and sequence length scaling; not part of quick or full)"},
			&cli.StringFlag{Name: "variant", Value: "*", Usage: "cases: a glob or a comma-separated list over the variants of the size, e.g. 'batch=*' or 'n=1000,n=10000' (see `mlbench plan`)"},
			&cli.IntFlag{Name: "reps", Usage: "timed repetitions (default: the task's, for the size)"},
			&cli.IntFlag{Name: "warmup", Value: -1, Usage: "warm-up repetitions (default: the task's, for the size)"},
			&cli.IntFlag{Name: "threads", Value: runtime.NumCPU(), Usage: "threads for every implementation (sets GOMAXPROCS, OMP/MKL/OpenBLAS, RAYON, framework knobs)"},
			&cli.StringFlag{Name: "device", Value: "cpu", Usage: "cpu or cuda"},
			&cli.StringFlag{Name: "out", Usage: "results directory (default: results/<UTC timestamp>)"},
			&cli.DurationFlag{Name: "timeout", Value: 30 * time.Minute, Usage: "time limit of each implementation process"},
			&cli.DurationFlag{Name: "wait-quiet", Usage: "before each job, wait up to this long for other processes to use under a quarter of a core (e.g. 2m; 0: do not wait)"},
			&cli.BoolFlag{Name: "resume", Usage: "go on with the run in --out: keep its passed results, run the rest (same size, threads, device, reps, warm-ups and order)"},
			&cli.StringFlag{Name: "order", Value: bench.OrderSequential, Usage: "sequential (each job in one process, the reference first), alternate (each job's reps split into --rounds processes, " +
				"the reference and the others interleaved round by round, every other round backwards: no order bias in a ratio) or shuffle (the rounds in a random order from --seed)"},
			&cli.IntFlag{Name: "rounds", Value: bench.DefaultRounds, Usage: "with --order alternate or shuffle: rounds (processes) per job, at most its reps"},
			&cli.Int64Flag{Name: "seed", Usage: "with --order shuffle: the seed of the order (default: drawn, and recorded in run.json)"},
			calibrateFlag(),
		},
		Action: runAction,
	}
}

func runAction(c *cli.Context) error {
	p, err := resolvePaths(c)
	if err != nil {
		return err
	}
	if err := checkRunFlags(c); err != nil {
		return err
	}
	size := c.String("size")
	jobs, skipped, l, err := selectJobs(c, p, size)
	if err != nil {
		return err
	}
	out := c.String("out")
	if out == "" {
		if c.Bool("resume") {
			return errors.New("--resume needs --out: the results directory of the run to go on with")
		}
		out = filepath.Join(p.Results, time.Now().UTC().Format("20060102T150405Z"))
	}
	cfg := bench.Config{
		DataDir: p.Data, ModelsDir: p.Models, OutDir: out, Size: size,
		Reps: c.Int("reps"), Warmup: c.Int("warmup"), Threads: c.Int("threads"), Device: c.String("device"),
		Timeout: c.Duration("timeout"), Launcher: l, Host: sysinfo.Host(), Resume: c.Bool("resume"),
		WaitQuiet: c.Duration("wait-quiet"), Order: c.String("order"), Rounds: c.Int("rounds"), Seed: c.Int64("seed"),
	}
	if cfg.Order == bench.OrderShuffle && !c.IsSet("seed") {
		cfg.Seed = rand.Int64()
	}
	// The lock comes first: a second run into out is refused before it
	// looks at, or writes, anything there.
	if cfg.Lock, err = dirlock.Take(out); err != nil {
		return err
	}
	defer cfg.Lock.Unlock()
	var earlier []runInfo
	if cfg.Resume {
		if earlier, err = checkResume(out, &cfg, c.IsSet("seed")); err != nil {
			return err
		}
	} else if ents, _ := os.ReadDir(out); len(ents) > 1 || len(ents) == 1 && ents[0].Name() != dirlock.File {
		return fmt.Errorf("results directory %s is not empty (--resume to go on with it)", out)
	}
	var closeGPU func()
	cfg.GPU, closeGPU = gpuMonitor(cfg.Device, c.App.ErrWriter)
	defer closeGPU()
	prog := newProgress(c.App.ErrWriter, len(jobs))
	live := newLiveTable(c.App.Writer)
	cfg.OnStart = func(j bench.Job, i, n int) { prog.total = n; prog.start(i, j.Label()) }
	cfg.OnSurvivor = func() {
		fmt.Fprintf(c.App.ErrWriter, "ended an implementation process that a killed run into %s had left running\n", out)
	}
	cfg.OnResult = func(r *bench.Result, i, n int) {
		prog.clear()
		live.add(r)
	}
	// run.json is written before the first job, so that a run killed
	// half-way still records its settings for --resume to check; but only
	// once Run has checked the inputs, so a refused run leaves nothing.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	started := time.Now().UTC()
	cfg.OnReady = func() error {
		if err := describeHost(ctx, c, p, cfg.Host, cfg.Threads); err != nil {
			return err
		}
		return writeRunInfo(out, cfg, jobs, skipped, earlier, started, stateRunning)
	}
	results, err := bench.Run(ctx, cfg, jobs)
	prog.clear()
	if err != nil && ctx.Err() != nil {
		if werr := writeRunInfo(out, cfg, jobs, skipped, earlier, started, stateInterrupted); werr != nil {
			return werr
		}
		return cli.Exit(fmt.Sprintf("interrupted after %d of %d jobs (--resume --out %s goes on with it)",
			len(results), len(jobs), out), ExitInterrupted)
	}
	if err != nil {
		return err
	}
	if err := writeRunInfo(out, cfg, jobs, skipped, earlier, started, stateFinished); err != nil {
		return err
	}
	return printRun(c, out, results)
}

// checkRunFlags refuses run flags out of their range.
func checkRunFlags(c *cli.Context) error {
	if err := bench.CheckSize(c.String("size")); err != nil {
		return fmt.Errorf("--%v", err)
	}
	if n := c.Int("threads"); n < 1 || n > bench.MaxThreads() {
		return fmt.Errorf("--threads %d: want 1 to %d (4 per logical CPU)", n, bench.MaxThreads())
	} else if n > runtime.NumCPU() {
		fmt.Fprintf(c.App.ErrWriter, "warning: --threads %d is more than the %d logical CPUs: timings will suffer\n", n, runtime.NumCPU())
	}
	if d := c.String("device"); d != "cpu" && d != "cuda" {
		return fmt.Errorf("--device %q: want cpu or cuda", d)
	}
	if err := bench.CheckOrder(c.String("order"), c.Int("rounds")); err != nil {
		return fmt.Errorf("--%v", err)
	}
	if c.Int("reps") < 0 {
		return fmt.Errorf("--reps %d: want at least 1 (or 0 for the task's default)", c.Int("reps"))
	}
	return nil
}

// selectJobs is the jobs of the --task and --impl selection at size that
// can run here, and those that cannot (each printed once with its reason).
func selectJobs(c *cli.Context, p paths, size string) ([]bench.Job, []bench.Skip, bench.Launcher, error) {
	tasks, impls, err := bench.Select(bench.Tasks, bench.Selection{Task: c.String("task"), Impl: c.String("impl")})
	if err != nil {
		return nil, nil, nil, err
	}
	pl, err := launcher(p)
	if err != nil {
		return nil, nil, nil, err
	}
	var l bench.Launcher = pl
	if c.String("device") == "cuda" {
		l = newCUDALauncher(pl, p) // says why a job cannot run on CUDA here
	}
	planned, err := bench.SelectVariants(bench.Plan(tasks, impls, size), c.String("variant"))
	if err != nil {
		return nil, nil, nil, err
	}
	jobs, skipped := bench.Runnable(planned, l)
	for _, s := range dedupSkips(skipped) {
		fmt.Fprintf(c.App.ErrWriter, "skip %s: %s\n", s.Job.Task.ID+" "+s.Job.Impl.ID, oneLine(s.Reason))
	}
	if len(jobs) == 0 {
		return nil, nil, nil, fmt.Errorf("nothing runnable here for --task %q --impl %q (see `mlbench list`)", c.String("task"), c.String("impl"))
	}
	return jobs, skipped, l, nil
}

// printRun prints the run's table; the exit status says whether a result
// failed (unverified is not a failure).
func printRun(c *cli.Context, out string, results []*bench.Result) error {
	fmt.Fprintf(c.App.Writer, "\nResults in %s\n\n", out)
	if err := report.Write(c.App.Writer, results, report.Markdown); err != nil {
		return err
	}
	failed := 0
	for _, r := range results {
		if r.Status == bench.StatusFailed {
			failed++
		}
	}
	if failed > 0 {
		return cli.Exit(fmt.Sprintf("%d of %d results failed (see %s)", failed, len(results), out), ExitFailed)
	}
	return nil
}

// dedupSkips keeps one skip line per (task, implementation) across cases.
func dedupSkips(ss []bench.Skip) []bench.Skip {
	seen := map[string]bool{}
	var out []bench.Skip
	for _, s := range ss {
		k := s.Job.Task.ID + " " + s.Job.Impl.ID
		if !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}

// runInfo is results/<ts>/run.json: how the run was made. A run made in
// parts (--resume) lists the earlier parts in Parts, oldest first.
type runInfo struct {
	Command  []string          `json:"command"`
	State    string            `json:"state"` // stateRunning, stateFinished, stateInterrupted
	Started  string            `json:"started_at"`
	Finished string            `json:"finished_at,omitempty"`
	Size     string            `json:"size"`
	Threads  int               `json:"threads"`
	Device   string            `json:"device"`
	Reps     int               `json:"reps"`   // 0: the tasks' defaults
	Warmup   int               `json:"warmup"` // < 0: the tasks' defaults
	Timeout  string            `json:"timeout"`
	Jobs     int               `json:"jobs"`
	Skipped  map[string]string `json:"skipped,omitempty"`
	Host     *bench.HostInfo   `json:"host"`
	ThreadEn []string          `json:"thread_env"`
	Parts    []runInfo         `json:"parts,omitempty"`
	// Order, Rounds and Seed are the run's --order, --rounds and --seed;
	// Schedule the processes in the order they were to run ("" order:
	// a run of an older mlbench, sequential).
	Order    string   `json:"order,omitempty"`
	Rounds   int      `json:"rounds,omitempty"`
	Seed     int64    `json:"seed,omitempty"`
	Schedule []string `json:"schedule,omitempty"`
}

// checkResume reads the run.json of the run in out, when there is one, and
// refuses to go on with different settings: the parts of one run must be
// comparable. It returns the earlier parts.
func checkResume(out string, cfg *bench.Config, seedSet bool) ([]runInfo, error) {
	b, err := os.ReadFile(filepath.Join(out, "run.json"))
	if errors.Is(err, os.ErrNotExist) {
		// Written at the start since the directory was locked; a run of an
		// older mlbench wrote it at the end only. Each result records its
		// own settings, which bench.Run checks before reusing it.
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ri runInfo
	if err := json.Unmarshal(b, &ri); err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(out, "run.json"), err)
	}
	if ri.Size != cfg.Size || ri.Threads != cfg.Threads || ri.Device != cfg.Device || ri.Reps != cfg.Reps || ri.Warmup != cfg.Warmup {
		return nil, fmt.Errorf("--resume %s: that run used --size %s --threads %d --device %s --reps %d --warmup %d; "+
			"this one asks for --size %s --threads %d --device %s --reps %d --warmup %d",
			out, ri.Size, ri.Threads, ri.Device, ri.Reps, ri.Warmup, cfg.Size, cfg.Threads, cfg.Device, cfg.Reps, cfg.Warmup)
	}
	if err := checkResumeOrder(out, ri, cfg, seedSet); err != nil {
		return nil, err
	}
	parts := ri.Parts
	ri.Parts = nil
	return append(parts, ri), nil
}

// States of a run in run.json.
const (
	stateRunning     = "running" // or killed: nothing ended it
	stateFinished    = "finished"
	stateInterrupted = "interrupted"
)

// writeRunInfo writes out/run.json in state; it is written when the run
// starts and again when it ends.
func writeRunInfo(out string, cfg bench.Config, jobs []bench.Job, skipped []bench.Skip, earlier []runInfo, started time.Time, state string) error {
	ri := runInfo{Command: os.Args, State: state, Started: started.Format(time.RFC3339), Size: cfg.Size, Threads: cfg.Threads,
		Device: cfg.Device, Reps: cfg.Reps, Warmup: cfg.Warmup, Timeout: cfg.Timeout.String(), Jobs: len(jobs), Host: cfg.Host,
		ThreadEn: bench.ThreadEnv(cfg.Threads), Parts: earlier}
	if state != stateRunning {
		ri.Finished = time.Now().UTC().Format(time.RFC3339)
	}
	ri.Order, ri.Rounds, ri.Seed, ri.Schedule = runOrder(cfg, jobs)
	for _, s := range dedupSkips(skipped) {
		if ri.Skipped == nil {
			ri.Skipped = map[string]string{}
		}
		ri.Skipped[s.Job.Task.ID+" "+s.Job.Impl.ID] = s.Reason
	}
	return bench.WriteJSONAtomic(filepath.Join(out, "run.json"), ri)
}

func formatFlag() cli.Flag {
	return &cli.StringFlag{Name: "format", Value: string(report.Markdown), Usage: "markdown, json, csv or html (one self-contained page with plots)"}
}

func outputFlag(usage string) cli.Flag {
	return &cli.StringFlag{Name: "output", Usage: usage}
}

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "print the comparison table of a results directory (default: the newest under results/), or write it as one HTML page with plots (--format html) or the plots as files (--plots)",
		ArgsUsage: "[DIR]",
		Flags: []cli.Flag{formatFlag(),
			outputFlag("with --format html: the file to write (default: DIR/report.html)"),
			&cli.StringFlag{Name: "plots", Usage: "also write every plot as a file into this directory (then no table is printed unless --format is given)"},
			&cli.StringFlag{Name: "plot-format", Value: string(report.SVG), Usage: "svg (fonts embedded) or png, for --plots"}},
		Action: func(c *cli.Context) error {
			f, err := report.ParseFormat(c.String("format"))
			if err != nil {
				return err
			}
			if c.NArg() > 1 {
				return fmt.Errorf("report takes one results directory, got %d arguments", c.NArg())
			}
			dir := c.Args().First()
			if dir == "" {
				p, err := resolvePaths(c)
				if err != nil {
					return err
				}
				if dir, err = newestRun(p.Results); err != nil {
					return err
				}
			}
			rs, err := report.Load(dir)
			if err != nil {
				return err
			}
			return writeReport(c, dir, rs, f)
		},
	}
}

func newestRun(results string) (string, error) {
	ents, err := os.ReadDir(results)
	if err != nil {
		return "", fmt.Errorf("no results yet (%v): run `mlbench run` first", err)
	}
	var dirs []string
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			dirs = append(dirs, e.Name())
		}
	}
	if len(dirs) == 0 {
		return "", fmt.Errorf("no results in %s: run `mlbench run` first", results)
	}
	sort.Strings(dirs)
	return filepath.Join(results, dirs[len(dirs)-1]), nil
}

func compareCommand() *cli.Command {
	return &cli.Command{
		Name:      "compare",
		Usage:     "compare two results directories per (task, implementation, phase), benchstat-style ('~' when not significant)",
		ArgsUsage: "OLD NEW",
		Flags:     []cli.Flag{formatFlag(), outputFlag("write to this file (atomically) instead of standard output")},
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return fmt.Errorf("compare needs two results directories, OLD and NEW; got %d arguments", c.NArg())
			}
			f, err := report.ParseFormat(c.String("format"))
			if err != nil {
				return err
			}
			old, err := report.Load(c.Args().Get(0))
			if err != nil {
				return err
			}
			cur, err := report.Load(c.Args().Get(1))
			if err != nil {
				return err
			}
			if f == report.HTML {
				return writeCompareHTML(c, old, cur)
			}
			return report.WriteCompare(c.App.Writer, old, cur, f)
		},
	}
}

func workerCommand() *cli.Command {
	return &cli.Command{
		Name:   "worker",
		Usage:  "run one Go implementation for a spec (used by `run`)",
		Hidden: true,
		Flags:  []cli.Flag{&cli.StringFlag{Name: "spec", Required: true, Usage: "task spec JSON"}},
		Action: func(c *cli.Context) error {
			return worker.Main(c.String("spec"))
		},
	}
}
