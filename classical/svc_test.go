package classical

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/mat"
)

func TestSVCBinarySeparable(t *testing.T) {
	// (−1,−1), (−2,−2) in class 0 and (1,1), (2,2) in class 1. The
	// maximum-margin separator passes through the origin with margin
	// points (±1,±1): w·(1,1) = ±1 gives w = ±(0.5, 0.5), b = 0, and
	// α = 0.25 for the two support vectors (≤ C = 1, so the soft margin
	// changes nothing). Class 0 is the positive class of the pair, so
	// w = (−0.5, −0.5). scikit-learn 1.9.1 gives coef_ = [[0.5, 0.5]]
	// (sign flipped for two classes), intercept_ = [0], n_support_ = [1 1].
	X := mat.NewDense(4, 2, []float64{-1, -1, -2, -2, 1, 1, 2, 2})
	y := []float64{0, 0, 1, 1}
	s := SVC{}
	require.NoError(t, s.Fit(X, y))
	assert.True(t, s.Converged())
	w := s.Coef()
	assert.InDelta(t, -0.5, w.At(0, 0), 1e-12)
	assert.InDelta(t, -0.5, w.At(0, 1), 1e-12)
	assert.InDelta(t, 0, s.Intercept()[0], 1e-12)
	assert.Equal(t, []int{1, 1}, s.NumSupport())
	assert.Equal(t, []float64{0, 1}, s.Classes())
	assert.Equal(t, y, s.Predict(X, nil))
	var dec mat.Dense
	s.DecisionFunction(&dec, mat.NewDense(2, 2, []float64{-1, -1, 3, 0}))
	assert.InDelta(t, 1, dec.At(0, 0), 1e-12)    // on the margin of class 0
	assert.InDelta(t, -1.5, dec.At(1, 0), 1e-12) // −0.5·3
}

func TestSVCThreeClasses(t *testing.T) {
	// Three groups around (0,0), (5,0), (0,5) plus one point of each class
	// near the middle. Values calculated by scikit-learn 1.9.1
	// SVC(kernel="linear").fit(X, y): coef_, intercept_, n_support_, and
	// the predictions of (2.5,2.5), (4,0.5), (0.5,4) (classes 0, 1, 2).
	X := mat.NewDense(12, 2, []float64{0, 0, 1, 0, 0, 1, 5, 0, 6, 0, 5, 1, 0, 5, 1, 5, 0, 6, 2, 2, 3, 1, 1, 3})
	y := []float64{0, 0, 0, 1, 1, 1, 2, 2, 2, 0, 1, 2}
	wantCoef := [][]float64{{-1.2, 0.6000000000000001}, {0.6000000000000001, -1.2}, {0.5, -0.5}}
	wantB := []float64{2.1999999999999997, 2.1999999999999997, 0}

	for _, procs := range []int{1, 2} {
		old := runtime.GOMAXPROCS(procs)
		s := SVC{C: 1, Tol: 1e-3}
		err := s.Fit(X, y)
		runtime.GOMAXPROCS(old)
		require.NoError(t, err)
		w := s.Coef()
		for k := range wantCoef {
			for j := range wantCoef[k] {
				assert.True(t, scalar.EqualWithinAbsOrRel(w.At(k, j), wantCoef[k][j], 1e-6, 1e-6), "coef[%d,%d] = %v", k, j, w.At(k, j))
			}
			assert.True(t, scalar.EqualWithinAbsOrRel(s.Intercept()[k], wantB[k], 1e-6, 1e-6), "b[%d] = %v", k, s.Intercept()[k])
		}
		assert.Equal(t, []int{3, 1, 1}, s.NumSupport())
		assert.Equal(t, y, s.Predict(X, nil))
		assert.Equal(t, []float64{0, 1, 2}, s.Predict(mat.NewDense(3, 2, []float64{2.5, 2.5, 4, 0.5, 0.5, 4}), nil))
	}
}

func TestSVCVoteTie(t *testing.T) {
	// Three classes on a line; a point whose three pairwise votes go one
	// to each class must be predicted as the lowest class (LIBSVM).
	s := SVC{}
	require.NoError(t, s.Fit(mat.NewDense(3, 1, []float64{0, 1, 2}), []float64{7, 8, 9}))
	// Force one vote each: pair (7,8) votes 7, (7,9) votes 9, (8,9) votes 8.
	s.coef = mat.NewDense(3, 1, []float64{0, 0, 0})
	s.intercept = []float64{1, -1, 1}
	assert.Equal(t, []float64{7}, s.Predict(mat.NewDense(1, 1, []float64{0}), nil))
}

func TestSVCManyRows(t *testing.T) {
	// Gaussian classes with small overlap and a small kernel cache, so rows
	// are evicted: the fit must still converge and classify most rows,
	// and must not depend on the cache size.
	rnd := rand.New(rand.NewPCG(5, 6))
	n, p := 600, 4
	X := mat.NewDense(n, p, nil)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		c := i % 3
		y[i] = float64(c)
		for j := 0; j < p; j++ {
			X.Set(i, j, rnd.NormFloat64()+3*float64(c)*float64(j%2*2-1))
		}
	}
	big := SVC{}
	require.NoError(t, big.Fit(X, y))
	small := SVC{CacheBytes: 8 * 400 * 10}
	require.NoError(t, small.Fit(X, y))
	assert.True(t, big.Converged() && small.Converged())
	assert.Equal(t, big.Iterations(), small.Iterations())
	assert.True(t, mat.EqualApprox(big.Coef(), small.Coef(), 1e-12))
	assert.Greater(t, Accuracy(y, big.Predict(X, nil)), 0.95)
}

func TestSVCBadInput(t *testing.T) {
	X := mat.NewDense(4, 2, []float64{-1, -1, -2, -2, 1, 1, 2, 2})
	y := []float64{0, 0, 1, 1}
	var s SVC
	nan := mat.DenseCopyOf(X)
	nan.Set(1, 1, math.NaN())
	assert.ErrorIs(t, s.Fit(nan, y), ErrNotFinite)
	inf := mat.DenseCopyOf(X)
	inf.Set(1, 1, math.Inf(1))
	assert.ErrorIs(t, s.Fit(inf, y), ErrNotFinite)
	assert.ErrorIs(t, s.Fit(X, []float64{0, 0, math.NaN(), 1}), ErrNotFinite)
	assert.ErrorIs(t, s.Fit(X, y[:3]), ErrLength)
	assert.ErrorIs(t, s.Fit(&mat.Dense{}, nil), ErrEmpty)
	assert.ErrorIs(t, s.Fit(X, []float64{1, 1, 1, 1}), ErrClasses)
	assert.ErrorIs(t, (&SVC{C: -1}).Fit(X, y), ErrParam)
	assert.ErrorIs(t, (&SVC{Tol: math.NaN()}).Fit(X, y), ErrParam)
	assert.Panics(t, func() { s.Predict(X, nil) })
	require.NoError(t, s.Fit(X, y))
	assert.Panics(t, func() { s.Predict(mat.NewDense(1, 3, nil), nil) })
}
