package data

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNPYRoundTrip(t *testing.T) {
	for _, dt := range []string{"<f8", "<i8", "|u1"} {
		var buf bytes.Buffer
		in := []float64{1, 2, 3, 4, 5, 6}
		require.NoError(t, WriteNPY(&buf, dt, []int{2, 3}, in))
		a, err := parseNPY(buf.Bytes())
		require.NoError(t, err, dt)
		require.Equal(t, []int{2, 3}, a.Shape)
		require.Equal(t, in, a.Data)
		require.Equal(t, 2, a.Rows())
		require.Equal(t, 3, a.Cols())
	}
}

func TestNPYTruncated(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteNPY(&buf, "<f8", []int{4}, []float64{1, 2, 3, 4}))
	b := buf.Bytes()
	_, err := parseNPY(b[:len(b)-3])
	require.ErrorContains(t, err, "truncated")
	_, err = parseNPY(b[:8])
	require.Error(t, err)
	_, err = parseNPY([]byte("hello world, not numpy"))
	require.ErrorContains(t, err, "not a .npy")
}

// NumPy must read what we write; skipped where no Python with numpy is found.
func TestNPYReadableByNumPy(t *testing.T) {
	py := os.Getenv("MLBENCH_PYTHON")
	if py == "" {
		t.Skip("MLBENCH_PYTHON not set")
	}
	p := filepath.Join(t.TempDir(), "a.npy")
	f, err := os.Create(p)
	require.NoError(t, err)
	require.NoError(t, WriteNPY(f, "<f8", []int{3}, []float64{0.5, -1, 2}))
	require.NoError(t, f.Close())
	out, err := exec.Command(py, "-c", "import numpy,sys; a=numpy.load(sys.argv[1]); print(a.shape, a.sum())", p).CombinedOutput()
	require.NoError(t, err, string(out))
	require.Equal(t, "(3,) 1.5\n", string(out))
}
