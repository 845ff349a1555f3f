package cli

import (
	"context"
	"fmt"
	"runtime"

	"github.com/urfave/cli/v2"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/internal/calib"
	"github.com/mlbench/mlbench/internal/sysinfo"
)

// calibrateFlag is run's --calibrate. Measuring takes some 10 to 30
// seconds and 768 MiB for the triad, so it is on by default only for
// --size full, the runs whose figures are quoted and which take hours;
// quick runs, used to check a change, stay as fast as they were.
func calibrateFlag() cli.Flag {
	return &cli.BoolFlag{Name: "calibrate",
		Usage: "before the first job, measure memory bandwidth and fp32 GEMM throughput with --threads into run.json and every result's host, " +
			"for the report's fraction of the machine's limits (default: on for --size full, off for quick)"}
}

// wantCalibrate says whether the run measures the limits, and whether the
// user asked for it (then a failure ends the run).
func wantCalibrate(c *cli.Context) (on, asked bool) {
	if c.IsSet("calibrate") {
		return c.Bool("calibrate"), c.Bool("calibrate")
	}
	return c.String("size") == bench.SizeFull, false
}

// describeHost adds to the run's host what needs the project's Python: the
// BLAS and oneDNN builds (always; a warning when they cannot be read, as a
// Go-only run needs no Python) and, when calibrating, the machine's limits
// measured with the run's threads. It runs once Run has checked the inputs.
func describeHost(ctx context.Context, c *cli.Context, p paths, h *bench.HostInfo, threads int) error {
	if blas, err := sysinfo.BLAS(p.Root, p.Python); err != nil {
		fmt.Fprintf(c.App.ErrWriter, "warning: BLAS builds not recorded: %v\n", err)
	} else {
		h.BLAS = blas
	}
	on, asked := wantCalibrate(c)
	if !on {
		return nil
	}
	fmt.Fprintf(c.App.ErrWriter, "calibrating: memory bandwidth and fp32 GEMM with %d threads\n", threads)
	l, err := calib.Measure(ctx, calib.Options{Threads: threads, Root: p.Root, Python: p.Python})
	if err != nil {
		if asked {
			return err
		}
		fmt.Fprintf(c.App.ErrWriter, "warning: no limits measured (--calibrate=false to not try): %v\n", err)
		return nil
	}
	h.Limits = l
	return nil
}

// envMeasureFlags are env's --measure and the threads it measures with.
func envMeasureFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "measure", Usage: "also measure memory bandwidth (STREAM triad) and fp32 GEMM throughput (host.limits); some 10 to 30 seconds"},
		&cli.IntFlag{Name: "threads", Value: runtime.NumCPU(), Usage: "threads for --measure"},
	}
}

// envMeasure fills e.Host.Limits when env was asked to --measure.
func envMeasure(c *cli.Context, p paths, e *sysinfo.Env) error {
	if !c.Bool("measure") {
		if c.IsSet("threads") {
			return fmt.Errorf("--threads is for --measure")
		}
		return nil
	}
	n := c.Int("threads")
	if n < 1 || n > bench.MaxThreads() {
		return fmt.Errorf("--threads %d: want 1 to %d (4 per logical CPU)", n, bench.MaxThreads())
	}
	l, err := calib.Measure(c.Context, calib.Options{Threads: n, Root: p.Root, Python: p.Python})
	if err != nil {
		return err
	}
	e.Host.Limits = l
	return nil
}
