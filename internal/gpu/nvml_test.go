//go:build cgo

package gpu

import (
	"os"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeNVML is an NVML with the given devices, through go-nvml's own mock of
// nvml.Interface; shutdowns counts Shutdown calls.
func fakeNVML(devs []nvml.Device, shutdowns *int) *mock.Interface {
	return &mock.Interface{
		InitFunc:           func() nvml.Return { return nvml.SUCCESS },
		ShutdownFunc:       func() nvml.Return { *shutdowns++; return nvml.SUCCESS },
		DeviceGetCountFunc: func() (int, nvml.Return) { return len(devs), nvml.SUCCESS },
		DeviceGetHandleByIndexFunc: func(i int) (nvml.Device, nvml.Return) {
			if i < 0 || i >= len(devs) {
				return nil, nvml.ERROR_INVALID_ARGUMENT
			}
			return devs[i], nvml.SUCCESS
		},
		SystemGetDriverVersionFunc:     func() (string, nvml.Return) { return "580.95.05", nvml.SUCCESS },
		SystemGetCudaDriverVersionFunc: func() (int, nvml.Return) { return 13000, nvml.SUCCESS },
	}
}

func fakeDevice(name string, total, used uint64, util uint32, compute, graphics []nvml.ProcessInfo, graphicsRet nvml.Return) *mock.Device {
	return &mock.Device{
		GetNameFunc: func() (string, nvml.Return) { return name, nvml.SUCCESS },
		GetMemoryInfoFunc: func() (nvml.Memory, nvml.Return) {
			return nvml.Memory{Total: total, Used: used, Free: total - used}, nvml.SUCCESS
		},
		GetUtilizationRatesFunc: func() (nvml.Utilization, nvml.Return) {
			return nvml.Utilization{Gpu: util, Memory: util / 2}, nvml.SUCCESS
		},
		GetComputeRunningProcessesFunc:  func() ([]nvml.ProcessInfo, nvml.Return) { return compute, nvml.SUCCESS },
		GetGraphicsRunningProcessesFunc: func() ([]nvml.ProcessInfo, nvml.Return) { return graphics, graphicsRet },
	}
}

func TestReadAndInfoThroughFakeNVML(t *testing.T) {
	const gib = 1 << 30
	d0 := fakeDevice("NVIDIA H100 80GB HBM3", 80*gib, 5*gib, 87,
		[]nvml.ProcessInfo{{Pid: 100, UsedGpuMemory: 3 * gib}, {Pid: 200, UsedGpuMemory: 1 * gib}},
		[]nvml.ProcessInfo{{Pid: 100, UsedGpuMemory: 2 * gib}, {Pid: 300, UsedGpuMemory: notAvailable}}, nvml.SUCCESS)
	d1 := fakeDevice("NVIDIA H100 80GB HBM3", 80*gib, gib/2, 0, nil, nil, nvml.ERROR_NOT_SUPPORTED)
	shutdowns := 0
	m, err := open(fakeNVML([]nvml.Device{d0, d1}, &shutdowns))
	require.NoError(t, err)

	rs, err := m.Read()
	require.NoError(t, err)
	require.Len(t, rs, 2)
	assert.Equal(t, 0, rs[0].Index)
	assert.Equal(t, int64(5*gib), rs[0].UsedBytes)
	assert.Equal(t, 87, rs[0].UtilPct)
	// A process with a compute and a graphics context counts once, with the
	// larger figure; an unavailable figure is a process with 0 bytes.
	assert.Equal(t, map[int]int64{100: 3 * gib, 200: gib, 300: 0}, rs[0].ProcBytes)
	assert.Equal(t, 1, rs[1].Index)
	assert.Empty(t, rs[1].ProcBytes, "graphics processes not supported: none, and no error")

	in, err := m.Info()
	require.NoError(t, err)
	assert.Equal(t, "580.95.05", in.Driver)
	assert.Equal(t, "13.0", in.CUDADriver)
	require.Len(t, in.Devices, 2)
	assert.Equal(t, Device{Index: 1, Name: "NVIDIA H100 80GB HBM3", MemoryBytes: 80 * gib}, in.Devices[1])

	require.NoError(t, m.Close())
	require.NoError(t, m.Close(), "Close twice")
	assert.Equal(t, 1, shutdowns)
	_, err = m.Read()
	assert.Error(t, err, "Read after Close")
}

func TestOpenFailures(t *testing.T) {
	shutdowns := 0
	lib := fakeNVML(nil, &shutdowns)
	lib.InitFunc = func() nvml.Return { return nvml.ERROR_LIBRARY_NOT_FOUND }
	_, err := open(lib)
	require.ErrorContains(t, err, "libnvidia-ml.so.1 not found")

	lib = fakeNVML(nil, &shutdowns)
	_, err = open(lib)
	require.ErrorContains(t, err, "no GPU")
	assert.Equal(t, 1, shutdowns, "NVML shut down again after finding no GPU")

	d := fakeDevice("x", 10, 1, 0, nil, nil, nvml.SUCCESS)
	d.GetMemoryInfoFunc = func() (nvml.Memory, nvml.Return) { return nvml.Memory{}, nvml.ERROR_GPU_IS_LOST }
	m, err := open(fakeNVML([]nvml.Device{d}, &shutdowns))
	require.NoError(t, err)
	defer m.Close()
	_, err = m.Read()
	require.ErrorContains(t, err, "GPU 0 memory")
}

// TestOpenWithoutDriver runs the real NVML loader: on a machine without the
// NVIDIA driver it must return an error, not panic.
func TestOpenWithoutDriver(t *testing.T) {
	m, err := Open()
	if err == nil {
		defer m.Close()
		if _, statErr := os.Stat("/dev/nvidiactl"); statErr == nil {
			t.Skip("an NVIDIA driver is present: nothing to check here")
		}
		t.Fatal("Open succeeded without /dev/nvidiactl")
	}
	assert.Contains(t, err.Error(), "NVIDIA driver")
}
