//go:build cgo

package gpu

import (
	"errors"
	"fmt"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/mlbench/mlbench/bench"
)

// notAvailable is NVML_VALUE_NOT_AVAILABLE, what the driver puts in a
// process's memory when it cannot tell (no permission, some platforms).
const notAvailable = ^uint64(0)

// Monitor is an initialised NVML and the handles of every GPU. It
// implements bench.GPUMonitor.
type Monitor struct {
	lib  nvml.Interface
	devs []nvml.Device
}

var _ bench.GPUMonitor = (*Monitor)(nil)

// Open initialises NVML. Without an NVIDIA driver, or with no GPU, it
// returns an error saying which; the caller then samples nothing. The
// caller must Close a Monitor it got.
func Open() (*Monitor, error) { return open(nvml.New()) }

func open(lib nvml.Interface) (*Monitor, error) {
	switch ret := lib.Init(); ret {
	case nvml.SUCCESS:
	case nvml.ERROR_LIBRARY_NOT_FOUND:
		return nil, errors.New("no NVIDIA driver here (NVML: libnvidia-ml.so.1 not found)")
	case nvml.ERROR_DRIVER_NOT_LOADED:
		return nil, errors.New("the NVIDIA driver is not loaded (NVML: ERROR_DRIVER_NOT_LOADED)")
	default:
		return nil, fmt.Errorf("NVML init: %v", ret)
	}
	m := &Monitor{lib: lib}
	n, ret := lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		m.Close()
		return nil, fmt.Errorf("NVML device count: %v", ret)
	}
	if n == 0 {
		m.Close()
		return nil, errors.New("NVML: no GPU")
	}
	for i := range n {
		d, ret := lib.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			m.Close()
			return nil, fmt.Errorf("NVML GPU %d: %v", i, ret)
		}
		m.devs = append(m.devs, d)
	}
	return m, nil
}

// Close shuts NVML down. It may be called more than once.
func (m *Monitor) Close() error {
	if m == nil || m.lib == nil {
		return nil
	}
	ret := m.lib.Shutdown()
	m.lib, m.devs = nil, nil
	if ret != nvml.SUCCESS {
		return fmt.Errorf("NVML shutdown: %v", ret)
	}
	return nil
}

// Read implements bench.GPUMonitor: every GPU's used memory, utilisation
// and the memory of each process on it (compute and graphics contexts; a
// process with both counts once, with the larger figure).
func (m *Monitor) Read() ([]bench.GPUReading, error) {
	if m == nil || m.lib == nil {
		return nil, errors.New("gpu: Read on a closed Monitor")
	}
	out := make([]bench.GPUReading, 0, len(m.devs))
	for i, d := range m.devs {
		r := bench.GPUReading{Index: i, UtilPct: -1, ProcBytes: map[int]int64{}}
		mem, ret := d.GetMemoryInfo()
		if ret != nvml.SUCCESS {
			return nil, fmt.Errorf("NVML GPU %d memory: %v", i, ret)
		}
		r.UsedBytes = int64(mem.Used)
		if u, ret := d.GetUtilizationRates(); ret == nvml.SUCCESS {
			r.UtilPct = int(u.Gpu)
		}
		for _, get := range []func() ([]nvml.ProcessInfo, nvml.Return){d.GetComputeRunningProcesses, d.GetGraphicsRunningProcesses} {
			ps, ret := get()
			if ret == nvml.ERROR_NOT_SUPPORTED {
				continue
			}
			if ret != nvml.SUCCESS {
				return nil, fmt.Errorf("NVML GPU %d processes: %v", i, ret)
			}
			for _, p := range ps {
				var b int64
				if p.UsedGpuMemory != notAvailable {
					b = int64(p.UsedGpuMemory)
				}
				r.ProcBytes[int(p.Pid)] = max(r.ProcBytes[int(p.Pid)], b)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// Info describes the GPUs and the driver.
func (m *Monitor) Info() (*Info, error) {
	if m == nil || m.lib == nil {
		return nil, errors.New("gpu: Info on a closed Monitor")
	}
	in := &Info{}
	if v, ret := m.lib.SystemGetDriverVersion(); ret == nvml.SUCCESS {
		in.Driver = v
	}
	if v, ret := m.lib.SystemGetCudaDriverVersion(); ret == nvml.SUCCESS {
		in.CUDADriver = fmt.Sprintf("%d.%d", v/1000, v%1000/10)
	}
	for i, d := range m.devs {
		dev := Device{Index: i}
		name, ret := d.GetName()
		if ret != nvml.SUCCESS {
			return nil, fmt.Errorf("NVML GPU %d name: %v", i, ret)
		}
		dev.Name = name
		if mem, ret := d.GetMemoryInfo(); ret == nvml.SUCCESS {
			dev.MemoryBytes = int64(mem.Total)
		}
		in.Devices = append(in.Devices, dev)
	}
	return in, nil
}
