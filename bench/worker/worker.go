// Package worker is the Go side of the runner protocol: the hidden
// `mlbench worker --spec PATH` mode reads a spec, runs the registered Go
// implementation in this process, and writes the result atomically.
//
// Implementations register themselves from their own packages (see
// internal/impls); this package knows nothing of any ML framework.
package worker

import (
	"fmt"
	"maps"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mlbench/mlbench/bench"
)

// Func runs one task for one spec, filling c.Result. It returns an error for
// anything that makes the result meaningless.
type Func func(c *Context) error

// Info describes a Go implementation.
type Info struct {
	Impl             string
	Framework        string
	FrameworkVersion string
	// Available reports whether the implementation can run in this binary
	// (e.g. built with the libtorch tag); nil means always.
	Available func() error
}

type entry struct {
	info Info
	run  Func
}

var registry = map[string]map[string]entry{} // impl -> task -> entry

// Register makes f the Go implementation info.Impl of task.
func Register(task string, info Info, f Func) {
	if registry[info.Impl] == nil {
		registry[info.Impl] = map[string]entry{}
	}
	if _, dup := registry[info.Impl][task]; dup {
		panic("worker: duplicate registration of " + info.Impl + " for " + task)
	}
	registry[info.Impl][task] = entry{info, f}
}

// Lookup reports whether this binary has impl for task, and if not why.
func Lookup(task, impl string) error {
	e, ok := registry[impl][task]
	if !ok {
		return fmt.Errorf("no Go implementation %q for task %q", impl, task)
	}
	if e.info.Available != nil {
		return e.info.Available()
	}
	return nil
}

// Context is what an implementation works with.
type Context struct {
	Spec   *bench.Spec
	Result *bench.Result

	// Sync, when set, waits for the implementation's device to finish its
	// queued work (torch.Synchronize on CUDA). Time calls it before it starts
	// the clock and before it reads it, so no asynchronous work leaks into or
	// out of a phase. Implementations on an asynchronous device set it once.
	Sync func() error
}

// Main runs the spec at specPath and writes its result. An error before the
// result could be started is returned (the orchestrator records the exit
// status and stderr); an implementation error is also written into the
// result's Errors so nothing is lost.
func Main(specPath string) error {
	spec, err := bench.ReadSpec(specPath)
	if err != nil {
		return err
	}
	e, ok := registry[spec.Impl][spec.Task]
	if !ok {
		return fmt.Errorf("no Go implementation %q for task %q", spec.Impl, spec.Task)
	}
	if e.info.Available != nil {
		if err := e.info.Available(); err != nil {
			return err
		}
	}
	runtime.GOMAXPROCS(spec.Threads)
	c := &Context{Spec: spec, Result: &bench.Result{
		SchemaVersion:    bench.SchemaVersion,
		Task:             spec.Task,
		Variant:          spec.Variant,
		Impl:             spec.Impl,
		Language:         "go",
		LanguageVersion:  runtime.Version(),
		Framework:        e.info.Framework,
		FrameworkVersion: e.info.FrameworkVersion,
		Params:           spec.Params,
		Datasets:         spec.Datasets,
		Threads:          spec.Threads,
		Device:           spec.Device,
		Phases:           map[string][]float64{},
		Metrics:          map[string]float64{},
		Probes:           map[string][]float64{},
	}}
	if c.Result.FrameworkVersion == "" {
		c.Result.FrameworkVersion = ModuleVersion(e.info.Framework)
	}
	// The implementation runs on this goroutine, locked to one OS thread, so
	// a native library with per-thread state sees one caller: libtorch's
	// OpenMP team belongs to the calling thread, and a goroutine moved between
	// threads would run several teams spinning against each other
	// (torch/doc.go).
	runtime.LockOSThread()
	runErr := e.run(c)
	runtime.UnlockOSThread()
	c.Result.SelfPeakRSSBytes = selfPeakRSS()
	if runErr != nil {
		c.Result.Errors = append(c.Result.Errors, runErr.Error())
		if err := bench.WriteJSONAtomic(spec.ResultPath, c.Result); err != nil {
			return fmt.Errorf("%v (and writing the result: %v)", runErr, err)
		}
		return runErr
	}
	if err := c.Result.Validate(); err != nil {
		return err
	}
	return bench.WriteJSONAtomic(spec.ResultPath, c.Result)
}

// Repeat calls fn for each warm-up then each timed repetition. timed is false
// during warm-up; fn uses it to decide whether to record phases.
func (c *Context) Repeat(fn func(rep int, timed bool) error) error {
	n := c.Spec.Warmup + c.Spec.Reps
	for i := 0; i < n; i++ {
		if err := fn(i, i >= c.Spec.Warmup); err != nil {
			return err
		}
	}
	return nil
}

// Time runs fn and, when timed, appends its duration in seconds (monotonic
// clock) to phase; with c.Sync set, the device is synchronised before the
// clock starts and before it is read.
func (c *Context) Time(timed bool, phase string, fn func() error) error {
	if err := c.sync(); err != nil {
		return fmt.Errorf("%s: %w", phase, err)
	}
	start := time.Now()
	err := fn()
	if err == nil {
		err = c.sync()
	}
	d := time.Since(start).Seconds()
	if err != nil {
		return fmt.Errorf("%s: %w", phase, err)
	}
	if timed {
		c.Result.Phases[phase] = append(c.Result.Phases[phase], d)
	}
	return nil
}

func (c *Context) sync() error {
	if c.Sync == nil {
		return nil
	}
	return c.Sync()
}

// SetParams records in the result the spec's parameters updated with the
// values actually used.
func (c *Context) SetParams(used map[string]any) {
	params := maps.Clone(c.Spec.Params)
	if params == nil {
		params = map[string]any{}
	}
	maps.Copy(params, used)
	c.Result.Params = params
}

// Add appends a duration measured by the caller to phase.
func (c *Context) Add(phase string, seconds float64) {
	c.Result.Phases[phase] = append(c.Result.Phases[phase], seconds)
}

// ModuleVersion returns the version of a dependency module of this binary
// whose path ends in name (e.g. "gonum"), or "" when not found.
func ModuleVersion(name string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, d := range bi.Deps {
		if d.Path == name || len(d.Path) > len(name) && d.Path[len(d.Path)-len(name)-1:] == "/"+name {
			return d.Version
		}
	}
	return ""
}

// selfPeakRSS is the peak resident set of this process (Linux VmHWM). Not
// getrusage's ru_maxrss: on Linux that also counts the parent's resident set
// at the time of exec.
func selfPeakRSS() int64 {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
				f := strings.Fields(v)
				if len(f) > 0 {
					if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
						return kb * 1024
					}
				}
			}
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024
}
