package classical

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// LinearRegression is ordinary least squares with an intercept:
//
//	minimise ‖y − Xβ − β₀‖²
//
// It is solved as scikit-learn's LinearRegression does: the columns of X and
// y are centred on their means, the centred problem is solved by least
// squares, and the intercept is β₀ = ȳ − x̄·β. Least squares uses a
// Householder QR factorisation of the centred X (computed as the LQ
// factorisation of its transpose, LAPACK's dgelq2 and dormlq in one pass
// (lqApply), so that reflections run over contiguous memory, then gonum's
// dtrtrs), which is backward stable
// (Golub & Van Loan, Matrix Computations, 4th ed., §5.3) and avoids squaring
// the condition number as the normal equations would.
//
// The zero value is ready to use.
type LinearRegression struct {
	coef      []float64
	intercept float64
}

// Fit fits the model to the rows of X and the targets y. It returns an error
// wrapping ErrEmpty, ErrLength, ErrNotFinite, ErrTooFewRows or
// ErrRankDeficient when the data do not determine a unique solution; the
// receiver is then left unfitted.
func (lr *LinearRegression) Fit(X mat.Matrix, y []float64) error {
	lr.coef = nil
	data, n, p, err := rawRows(X) // checked for NaN and ±Inf below, in the transposing pass
	if err != nil {
		return err
	}
	if len(y) != n {
		return fmt.Errorf("%w: %d targets for %d rows", ErrLength, len(y), n)
	}
	if err := checkFinite(y); err != nil {
		return fmt.Errorf("y: %w", err)
	}
	// Centred data has rank at most n-1, so n > p rows are needed.
	if n <= p {
		return fmt.Errorf("%w: %d rows for %d features and an intercept", ErrTooFewRows, n, p)
	}

	// One pass over X: transpose it into A = Xᵀ (p×n, row-major, so that
	// every Householder reflection below runs over a contiguous row), sum
	// each column in row order and check for NaN and ±Inf (v-v is 0 only
	// for finite v); then centre each row of A on its mean. The LQ
	// factorisation A = L·Q (LAPACK dgelq2) of the centred A = X_cᵀ is the
	// QR factorisation X_c = Qᵀ·Lᵀ, R = Lᵀ, of the tall-skinny X_c.
	at := make([]float64, p*n)
	xMean := make([]float64, p)
	bad := false
	for i := 0; i < n; i++ {
		row := data[i*p : (i+1)*p]
		for j, v := range row {
			at[j*n+i] = v
			xMean[j] += v
			bad = bad || v-v != 0
		}
	}
	if bad {
		return checkFinite(data)
	}
	floats.Scale(1/float64(n), xMean)
	for j, m := range xMean {
		floats.AddConst(-m, at[j*n:(j+1)*n])
	}
	yMean := floats.Sum(y) / float64(n)
	z := make([]float64, n)
	for i, v := range y {
		z[i] = v - yMean
	}
	// A = L·Q, and z = Q·y_c (see lqApply).
	lqApply(at, p, n, z)

	// Rank test on the diagonal of R = Lᵀ, with the tolerance
	// numpy.linalg.lstsq and LAPACK dgelsd use for their default rcond:
	// max(n,p)·ε·max|Rⱼⱼ|.
	maxDiag := 0.0
	for j := 0; j < p; j++ {
		maxDiag = math.Max(maxDiag, math.Abs(at[j*n+j]))
	}
	tol := float64(max(n, p)) * eps * maxDiag
	for j := 0; j < p; j++ {
		if d := math.Abs(at[j*n+j]); d <= tol {
			return fmt.Errorf("%w: |R[%d,%d]| = %g <= %g", ErrRankDeficient, j, j, d, tol)
		}
	}

	// min ‖X_c·β − y_c‖ = min ‖Lᵀ·β − Q·y_c‖: solve the triangular system
	// Lᵀ·β = (Q·y_c)[:p] (dtrtrs).
	l := blas64.Triangular{N: p, Stride: n, Data: at, Uplo: blas.Lower, Diag: blas.NonUnit}
	if !lapack64.Trtrs(blas.Trans, l, blas64.General{Rows: p, Cols: 1, Stride: 1, Data: z[:p]}) {
		return fmt.Errorf("%w: singular triangular factor", ErrRankDeficient)
	}
	coef := append([]float64(nil), z[:p]...)
	lr.coef = coef
	lr.intercept = yMean - floats.Dot(xMean, coef)
	return nil
}

// eps is the machine epsilon of float64, 2⁻⁵².
const eps = 0x1p-52

// Coef returns a copy of the fitted coefficients, one per column of X.
// It panics if the model is not fitted.
func (lr *LinearRegression) Coef() []float64 {
	lr.mustFit()
	return append([]float64(nil), lr.coef...)
}

// Intercept returns the fitted intercept. It panics if the model is not fitted.
func (lr *LinearRegression) Intercept() float64 {
	lr.mustFit()
	return lr.intercept
}

// Predict stores Xβ + β₀ in dst and returns it. If dst is nil a new slice is
// allocated. Predict panics if the model is not fitted, if X does not have
// as many columns as the training data, or if a non-nil dst does not have
// one element per row of X.
func (lr *LinearRegression) Predict(X mat.Matrix, dst []float64) []float64 {
	lr.mustFit()
	n, p := X.Dims()
	if p != len(lr.coef) {
		panic(panicShape)
	}
	if dst == nil {
		dst = make([]float64, n)
	} else if len(dst) != n {
		panic(panicShape)
	}
	v := mat.NewVecDense(n, dst)
	v.MulVec(X, mat.NewVecDense(p, lr.coef))
	floats.AddConst(lr.intercept, dst)
	return dst
}

func (lr *LinearRegression) mustFit() {
	if lr.coef == nil {
		panic(panicNotFitted)
	}
}
