package stats

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuantileMatchesNumPy(t *testing.T) {
	// Values from numpy.quantile([1, 2, 3, 4, 10], q) (linear interpolation).
	v := []float64{1, 2, 3, 4, 10}
	assert.InDelta(t, 3.0, Quantile(v, 0.5), 1e-12)
	assert.InDelta(t, 2.0, Quantile(v, 0.25), 1e-12)
	assert.InDelta(t, 7.6, Quantile(v, 0.9), 1e-12)
	assert.InDelta(t, 9.76, Quantile(v, 0.99), 1e-12)
	assert.Equal(t, 5.0, Quantile([]float64{5}, 0.99))
}

func TestSummarize(t *testing.T) {
	v := []float64{1.10, 1.00, 1.05, 1.02, 1.01, 1.03, 1.04, 1.00, 1.02, 1.03}
	s := Summarize(v)
	assert.Equal(t, 10, s.N)
	assert.InDelta(t, 1.025, s.Median, 1e-12)
	assert.Equal(t, 1.0, s.Min)
	assert.Equal(t, 1.10, s.Max)
	require.True(t, s.HasCI)
	// Order-statistic CI for n=10 at 95%: (x(2), x(9)) of the sorted sample.
	assert.Equal(t, 1.00, s.Lo)
	assert.Equal(t, 1.05, s.Hi)
	assert.Empty(t, s.Warnings)
}

func TestSummarizeWarnsTooFewAndNoisy(t *testing.T) {
	s := Summarize([]float64{1, 2, 3})
	assert.False(t, s.HasCI)
	assert.Equal(t, s.Median, s.Lo)
	require.Len(t, s.Warnings, 2)
	assert.Contains(t, s.Warnings[0], "need >= 6 samples")
	assert.Contains(t, s.Warnings[1], "noisy")

	s = Summarize([]float64{1e-6, 1e-6, 1e-6, 1e-6, 1e-6, 1e-6})
	assert.Contains(t, s.Warnings[len(s.Warnings)-1], "too short")
}

func TestMedianRatio(t *testing.T) {
	a := []float64{2, 2.1, 1.9, 2, 2.05, 1.95}
	b := []float64{1, 1.05, 0.95, 1, 1.02, 0.98}
	r := MedianRatio(a, b)
	assert.InDelta(t, 2.0, r.Ratio, 1e-12)
	require.True(t, r.HasCI)
	assert.Less(t, r.Lo, 2.0)
	assert.Greater(t, r.Hi, 2.0)
	assert.Greater(t, r.Lo, 1.7)
	assert.Less(t, r.Hi, 2.3)
	assert.Equal(t, r, MedianRatio(a, b), "deterministic")
	assert.False(t, MedianRatio([]float64{1}, []float64{2}).HasCI)
}

func TestCompare(t *testing.T) {
	old := []float64{1.00, 1.01, 1.02, 0.99, 1.00, 1.01, 1.00, 0.99}
	faster := []float64{0.80, 0.81, 0.79, 0.80, 0.82, 0.80, 0.81, 0.79}
	c := Compare(old, faster)
	assert.True(t, c.Significant)
	assert.Less(t, c.P, 0.01)
	assert.Equal(t, "-20.0% (p=0.000)", c.Delta())

	same := []float64{1.00, 1.02, 0.99, 1.01, 1.00, 0.99, 1.01, 1.00}
	c = Compare(old, same)
	assert.False(t, c.Significant)
	assert.Contains(t, c.Delta(), "~")

	// Too few samples: never significant.
	c = Compare([]float64{1, 1.1}, []float64{2, 2.1})
	assert.False(t, c.Significant)
	assert.NotEmpty(t, c.Warnings)
}

// For large samples MedianRatio draws each resample's median from its order
// statistics instead of resampling; its interval must match the one that
// plain resampling gives (computed here the slow way).
func TestMedianRatioLargeSamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	mk := func(n int, scale float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = scale * (1 + rng.ExpFloat64())
		}
		return v
	}
	num, den := mk(1501, 1.2), mk(1000, 1) // an odd and an even size
	require.Greater(t, len(den), directMedianN)
	got := MedianRatio(num, den)

	const B = 2000
	rs := make([]float64, B)
	bn, bd := make([]float64, len(num)), make([]float64, len(den))
	for b := range rs {
		for i := range bn {
			bn[i] = num[rng.IntN(len(num))]
		}
		for i := range bd {
			bd[i] = den[rng.IntN(len(den))]
		}
		rs[b] = median(bn) / median(bd)
	}
	slices.Sort(rs)
	lo, hi := Quantile(rs, 0.025), Quantile(rs, 0.975)
	// Both are Monte Carlo estimates of the same interval: they agree to
	// within a few per cent of its width.
	w := hi - lo
	assert.InDelta(t, lo, got.Lo, 0.1*w)
	assert.InDelta(t, hi, got.Hi, 0.1*w)
	assert.Less(t, got.Lo, got.Ratio)
	assert.Greater(t, got.Hi, got.Ratio)
}
