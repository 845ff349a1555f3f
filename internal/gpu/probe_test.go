package gpu

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// venv makes a fake venv whose site-packages holds the given files.
func venv(t *testing.T, files ...string) string {
	dir := t.TempDir()
	for _, f := range files {
		p := filepath.Join(dir, "lib", "python3.11", "site-packages", f)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, nil, 0o644))
	}
	return dir
}

func TestProbeSaysWhyEachCUDAJobCannotRun(t *testing.T) {
	// A CUDA torch wheel and the CPU onnxruntime wheel (this project's CPU build).
	p := NewProbe(venv(t, "torch/lib/libtorch_cuda.so", "torch/lib/libtorch_cpu.so", "onnxruntime/capi/libonnxruntime.so.1.30.0"))
	p.driver = nil // as on a machine with a GPU
	assert.NoError(t, p.Check("go-libtorch"))
	assert.NoError(t, p.Check("python-pytorch"))
	assert.ErrorContains(t, p.Check("go-ort"), "./build.sh --cuda installs onnxruntime-gpu")
	assert.EqualError(t, p.Check("rust-candle"), "CPU only: built without candle's cuda feature")
	assert.EqualError(t, p.Check("go-gonum"), "CPU only: a CPU library")

	// Without a driver every CUDA job says so first.
	p.driver = errors.New("no NVIDIA driver here")
	assert.EqualError(t, p.Check("rust-tch"), "no NVIDIA driver here")
	assert.EqualError(t, p.Check("rust-ort"),
		"no NVIDIA driver here; the venv has the CPU onnxruntime wheel (./build.sh --cuda installs onnxruntime-gpu)")

	// onnxruntime-gpu and a CPU-only torch.
	p = NewProbe(venv(t, "torch/lib/libtorch_cpu.so", "onnxruntime/capi/libonnxruntime_providers_cuda.so"))
	p.driver = nil
	assert.NoError(t, p.Check("python-ort"))
	assert.EqualError(t, p.Check("rust-tch"), "the venv's torch is a CPU-only build (no libtorch_cuda.so)")

	// No venv at all.
	p = NewProbe(filepath.Join(t.TempDir(), "missing"))
	p.driver = nil
	assert.ErrorContains(t, p.Check("go-ort"), "no onnxruntime")
	assert.ErrorContains(t, p.Check("go-libtorch"), "no torch")
}
