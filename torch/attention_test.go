//go:build libtorch

package torch

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// attentionByHand is softmax(q kᵀ · scale + mask) v from elementary ops.
func attentionByHand(t *testing.T, q, k, v, mask *Tensor, scale float64) *Tensor {
	t.Helper()
	s := NewScope()
	defer s.Close()
	scores := s.Scale(s.MatMul(q, s.Transpose(k, -2, -1)), scale)
	if mask != nil {
		scores = s.Add(scores, mask)
	}
	out := s.MatMul(s.Softmax(scores, -1), v)
	require.NoError(t, s.Err())
	return must(t)(s.Release(out), nil)
}

func maxAbsDiff(t *testing.T, a, b *Tensor) float64 {
	t.Helper()
	x, y := f64s(t, a), f64s(t, b)
	require.Equal(t, len(x), len(y))
	d := 0.0
	for i := range x {
		d = math.Max(d, math.Abs(x[i]-y[i]))
	}
	return d
}

func TestScaledDotProductAttention(t *testing.T) {
	require.NoError(t, ManualSeed(3))
	q := must(t)(Randn([]int64{1, 2, 5, 4}, Float64, CPU))
	k := must(t)(Randn([]int64{1, 2, 5, 4}, Float64, CPU))
	v := must(t)(Randn([]int64{1, 2, 5, 3}, Float64, CPU))

	got := must(t)(ScaledDotProductAttention(q, k, v, AttentionOptions{}))
	assert.Equal(t, []int64{1, 2, 5, 3}, got.Shape())
	assert.Less(t, maxAbsDiff(t, got, attentionByHand(t, q, k, v, nil, 0.5)), 1e-12, "default scale 1/sqrt(4)")

	got = must(t)(ScaledDotProductAttention(q, k, v, AttentionOptions{Scale: 0.3}))
	assert.Less(t, maxAbsDiff(t, got, attentionByHand(t, q, k, v, nil, 0.3)), 1e-12)

	// Causal: -Inf above the diagonal.
	mask := make([]float64, 25)
	for i := 0; i < 5; i++ {
		for j := i + 1; j < 5; j++ {
			mask[i*5+j] = math.Inf(-1)
		}
	}
	causal := must(t)(FromFloat64s(mask, 5, 5))
	got = must(t)(ScaledDotProductAttention(q, k, v, AttentionOptions{Causal: true}))
	assert.Less(t, maxAbsDiff(t, got, attentionByHand(t, q, k, v, causal, 0.5)), 1e-12, "is_causal")

	// An additive float mask, broadcast from [1, 1, 1, Lk] (BERT's padding mask).
	pad := must(t)(FromFloat64s([]float64{0, 0, 0, -1e9, -1e9}, 1, 1, 1, 5))
	got = must(t)(ScaledDotProductAttention(q, k, v, AttentionOptions{Mask: pad}))
	assert.Less(t, maxAbsDiff(t, got, attentionByHand(t, q, k, v, pad, 0.5)), 1e-12, "additive mask")

	// One query against a longer key sequence (a KV-cache step).
	q1 := must(t)(Narrow(q, 2, 4, 1))
	got = must(t)(ScaledDotProductAttention(q1, k, v, AttentionOptions{}))
	assert.Equal(t, []int64{1, 2, 1, 3}, got.Shape())
	assert.Less(t, maxAbsDiff(t, got, attentionByHand(t, q1, k, v, nil, 0.5)), 1e-12)

	s := NewScope()
	assert.Nil(t, s.ScaledDotProductAttention(q, k, nil, AttentionOptions{}))
	assert.ErrorIs(t, s.Err(), ErrNil)
	_, err := ScaledDotProductAttention(q, k, must(t)(Randn([]int64{1, 2, 4, 3}, Float64, CPU)), AttentionOptions{})
	var te *Error
	assert.ErrorAs(t, err, &te, "shape mismatch is libtorch's error")
}
