package cli

import (
	"fmt"
	"io"

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
