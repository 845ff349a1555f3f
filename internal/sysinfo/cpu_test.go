package sysinfo

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlbench/mlbench/internal/testenv"
)

// The flags line of an AMD EPYC guest (AVX-512, no AMX), shortened.
const epycCPUInfo = `processor	: 0
vendor_id	: AuthenticAMD
model name	: AMD EPYC 9R14
flags		: fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 avx512f avx512dq avx512cd avx512bw avx512vl avx512_bf16 avx512_vnni

processor	: 1
flags		: fpu
`

func TestISAPicksTheVectorExtensionsInOrder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cpuinfo")
	require.NoError(t, os.WriteFile(p, []byte(epycCPUInfo), 0o644))
	assert.Equal(t, []string{"sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512dq", "avx512cd", "avx512bw",
		"avx512vl", "avx512_vnni", "avx512_bf16"}, ISA(cpuFlags(p)))
	assert.Equal(t, []string{"amx_tile", "amx_bf16"}, ISA([]string{"amx_bf16", "amx_tile", "sse"}))
	assert.Nil(t, cpuFlags(filepath.Join(t.TempDir(), "none")))
	assert.Equal(t, []string{"asimd", "sve"}, ISA([]string{"fp", "asimd", "sve"}))
}

func TestHostRecordsISAOnLinux(t *testing.T) {
	if _, err := os.Stat("/proc/cpuinfo"); err != nil {
		testenv.Skip(t, "no /proc/cpuinfo: %v", err)
	}
	assert.NotEmpty(t, Host().ISA, "every x86-64 and arm64 CPU has one of the listed extensions")
}

// BLAS names torch's and NumPy's builds, as envinfo.py --blas reports them.
func TestBLASNamesTorchAndNumPy(t *testing.T) {
	py := testenv.Python(t, "torch", "numpy")
	lines, err := BLAS(testenv.Root(t), py)
	require.NoError(t, err)
	require.Len(t, lines, 2)
	assert.Regexp(t, `^numpy \S+: \S+`, lines[0])
	assert.Regexp(t, `^torch \S+: BLAS \w+.*CPU kernels \w+`, lines[1])
	_, err = BLAS(t.TempDir(), py)
	assert.ErrorContains(t, err, "envinfo.py --blas")
	assert.ErrorContains(t, err, "No such file", "the reason from Python's stderr")
}
