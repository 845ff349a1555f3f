package classical

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/mat"
)

func TestLinearRegressionExact(t *testing.T) {
	// y = 3 + 2·x1 − x2 holds exactly, so least squares must recover the
	// coefficients to rounding error.
	rnd := rand.New(rand.NewPCG(1, 2))
	n := 50
	X := mat.NewDense(n, 2, nil)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		x1, x2 := rnd.NormFloat64()*10, rnd.Float64()*100
		X.Set(i, 0, x1)
		X.Set(i, 1, x2)
		y[i] = 3 + 2*x1 - x2
	}
	var lr LinearRegression
	require.NoError(t, lr.Fit(X, y))
	coef := lr.Coef()
	assert.True(t, scalar.EqualWithinAbsOrRel(coef[0], 2, 1e-10, 1e-10), "coef[0] = %v", coef[0])
	assert.True(t, scalar.EqualWithinAbsOrRel(coef[1], -1, 1e-10, 1e-10), "coef[1] = %v", coef[1])
	assert.True(t, scalar.EqualWithinAbsOrRel(lr.Intercept(), 3, 1e-10, 1e-10), "intercept = %v", lr.Intercept())
	pred := lr.Predict(X, nil)
	for i := range pred {
		assert.True(t, scalar.EqualWithinAbsOrRel(pred[i], y[i], 1e-9, 1e-10))
	}
	assert.InDelta(t, 1, R2(y, pred), 1e-12)
}

func TestLinearRegressionKnown(t *testing.T) {
	// Simple regression of y on x for x = 1..5, y = 2,4,5,4,5, by hand:
	// x̄ = 3, ȳ = 4, Sxy = 6, Sxx = 10, so slope 0.6 and intercept 2.2;
	// residuals −0.8, 0.6, 1, −0.6, −0.2 give SSres = 2.4, SStot = 6,
	// R² = 0.6 and RMSE = √0.48.
	X := mat.NewDense(5, 1, []float64{1, 2, 3, 4, 5})
	y := []float64{2, 4, 5, 4, 5}
	var lr LinearRegression
	require.NoError(t, lr.Fit(X, y))
	assert.InDelta(t, 0.6, lr.Coef()[0], 1e-14)
	assert.InDelta(t, 2.2, lr.Intercept(), 1e-14)
	pred := lr.Predict(X, make([]float64, 5))
	assert.InDelta(t, 0.6, R2(y, pred), 1e-14)
	assert.InDelta(t, math.Sqrt(0.48), RMSE(y, pred), 1e-14)

	// Two features; values calculated by scikit-learn 1.9.1
	// LinearRegression().fit(X, y) (coef_, intercept_, predict(X)).
	X = mat.NewDense(7, 2, []float64{1, 2, 2, 1, 3, 5, 4, 3, 5, 8, 6, 5, 7, 9})
	y = []float64{3.1, 2.9, 7.2, 6.8, 12.1, 10.9, 15.2}
	require.NoError(t, lr.Fit(X, y))
	wantCoef := []float64{1.1033898305084744, 0.8220338983050849}
	wantPred := []float64{2.7728813559322045, 3.054237288135594, 7.4457627118644085,
		6.9050847457627125, 12.118644067796613, 10.755932203389833, 15.147457627118644}
	for j, w := range wantCoef {
		assert.True(t, scalar.EqualWithinAbsOrRel(lr.Coef()[j], w, 1e-12, 1e-12), "coef[%d] = %v, want %v", j, lr.Coef()[j], w)
	}
	assert.True(t, scalar.EqualWithinAbsOrRel(lr.Intercept(), 0.025423728813560587, 1e-12, 1e-12), "intercept %v", lr.Intercept())
	for i, p := range lr.Predict(X, nil) {
		assert.True(t, scalar.EqualWithinAbsOrRel(p, wantPred[i], 1e-12, 1e-12))
	}
}

func TestLinearRegressionNormalEquations(t *testing.T) {
	// A noisy, well-conditioned problem: the QR solution must agree with the
	// normal equations [1 X]ᵀ[1 X] β = [1 X]ᵀ y solved by Cholesky.
	rnd := rand.New(rand.NewPCG(3, 4))
	n, p := 200, 5
	X := mat.NewDense(n, p, nil)
	A := mat.NewDense(n, p+1, nil)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		A.Set(i, 0, 1)
		for j := 0; j < p; j++ {
			v := rnd.NormFloat64() + float64(j)
			X.Set(i, j, v)
			A.Set(i, j+1, v)
			y[i] += float64(j+1) * v
		}
		y[i] += 0.5 + rnd.NormFloat64()
	}
	var ata mat.SymDense
	ata.SymOuterK(1, A.T())
	var ch mat.Cholesky
	require.True(t, ch.Factorize(&ata))
	var aty, beta mat.VecDense
	aty.MulVec(A.T(), mat.NewVecDense(n, y))
	require.NoError(t, ch.SolveVecTo(&beta, &aty))

	var lr LinearRegression
	require.NoError(t, lr.Fit(X, y))
	assert.True(t, scalar.EqualWithinAbsOrRel(lr.Intercept(), beta.AtVec(0), 1e-9, 1e-9))
	for j, c := range lr.Coef() {
		assert.True(t, scalar.EqualWithinAbsOrRel(c, beta.AtVec(j+1), 1e-9, 1e-9), "coef[%d]", j)
	}
}

func TestLinearRegressionBadInput(t *testing.T) {
	var lr LinearRegression
	good := mat.NewDense(4, 2, []float64{1, 0, 0, 1, 1, 1, 2, 3})
	y := []float64{1, 2, 3, 4}

	nan := mat.DenseCopyOf(good)
	nan.Set(2, 1, math.NaN())
	assert.ErrorIs(t, lr.Fit(nan, y), ErrNotFinite)
	inf := mat.DenseCopyOf(good)
	inf.Set(0, 0, math.Inf(-1))
	assert.ErrorIs(t, lr.Fit(inf, y), ErrNotFinite)
	assert.ErrorIs(t, lr.Fit(good, []float64{1, 2, math.Inf(1), 4}), ErrNotFinite)
	assert.ErrorIs(t, lr.Fit(good, y[:3]), ErrLength)
	assert.ErrorIs(t, lr.Fit(&mat.Dense{}, nil), ErrEmpty)
	assert.ErrorIs(t, lr.Fit(mat.NewDense(2, 2, []float64{1, 2, 3, 4}), []float64{1, 2}), ErrTooFewRows)

	// Second column is twice the first: no unique solution.
	dup := mat.NewDense(4, 2, []float64{1, 2, 2, 4, 3, 6, 5, 10})
	assert.ErrorIs(t, lr.Fit(dup, y), ErrRankDeficient)
	// A constant column is collinear with the intercept.
	cst := mat.NewDense(4, 2, []float64{1, 7, 2, 7, 3, 7, 5, 7})
	err := lr.Fit(cst, y)
	assert.True(t, errors.Is(err, ErrRankDeficient), "%v", err)

	assert.Panics(t, func() { lr.Coef() }, "unfitted after a failed Fit")
	require.NoError(t, lr.Fit(good, y))
	assert.Panics(t, func() { lr.Predict(mat.NewDense(2, 3, nil), nil) })
	assert.Panics(t, func() { lr.Predict(good, make([]float64, 3)) })
}
