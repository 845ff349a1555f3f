package cli

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/internal/gpu"
)

// gpuMonitor opens NVML for the run's GPU sampler. Without a GPU or driver
// it returns a nil monitor (nothing is sampled) and, on a cuda run, says
// why on w. The returned func closes the monitor.
func gpuMonitor(device string, w io.Writer) (bench.GPUMonitor, func()) {
	m, err := gpu.Open()
	if err != nil {
		if device == "cuda" {
			fmt.Fprintf(w, "GPU memory is not sampled: %v\n", err)
		}
		return nil, func() {}
	}
	return m, func() { m.Close() }
}

// cudaLauncher refuses, with the reason, the implementations that cannot run
// with --device cuda here (no driver, a CPU-only wheel, a CPU-only
// framework), so that a cuda run skips them instead of failing each.
type cudaLauncher struct {
	bench.Launcher
	probe *gpu.Probe
}

func newCUDALauncher(l bench.Launcher, p paths) cudaLauncher {
	return cudaLauncher{l, gpu.NewProbe(filepath.Dir(filepath.Dir(p.Python)))}
}

func (l cudaLauncher) Command(task string, impl bench.ImplRef) ([]string, error) {
	if err := l.probe.Check(impl.ID); err != nil {
		return nil, err
	}
	return l.Launcher.Command(task, impl)
}

// cudaState is the CUDA column of `mlbench list`.
func cudaState(l cudaLauncher, task string, impl bench.ImplRef) string {
	if _, err := l.Command(task, impl); err != nil {
		return "no: " + oneLine(err.Error())
	}
	return "yes"
}
