package data

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mlbench/mlbench/internal/testenv"
	"github.com/stretchr/testify/assert"
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

// NumPy must read what we write.
func TestNPYReadableByNumPy(t *testing.T) {
	py := testenv.Python(t, "numpy")
	p := filepath.Join(t.TempDir(), "a.npy")
	f, err := os.Create(p)
	require.NoError(t, err)
	require.NoError(t, WriteNPY(f, "<f8", []int{3}, []float64{0.5, -1, 2}))
	require.NoError(t, f.Close())
	out, err := exec.Command(py, "-c", "import numpy,sys; a=numpy.load(sys.argv[1]); print(a.shape, a.sum())", p).CombinedOutput()
	require.NoError(t, err, string(out))
	require.Equal(t, "(3,) 1.5\n", string(out))
}

func TestOpenNPYStreamsAndChecks(t *testing.T) {
	dir := t.TempDir()
	write := func(name, dtype string, shape []int, v []float64) string {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		require.NoError(t, err)
		require.NoError(t, WriteNPY(f, dtype, shape, v))
		require.NoError(t, f.Close())
		return p
	}
	p := write("u8.npy", "|u1", []int{2, 3}, []float64{1, 2, 3, 250, 5, 6})
	f, err := OpenNPY(p)
	require.NoError(t, err)
	assert.Equal(t, "|u1", f.DType)
	assert.Equal(t, []int{2, 3}, f.Shape)
	assert.Equal(t, int64(6), f.DataBytes())
	rest, err := io.ReadAll(f)
	require.NoError(t, err)
	assert.Equal(t, []byte{1, 2, 3, 250, 5, 6}, rest, "positioned at the data")
	require.NoError(t, f.Close())

	// The f8 fast path and the converting path give the same values.
	vals := []float64{0.5, -1, 3e300, 7}
	a, err := ReadNPY(write("f8.npy", "<f8", []int{4}, vals))
	require.NoError(t, err)
	assert.Equal(t, vals, a.Data)
	big := make([]float64, 70000) // more than one 64 KiB chunk of the converting path
	for i := range big {
		big[i] = float64(i % 1000)
	}
	a, err = ReadNPY(write("i8.npy", "<i8", []int{70000}, big))
	require.NoError(t, err)
	assert.Equal(t, big, a.Data)

	// A header whose shape product overflows, or promises more data than
	// the file holds: an error naming the file, never a panic or a huge
	// allocation.
	hdr := func(shape string) []byte {
		h := "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + ", }\n"
		b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), 0)
		return append(b, h...)
	}
	for _, shape := range []string{"(4611686018427387904, 4)", "(3037000500, 3037000500)", "(1000000000000,)"} {
		bad := filepath.Join(dir, "bad.npy")
		require.NoError(t, os.WriteFile(bad, append(hdr(shape), make([]byte, 16)...), 0o644))
		_, err := OpenNPY(bad)
		require.Error(t, err, shape)
		assert.Contains(t, err.Error(), bad)
		_, err = parseNPY(append(hdr(shape), make([]byte, 16)...))
		require.Error(t, err, shape)
	}
}
