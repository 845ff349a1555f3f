package calib

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/internal/testenv"
)

func finitePositive(t *testing.T, m bench.Measure, repeats int) {
	t.Helper()
	assert.Greater(t, m.Value, 0.0)
	assert.False(t, math.IsInf(m.Value, 0) || math.IsNaN(m.Value), "value %v", m.Value)
	assert.Equal(t, repeats, m.Repeats)
	assert.NotEmpty(t, m.Kernel)
}

// Small arrays: this checks that the kernel runs, is timed and counted, not
// the machine's bandwidth (no test asserts a duration or a rate).
func TestTriadMeasures(t *testing.T) {
	m, err := Triad(2, 1<<16, 3)
	require.NoError(t, err)
	finitePositive(t, m, 3)
	assert.Contains(t, m.Kernel, "2 goroutines")
}

func TestTriadRefusesBadArguments(t *testing.T) {
	for _, c := range [][3]int{{0, 100, 1}, {2, 1, 1}, {1, 100, 0}} {
		_, err := Triad(c[0], c[1], c[2])
		assert.Error(t, err, "%v", c)
	}
}

func TestTriadLenIsBounded(t *testing.T) {
	n := TriadLen()
	assert.GreaterOrEqual(t, n, minTriadLen)
	assert.LessOrEqual(t, n, maxTriadLen)
}

// A fake sysfs: two CPUs with their own L1d, L1i and L2 and one shared L3,
// and a second L3 shared by no one else: the last level counts each cache once.
func TestLLCBytesCountsEachSharedCacheOnce(t *testing.T) {
	root := t.TempDir()
	write := func(cpu, idx string, level, typ, size, shared string) {
		d := filepath.Join(root, cpu, "cache", idx)
		require.NoError(t, os.MkdirAll(d, 0o755))
		for name, v := range map[string]string{"level": level, "type": typ, "size": size, "shared_cpu_list": shared} {
			require.NoError(t, os.WriteFile(filepath.Join(d, name), []byte(v+"\n"), 0o644))
		}
	}
	for _, cpu := range []string{"cpu0", "cpu1"} {
		write(cpu, "index0", "1", "Data", "48K", cpu)
		write(cpu, "index1", "1", "Instruction", "32K", cpu)
		write(cpu, "index2", "2", "Unified", "2048K", cpu)
		write(cpu, "index3", "3", "Unified", "32M", "0-1")
	}
	write("cpu2", "index3", "3", "Unified", "16M", "2")
	assert.Equal(t, 48<<20, llcBytes(root))
	assert.Equal(t, 0, llcBytes(filepath.Join(root, "none")))
}

func TestParseSize(t *testing.T) {
	for s, want := range map[string]int{"32K": 32 << 10, "105M": 105 << 20, "4096": 4096} {
		got, err := parseSize(s)
		require.NoError(t, err, s)
		assert.Equal(t, want, got, s)
	}
	_, err := parseSize("big")
	assert.Error(t, err)
}

func TestCheckRefusesWhatIsNoMeasurement(t *testing.T) {
	ok := bench.Measure{Value: 1e9, Repeats: 1, Kernel: "k"}
	require.NoError(t, Check(&bench.Limits{Bandwidth: ok, GEMM: ok}))
	for _, bad := range []bench.Measure{{Value: 0, Repeats: 1}, {Value: math.Inf(1), Repeats: 1},
		{Value: math.NaN(), Repeats: 1}, {Value: -1, Repeats: 1}, {Value: 1, Repeats: 0}} {
		assert.Error(t, Check(&bench.Limits{Bandwidth: ok, GEMM: bad}), "%+v", bad)
		assert.Error(t, Check(&bench.Limits{Bandwidth: bad, GEMM: ok}), "%+v", bad)
	}
}

// Measure with torch (reference/python/calibrate.py) at small sizes: both
// limits are measurements, and they survive run.json's JSON as they are.
func TestMeasureAndJSONRoundTrip(t *testing.T) {
	py := testenv.Python(t, "torch")
	l, err := Measure(context.Background(), Options{Threads: 2, Repeats: 2, TriadElems: 1 << 16, GEMMSize: 128,
		Root: testenv.Root(t), Python: py})
	require.NoError(t, err)
	finitePositive(t, l.Bandwidth, 2)
	finitePositive(t, l.GEMM, 2)
	assert.Contains(t, l.GEMM.Kernel, "mm 128x128 fp32, 2 threads")
	assert.Equal(t, 2, l.Threads)
	assert.NotEmpty(t, l.MeasuredAt)
	b, err := json.Marshal(l)
	require.NoError(t, err)
	var back bench.Limits
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, *l, back)
}

func TestMeasureSaysWhyGEMMFailed(t *testing.T) {
	_, err := Measure(context.Background(), Options{Threads: 1, Repeats: 1, TriadElems: 1 << 10, Root: t.TempDir(), Python: "/bin/false"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "calibrate: GEMM")
	_, err = Measure(context.Background(), Options{})
	assert.ErrorContains(t, err, "threads")
}
