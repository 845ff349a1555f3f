package gpu

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/mlbench/mlbench/bench"
)

// Probe says whether the CUDA jobs can run on this machine: a GPU with its
// driver (NVML), a CUDA build of libtorch in the venv, and onnxruntime-gpu's
// CUDA execution provider in the venv. It reads files only; nothing is
// loaded but NVML.
type Probe struct {
	driver   error // nil when NVML sees a GPU
	libtorch error // nil when the venv's torch has libtorch_cuda.so
	ort      error // nil when the venv's onnxruntime has the CUDA provider
}

// NewProbe checks the machine and the venv at venv (the project's .venv).
func NewProbe(venv string) *Probe {
	p := &Probe{}
	if m, err := Open(); err != nil {
		p.driver = err
	} else {
		m.Close()
	}
	site, _ := filepath.Glob(filepath.Join(venv, "lib", "python3*", "site-packages"))
	p.libtorch = errors.New("the venv has no torch (run ./build.sh)")
	p.ort = errors.New("the venv has no onnxruntime (run ./build.sh --cuda)")
	for _, s := range site {
		if exists(filepath.Join(s, "torch", "lib", "libtorch_cuda.so")) {
			p.libtorch = nil
		} else if exists(filepath.Join(s, "torch", "lib", "libtorch_cpu.so")) {
			p.libtorch = errors.New("the venv's torch is a CPU-only build (no libtorch_cuda.so)")
		}
		if exists(filepath.Join(s, "onnxruntime", "capi", "libonnxruntime_providers_cuda.so")) {
			p.ort = nil
		} else if exists(filepath.Join(s, "onnxruntime", "capi")) {
			p.ort = errors.New("the venv has the CPU onnxruntime wheel (./build.sh --cuda installs onnxruntime-gpu)")
		}
	}
	return p
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Check says why impl cannot run with --device cuda here; nil when it can.
func (p *Probe) Check(impl string) error {
	need, ok := bench.CUDANeeds(impl)
	if !ok {
		return errors.New(need)
	}
	var why []error
	if p.driver != nil {
		why = append(why, p.driver)
	}
	switch need {
	case bench.CUDANeedsLibtorch:
		if p.libtorch != nil {
			why = append(why, p.libtorch)
		}
	case bench.CUDANeedsORT:
		if p.ort != nil {
			why = append(why, p.ort)
		}
	}
	if len(why) == 0 {
		return nil
	}
	msg := why[0].Error()
	for _, w := range why[1:] {
		msg += "; " + w.Error()
	}
	return errors.New(msg)
}
