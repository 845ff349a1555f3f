//go:build cgo

package ort

import (
	"testing"

	"github.com/mlbench/mlbench/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// initORT loads ONNX Runtime (LibraryPath: $MLBENCH_ORT_LIB or the
// project's .venv), skipping the test when it is not there.
func initORT(t *testing.T) {
	t.Helper()
	p, err := LibraryPath()
	if err != nil {
		testenv.Skip(t, "no ONNX Runtime library: %v", err)
	}
	require.NoError(t, Init(p))
	require.NotEmpty(t, Version())
}

func tinySession(t *testing.T) *Session {
	t.Helper()
	initORT(t)
	s, err := NewSession("testdata/tiny.onnx", []string{"x", "ids"}, []string{"y", "ids2"}, SessionOptions{IntraOpThreads: 1})
	require.NoError(t, err)
	return s
}

func TestTinyModel(t *testing.T) {
	s := tinySession(t)
	base := LiveTensors()

	x, err := NewFloat32([]int64{2, 3}, []float32{1, 0, 0, 1, 1, 1})
	require.NoError(t, err)
	ids, err := NewInt64([]int64{2}, []int64{3, -4})
	require.NoError(t, err)

	// Outputs allocated by ONNX Runtime.
	out := make([]*Tensor, 2)
	require.NoError(t, s.Run([]*Tensor{x, ids}, out))
	assert.Equal(t, []int64{2, 2}, out[0].Shape())
	assert.Equal(t, []float32{1.5, 1.5, 9.5, 11.5}, out[0].Float32s())
	assert.Equal(t, []int64{6, -8}, out[1].Int64s())
	assert.Nil(t, out[0].Int64s(), "wrong-type view")

	// Preallocated outputs, filled in place.
	y, err := NewFloat32([]int64{2, 2}, nil)
	require.NoError(t, err)
	ids2, err := NewInt64([]int64{2}, nil)
	require.NoError(t, err)
	require.NoError(t, s.Run([]*Tensor{x, ids}, []*Tensor{y, ids2}))
	assert.Equal(t, []float32{1.5, 1.5, 9.5, 11.5}, y.Float32s())
	assert.Equal(t, []int64{6, -8}, ids2.Int64s())

	// Zero-length dimensions work (like GPT-2's empty past).
	x0, err := NewFloat32([]int64{0, 3}, nil)
	require.NoError(t, err)
	out0 := make([]*Tensor, 2)
	require.NoError(t, s.Run([]*Tensor{x0, ids}, out0))
	assert.Equal(t, []int64{0, 2}, out0[0].Shape())

	for _, tt := range []*Tensor{x, ids, y, ids2, x0, out[0], out[1], out0[0], out0[1]} {
		require.NoError(t, tt.Close())
		require.NoError(t, tt.Close()) // idempotent
	}
	assert.Equal(t, base, LiveTensors(), "every tensor freed")

	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	assert.Error(t, s.Run(nil, nil), "run after close")
}

func TestShapeAndTypeErrors(t *testing.T) {
	s := tinySession(t)
	defer s.Close()
	base := LiveTensors()
	ids, err := NewInt64([]int64{1}, []int64{1})
	require.NoError(t, err)
	defer ids.Close()

	bad, err := NewFloat32([]int64{2, 4}, nil) // x must be [n, 3]
	require.NoError(t, err)
	defer bad.Close()
	out := make([]*Tensor, 2)
	err = s.Run([]*Tensor{bad, ids}, out)
	require.Error(t, err)
	t.Log(err)
	assert.Nil(t, out[0])

	x, err := NewFloat32([]int64{2, 3}, nil)
	require.NoError(t, err)
	defer x.Close()
	wrongOut, err := NewFloat32([]int64{3, 2}, nil) // y is [2, 2]
	require.NoError(t, err)
	defer wrongOut.Close()
	assert.Error(t, s.Run([]*Tensor{x, ids}, []*Tensor{wrongOut, nil}))

	xi, err := NewInt64([]int64{2, 3}, nil) // x must be float32
	require.NoError(t, err)
	defer xi.Close()
	assert.Error(t, s.Run([]*Tensor{xi, ids}, make([]*Tensor, 2)))

	assert.Error(t, s.Run([]*Tensor{x}, make([]*Tensor, 2)), "wrong input count")
	_, err = NewFloat32([]int64{2, 3}, []float32{1})
	assert.Error(t, err, "data length")
	_, err = NewFloat32([]int64{-1, 3}, nil)
	assert.Error(t, err, "negative dimension")
	_, err = NewSession("testdata/missing.onnx", []string{"x"}, []string{"y"}, SessionOptions{})
	assert.Error(t, err)
	assert.Equal(t, base+5, LiveTensors())
}

func TestSessionLoop(t *testing.T) {
	// Opening and closing sessions and tensors repeatedly leaks no tensors.
	initORT(t)
	base := LiveTensors()
	for i := 0; i < 20; i++ {
		s, err := NewSession("testdata/tiny.onnx", []string{"x", "ids"}, []string{"y", "ids2"}, SessionOptions{IntraOpThreads: 1})
		require.NoError(t, err)
		x, _ := NewFloat32([]int64{1, 3}, []float32{1, 2, 3})
		ids, _ := NewInt64([]int64{1}, []int64{int64(i)})
		out := make([]*Tensor, 2)
		require.NoError(t, s.Run([]*Tensor{x, ids}, out))
		assert.Equal(t, []float32{22.5, 27.5}, out[0].Float32s())
		assert.Equal(t, []int64{int64(2 * i)}, out[1].Int64s())
		for _, tt := range append(out, x, ids) {
			tt.Close()
		}
		s.Close()
	}
	assert.Equal(t, base, LiveTensors())
}
