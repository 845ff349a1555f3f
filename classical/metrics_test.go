package classical

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"gonum.org/v1/gonum/mat"
)

func TestAdjustedRandIndex(t *testing.T) {
	for _, c := range []struct {
		a, b []int
		want float64
		why  string
	}{
		{[]int{0, 0, 1, 1, 2}, []int{0, 0, 1, 1, 2}, 1, "identical"},
		{[]int{0, 0, 1, 1, 2}, []int{5, 5, 3, 3, -1}, 1, "permuted label values"},
		// By hand: contingency (0,0)=2, (1,1)=1, (2,1)=1, so Σ C(nij,2) = 1,
		// Σ C(ai,2) = 1, Σ C(bj,2) = 2, E = 1·2/C(4,2) = 1/3, max = 3/2:
		// ARI = (1 − 1/3)/(3/2 − 1/3) = 4/7. scikit-learn's docs give 0.57.
		{[]int{0, 0, 1, 2}, []int{0, 0, 1, 1}, 4.0 / 7, "hand-computed"},
		// Σ C(nij,2) = 0, E = 2·2/6 = 2/3, max = 2: (0 − 2/3)/(2 − 2/3) = −1/2
		// (scikit-learn's docs: −0.5).
		{[]int{0, 0, 1, 1}, []int{0, 1, 0, 1}, -0.5, "anti-correlated"},
		// scikit-learn 1.9.1 adjusted_rand_score gives 0.07407407407407407.
		{[]int{0, 0, 0, 1, 1, 2}, []int{1, 1, 2, 2, 0, 0}, 0.07407407407407407, "sklearn"},
		{[]int{3, 3, 3}, []int{1, 1, 1}, 1, "one cluster each (sklearn: 1)"},
		{[]int{0, 1, 2}, []int{2, 0, 1}, 1, "all singletons (sklearn: 1)"},
	} {
		assert.InDelta(t, c.want, AdjustedRandIndex(c.a, c.b), 1e-15, c.why)
	}
	assert.Panics(t, func() { AdjustedRandIndex([]int{1}, []int{1, 2}) })
}

func TestRegressionAndClassificationMetrics(t *testing.T) {
	// y = 1,2,3,4, predictions 1,2,3,5: SSres = 1, SStot = 5.
	y, p := []float64{1, 2, 3, 4}, []float64{1, 2, 3, 5}
	assert.InDelta(t, 0.8, R2(y, p), 1e-15)
	assert.InDelta(t, 0.5, RMSE(y, p), 1e-15)
	assert.InDelta(t, 0.75, Accuracy(y, p), 1e-15)
	assert.Equal(t, 1.0, R2([]float64{2, 2}, []float64{2, 2}))
	assert.Equal(t, 0.0, R2([]float64{2, 2}, []float64{2, 3}))
	assert.Panics(t, func() { RMSE(y, p[:2]) })
	assert.Panics(t, func() { Accuracy(nil, nil) })
}

func TestInertia(t *testing.T) {
	// Rows (0,0), (2,0) about centre (1,0) and (5,5) about itself: 1+1+0.
	X := mat.NewDense(3, 2, []float64{0, 0, 2, 0, 5, 5})
	C := mat.NewDense(2, 2, []float64{1, 0, 5, 5})
	assert.Equal(t, 2.0, Inertia(X, C, []int{0, 0, 1}))
	assert.Panics(t, func() { Inertia(X, C, []int{0, 0, 2}) })
}
