package bench

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeGPU is a GPUMonitor that returns fixed readings, or attributes
// perProc bytes on GPU 0 to every process whose command line is cmdline.
type fakeGPU struct {
	readings []GPUReading
	cmdline  []byte // NUL-separated, as in /proc/PID/cmdline
	environ  []byte // or: a process whose environment has this
	perProc  int64
	err      error
	reads    int
}

func (f *fakeGPU) Read() ([]GPUReading, error) {
	f.reads++
	if f.err != nil {
		return nil, f.err
	}
	if f.cmdline == nil && f.environ == nil {
		return f.readings, nil
	}
	r := GPUReading{Index: 0, UsedBytes: 7 << 30, UtilPct: 55, ProcBytes: map[int]int64{1: 6 << 30}}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f.cmdline != nil {
			if b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil && bytes.Equal(b, f.cmdline) {
				r.ProcBytes[pid] = f.perProc
			}
		} else if b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ")); err == nil && bytes.Contains(b, f.environ) {
			r.ProcBytes[pid] = f.perProc
		}
	}
	return []GPUReading{r}, nil
}

func TestGPUSamplerKeepsTheJobsMemory(t *testing.T) {
	f := &fakeGPU{readings: []GPUReading{
		{Index: 0, UsedBytes: 10 << 30, UtilPct: 90, ProcBytes: map[int]int64{11: 3 << 30, 12: 1 << 30, 99: 5 << 30}},
		{Index: 1, UsedBytes: 2 << 30, UtilPct: 40, ProcBytes: map[int]int64{12: 1 << 30}},
		{Index: 2, UsedBytes: 8 << 30, UtilPct: 100, ProcBytes: map[int]int64{77: 8 << 30}},
	}}
	g := &gpuSampler{mon: f, start: time.Now()}
	g.sample(map[int]bool{11: true, 12: true})
	require.Len(t, g.out, 1)
	s := g.out[0]
	// Processes 11 and 12 on GPUs 0 and 1; 99 and 77 are someone else's.
	assert.Equal(t, int64(5<<30), s.MemBytes)
	assert.Equal(t, int64(12<<30), s.DeviceMemBytes, "GPUs 0 and 1, not 2")
	assert.Equal(t, 90, s.UtilPct)
	assert.Equal(t, int64(5<<30), g.peak)

	// A job with nothing on a GPU: no sample on a cpu run...
	g = &gpuSampler{mon: f, start: time.Now()}
	g.sample(map[int]bool{5: true})
	assert.Empty(t, g.out)
	// ...and the whole machine's GPUs on a cuda run (the job's PIDs may be
	// in another PID namespace than the driver's).
	g = &gpuSampler{mon: f, always: true, start: time.Now()}
	g.sample(map[int]bool{5: true})
	require.Len(t, g.out, 1)
	assert.Equal(t, GPUSample{T: g.out[0].T, MemBytes: 0, DeviceMemBytes: 20 << 30, UtilPct: 100}, g.out[0])
	assert.Zero(t, g.peak)
}

func TestGPUSamplerStopsAtTheFirstError(t *testing.T) {
	f := &fakeGPU{err: errors.New("NVML GPU 0 memory: ERROR_GPU_IS_LOST")}
	g := &gpuSampler{mon: f, always: true, start: time.Now()}
	g.sample(map[int]bool{1: true})
	g.sample(map[int]bool{1: true})
	assert.Equal(t, 1, f.reads)
	assert.EqualError(t, g.err, "NVML GPU 0 memory: ERROR_GPU_IS_LOST")
	assert.Empty(t, g.out)
	var nilSampler *gpuSampler
	nilSampler.sample(map[int]bool{1: true}) // no monitor: nothing, no panic
}

// TestRunProcessSamplesGPU runs a real process beside the RSS sampler with
// a fake NVML-like monitor that gives that process 3 GiB on GPU 0.
func TestRunProcessSamplesGPU(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	require.NoError(t, err)
	f := &fakeGPU{cmdline: []byte(sleep + "\x000.5\x00"), perProc: 3 << 30}
	g := &gpuSampler{mon: f}
	pr := runProcess(context.Background(), []string{sleep, "0.5"}, nil, t.TempDir(), time.Minute, nil, g)
	require.Equal(t, 0, pr.ExitCode)
	require.NoError(t, pr.GPUErr)
	require.NotEmpty(t, pr.GPUSamples, "the process lives 0.5 s, sampled every %v", SampleEvery)
	assert.Equal(t, int64(3<<30), pr.PeakGPUMem, "process 1's 6 GiB is not the job's")
	for _, s := range pr.GPUSamples {
		assert.Equal(t, int64(7<<30), s.DeviceMemBytes)
		assert.Equal(t, 55, s.UtilPct)
	}
	// Without a monitor nothing is sampled.
	pr = runProcess(context.Background(), []string{sleep, "0.2"}, nil, t.TempDir(), time.Minute, nil, nil)
	assert.Nil(t, pr.GPUSamples)
	assert.Zero(t, pr.PeakGPUMem)
}

// TestRunRecordsGPUMemory: through Run, the result of a job whose process
// has GPU memory carries peak_gpu_mem_bytes and gpu_samples; without a
// monitor it carries neither.
func TestRunRecordsGPUMemory(t *testing.T) {
	task := fakeTask("gpu")
	jobs := Plan([]*Task{task}, map[string][]ImplRef{task.ID: task.Impls}, SizeQuick)
	cfg := testConfig(t)
	cfg.Device = "cuda"
	cfg.GPU = &fakeGPU{environ: []byte("MLBENCH_FAKE_IMPL=gpu\x00"), perProc: 2 << 30}
	rs, err := Run(context.Background(), cfg, jobs)
	require.NoError(t, err)
	got := byImpl(rs)
	r := got["gpu"]
	require.Equal(t, StatusOK, r.Status, r.Reason)
	assert.Equal(t, int64(2<<30), r.PeakGPUMemBytes)
	require.NotEmpty(t, r.GPUSamples)
	assert.Empty(t, r.GPUError)
	b, err := os.ReadFile(filepath.Join(cfg.OutDir, jobFileName(jobs[1])))
	require.NoError(t, err)
	assert.Contains(t, string(b), `"peak_gpu_mem_bytes": 2147483648`)
	// The reference "ok" exits at once, with nothing on the GPU: on a cuda
	// run it may still have device-level samples, never memory of its own.
	assert.Zero(t, got["ok"].PeakGPUMemBytes)

	cfg = testConfig(t)
	rs, err = Run(context.Background(), cfg, jobs)
	require.NoError(t, err)
	assert.Zero(t, byImpl(rs)["gpu"].PeakGPUMemBytes)
	assert.Nil(t, byImpl(rs)["gpu"].GPUSamples)
}
