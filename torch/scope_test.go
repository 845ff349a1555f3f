//go:build libtorch

package torch

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Nested frees what its function makes but the result, which the outer
// Scope then owns, and passes an error on without a result.
func TestScopeNested(t *testing.T) {
	x := must(t)(FromFloat32s([]float32{1, 2, 3, 4}, 2, 2))
	live := LiveTensors()
	outer := NewScope()
	y := outer.Nested(func(s *Scope) *Tensor {
		a := s.AddScalar(x, 1)
		return s.Add(s.Scale(a, 2), a) // (x+1)*2 + (x+1)
	})
	require.NoError(t, outer.Err())
	assert.Equal(t, 1, outer.Len())
	assert.Equal(t, live+1, LiveTensors(), "the two intermediates are closed")
	v, err := y.Float32s()
	require.NoError(t, err)
	assert.Equal(t, []float32{6, 9, 12, 15}, v)

	// a nil result is allowed: the outer Scope adopts nothing
	assert.Nil(t, outer.Nested(func(s *Scope) *Tensor { s.ReLU(x); return nil }))
	require.NoError(t, outer.Err())
	assert.Equal(t, 1, outer.Len())
	assert.Equal(t, live+1, LiveTensors())
	require.NoError(t, outer.Close())
	assert.Equal(t, live, LiveTensors())

	z := outer.Nested(func(s *Scope) *Tensor {
		return s.MatMul(x, s.AddScalar(s.Narrow(x, 0, 0, 1), 1)) // [2,2] x [1,2]: a shape error
	})
	assert.Nil(t, z)
	require.ErrorContains(t, outer.Err(), "cannot be multiplied")
	assert.Zero(t, outer.Len())
	assert.Equal(t, live, LiveTensors(), "f's tensors are closed on error too")
	assert.Nil(t, outer.Nested(func(s *Scope) *Tensor {
		t.Error("Nested ran f after the outer Scope's error")
		return nil
	}))
}
