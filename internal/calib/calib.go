// Package calib measures the machine's limits that the report compares each
// implementation with: memory bandwidth (a STREAM-triad kernel in Go, one
// goroutine per thread) and fp32 GEMM throughput (torch's mm, MKL on x86,
// through reference/python/calibrate.py).
package calib

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/mlbench/mlbench/bench"
)

// Options say how to measure; zero values take the defaults.
type Options struct {
	Threads int // the run's threads (required)
	Repeats int // tries of each kernel, the best kept (default 5)
	// TriadElems is the length of each of the triad's three float64 arrays
	// (default: see TriadLen).
	TriadElems int
	GEMMSize   int    // n of the n x n product (default 2048)
	Root       string // repository root, for reference/python/calibrate.py
	Python     string // the project's interpreter, with torch
}

// Measure runs both kernels and returns the limits.
func Measure(ctx context.Context, o Options) (*bench.Limits, error) {
	if o.Threads < 1 {
		return nil, fmt.Errorf("calibrate: threads must be at least 1, got %d", o.Threads)
	}
	if o.Repeats == 0 {
		o.Repeats = 5
	}
	if o.TriadElems == 0 {
		o.TriadElems = TriadLen()
	}
	if o.GEMMSize == 0 {
		o.GEMMSize = 2048
	}
	g, err := GEMM(ctx, o)
	if err != nil {
		return nil, err
	}
	bw, err := Triad(o.Threads, o.TriadElems, o.Repeats)
	if err != nil {
		return nil, err
	}
	l := &bench.Limits{Threads: o.Threads, Bandwidth: bw, GEMM: g, MeasuredAt: time.Now().UTC().Format(time.RFC3339)}
	return l, Check(l)
}

// Check refuses limits that cannot be measurements: a non-positive or
// non-finite value, or no repeat.
func Check(l *bench.Limits) error {
	for _, m := range []struct {
		name string
		v    bench.Measure
	}{{"bandwidth", l.Bandwidth}, {"gemm", l.GEMM}} {
		if !(m.v.Value > 0) || math.IsInf(m.v.Value, 0) || m.v.Repeats < 1 {
			return fmt.Errorf("calibrate: %s %v over %d repeats is not a measurement", m.name, m.v.Value, m.v.Repeats)
		}
	}
	return nil
}

// GEMM runs reference/python/calibrate.py with the run's thread settings.
func GEMM(ctx context.Context, o Options) (bench.Measure, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, o.Python, filepath.Join(o.Root, "reference", "python", "calibrate.py"),
		"--threads", fmt.Sprint(o.Threads), "--size", fmt.Sprint(o.GEMMSize), "--repeats", fmt.Sprint(o.Repeats))
	cmd.Env = append(os.Environ(), bench.ThreadEnv(o.Threads)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return bench.Measure{}, fmt.Errorf("calibrate: GEMM (%s calibrate.py): %v: %s", o.Python, err, lastLine(stderr.String()))
	}
	var v struct {
		FlopPerS float64 `json:"flop_per_s"`
		Repeats  int     `json:"repeats"`
		Kernel   string  `json:"kernel"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return bench.Measure{}, fmt.Errorf("calibrate: GEMM: calibrate.py printed %q: %v", lastLine(string(out)), err)
	}
	return bench.Measure{Value: v.FlopPerS, Repeats: v.Repeats, Kernel: v.Kernel}, nil
}

func lastLine(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return l[len(l)-1]
}
