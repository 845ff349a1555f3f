// Package gonull is go-null, the Go null implementation of every task
// (bench/null.go): it reads the spec and every input through the same
// worker protocol code as the other Go implementations, times each of the
// task's phases around nothing, and writes a result without probes or
// metrics. Its wall time and phases are what Go costs before any work.
package gonull

import (
	"fmt"
	"os"
	"sort"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/bench/worker"
)

var info = worker.Info{Impl: "go-null", Framework: "null", FrameworkVersion: fmt.Sprint(bench.SchemaVersion)}

func init() {
	for task := range bench.NullPhases {
		worker.Register(task, info, run)
	}
}

// Phases returns the phase names of the spec's "phases" parameter.
func Phases(s *bench.Spec) ([]string, error) {
	v, ok := s.Params[bench.NullParam].([]any)
	if !ok || len(v) == 0 {
		return nil, fmt.Errorf("spec: parameter %q missing or not a list of phase names", bench.NullParam)
	}
	out := make([]string, len(v))
	for i, p := range v {
		if out[i], ok = p.(string); !ok || out[i] == "" {
			return nil, fmt.Errorf("spec: parameter %q[%d] = %v is not a phase name", bench.NullParam, i, p)
		}
	}
	return out, nil
}

// ReadInputs reads every input of the spec: a regular file whole into
// memory, a directory listed (what is in it is a framework's to load). It
// returns the bytes read.
func ReadInputs(s *bench.Spec) (int64, error) {
	names := make([]string, 0, len(s.Inputs))
	for n := range s.Inputs {
		names = append(names, n)
	}
	sort.Strings(names)
	var n int64
	for _, name := range names {
		p, err := s.Input(name)
		if err != nil {
			return 0, err
		}
		st, err := os.Stat(p)
		if err != nil {
			return 0, fmt.Errorf("input %s: %w", name, err)
		}
		if st.IsDir() {
			if _, err := os.ReadDir(p); err != nil {
				return 0, fmt.Errorf("input %s: %w", name, err)
			}
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return 0, fmt.Errorf("input %s: %w", name, err)
		}
		n += int64(len(b))
	}
	return n, nil
}

// run times "load" around reading the inputs and every other phase around
// nothing, once per repetition.
func run(c *worker.Context) error {
	phases, err := Phases(c.Spec)
	if err != nil {
		return err
	}
	var read int64
	err = c.Repeat(func(_ int, timed bool) error {
		for _, p := range phases {
			if err := c.Time(timed, p, func() error {
				if p != "load" {
					return nil
				}
				var err error
				read, err = ReadInputs(c.Spec)
				return err
			}); err != nil {
				return err
			}
		}
		return nil
	})
	c.Result.Notes = append(c.Result.Notes, fmt.Sprintf(
		"null implementation: load reads every input (%d bytes; directories listed, not loaded), the other phases time nothing", read))
	return err
}
