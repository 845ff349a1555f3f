//go:build !cgo

package gpu

import (
	"errors"

	"github.com/mlbench/mlbench/bench"
)

// Monitor is not available without cgo (go-nvml is a cgo package).
type Monitor struct{}

var _ bench.GPUMonitor = (*Monitor)(nil)

var errNoCgo = errors.New("GPU monitoring needs cgo (NVML through go-nvml); this binary was built without it")

// Open reports that this build cannot read GPUs.
func Open() (*Monitor, error) { return nil, errNoCgo }

// Close does nothing.
func (m *Monitor) Close() error { return nil }

// Read reports that this build cannot read GPUs.
func (m *Monitor) Read() ([]bench.GPUReading, error) { return nil, errNoCgo }

// Info reports that this build cannot read GPUs.
func (m *Monitor) Info() (*Info, error) { return nil, errNoCgo }
