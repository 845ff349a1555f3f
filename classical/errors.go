package classical

import (
	"errors"
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// Errors returned for bad data. They are wrapped with detail; test for them
// with errors.Is.
var (
	// ErrEmpty is returned when the input has no rows or no columns.
	ErrEmpty = errors.New("classical: empty input")
	// ErrNotFinite is returned when the input holds a NaN or an infinity.
	ErrNotFinite = errors.New("classical: input is not finite")
	// ErrLength is returned when the number of targets or labels does not
	// match the number of rows.
	ErrLength = errors.New("classical: length mismatch")
	// ErrRankDeficient is returned when a design matrix does not have full
	// column rank, so least squares has no unique solution.
	ErrRankDeficient = errors.New("classical: rank-deficient design matrix")
	// ErrParam is returned for an out-of-range setting (C <= 0, k < 1, ...).
	ErrParam = errors.New("classical: invalid parameter")
	// ErrTooFewRows is returned when there are fewer rows than the algorithm
	// needs (e.g. k > n for k-means).
	ErrTooFewRows = errors.New("classical: too few rows")
	// ErrClasses is returned when a classifier sees fewer than two classes.
	ErrClasses = errors.New("classical: need at least two classes")
)

const (
	panicNotFitted = "classical: model used before a successful Fit"
	panicShape     = "classical: dimension mismatch"
)

// denseRows returns the rows of X as one row-major slice with stride c, and
// checks that X is non-empty and finite. The slice aliases X's storage when
// X is a *mat.Dense with a contiguous layout; callers must not modify it.
func denseRows(X mat.Matrix) (data []float64, r, c int, err error) {
	if data, r, c, err = rawRows(X); err != nil {
		return nil, r, c, err
	}
	if err := checkFinite(data); err != nil {
		return nil, r, c, err
	}
	return data, r, c, nil
}

// rawRows is denseRows without the finiteness check, for a caller that
// checks while it makes its own pass over the data.
func rawRows(X mat.Matrix) (data []float64, r, c int, err error) {
	r, c = X.Dims()
	if r == 0 || c == 0 {
		return nil, r, c, ErrEmpty
	}
	if d, ok := X.(mat.RawMatrixer); ok {
		if raw := d.RawMatrix(); raw.Stride == c {
			return raw.Data[:r*c], r, c, nil
		}
	}
	data = make([]float64, r*c)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			data[i*c+j] = X.At(i, j)
		}
	}
	return data, r, c, nil
}

// checkFinite reports ErrNotFinite for the first NaN or infinity in s.
func checkFinite(s []float64) error {
	for i, v := range s {
		// v-v is 0 for every finite v and NaN for NaN and ±Inf: one
		// comparison per element instead of two.
		if v-v != 0 {
			return fmt.Errorf("%w: element %d is %v", ErrNotFinite, i, v)
		}
	}
	return nil
}
