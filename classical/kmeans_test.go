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

// blobs returns n rows of d features around k well-separated centres
// (10·j along every axis, unit noise) and the true labels.
func blobs(n, d, k int, seed uint64) (*mat.Dense, []int) {
	rnd := rand.New(rand.NewPCG(seed, seed))
	X := mat.NewDense(n, d, nil)
	y := make([]int, n)
	for i := 0; i < n; i++ {
		y[i] = rnd.IntN(k)
		for j := 0; j < d; j++ {
			X.Set(i, j, 10*float64(y[i])*float64(1+j%3)+rnd.NormFloat64())
		}
	}
	return X, y
}

func TestKMeansRecoversBlobs(t *testing.T) {
	X, y := blobs(5000, 3, 4, 1)
	km := NewKMeans(4)
	require.NoError(t, km.Fit(X, rand.New(rand.NewPCG(42, 42))))
	labels := km.Labels()
	assert.Equal(t, 1.0, AdjustedRandIndex(y, labels))

	// At convergence each centre is the mean of its rows, so the inertia is
	// the within-cluster sum of squares about the true groups' means.
	n, d := X.Dims()
	means := mat.NewDense(4, d, nil)
	counts := make([]float64, 4)
	for i := 0; i < n; i++ {
		counts[labels[i]]++
		for j := 0; j < d; j++ {
			means.Set(labels[i], j, means.At(labels[i], j)+X.At(i, j))
		}
	}
	for c := 0; c < 4; c++ {
		for j := 0; j < d; j++ {
			means.Set(c, j, means.At(c, j)/counts[c])
		}
	}
	want := Inertia(X, means, labels)
	assert.True(t, scalar.EqualWithinAbsOrRel(km.Inertia(), want, 1e-9, 1e-9), "inertia %v, want %v", km.Inertia(), want)
	assert.True(t, mat.EqualApprox(km.Centers(), means, 1e-9))
	assert.Equal(t, labels, km.Predict(X, nil))
	assert.LessOrEqual(t, km.Iterations(), 10)
}

func TestKMeansDeterministic(t *testing.T) {
	// The same seed gives the same result whatever the number of
	// goroutines (partial sums are reduced in block order).
	X, _ := blobs(3*blockRows+17, 5, 6, 2)
	var res []*KMeans
	for _, procs := range []int{1, 2, 3} {
		old := runtime.GOMAXPROCS(procs)
		km := NewKMeans(6)
		err := km.Fit(X, rand.New(rand.NewPCG(7, 7)))
		runtime.GOMAXPROCS(old)
		require.NoError(t, err)
		res = append(res, km)
	}
	for _, km := range res[1:] {
		assert.Equal(t, res[0].Inertia(), km.Inertia())
		assert.Equal(t, res[0].Labels(), km.Labels())
		assert.True(t, mat.Equal(res[0].Centers(), km.Centers()))
	}
}

func TestKMeansEmptyClusterAndDuplicates(t *testing.T) {
	// Four distinct points, two of them repeated, and k = 4: every point
	// ends as its own cluster and the inertia is 0.
	X := mat.NewDense(6, 1, []float64{0, 0, 0, 1, 5, 9})
	km := NewKMeans(4)
	require.NoError(t, km.Fit(X, rand.New(rand.NewPCG(1, 1))))
	assert.InDelta(t, 0, km.Inertia(), 1e-12)
	l := km.Labels()
	assert.Equal(t, l[0], l[1])
	assert.Equal(t, l[0], l[2])
	assert.Equal(t, 1.0, AdjustedRandIndex(l, []int{0, 0, 0, 1, 2, 3}))
}

func TestKMeansBadInput(t *testing.T) {
	X := mat.NewDense(3, 2, []float64{0, 0, 1, 1, 2, 2})
	src := rand.New(rand.NewPCG(1, 1))
	assert.ErrorIs(t, NewKMeans(4).Fit(X, src), ErrTooFewRows)
	assert.ErrorIs(t, NewKMeans(0).Fit(X, src), ErrParam)
	assert.ErrorIs(t, (&KMeans{K: 2, MaxIter: 0}).Fit(X, src), ErrParam)
	assert.ErrorIs(t, (&KMeans{K: 2, MaxIter: 10, Tol: -1}).Fit(X, src), ErrParam)
	assert.ErrorIs(t, NewKMeans(2).Fit(&mat.Dense{}, src), ErrEmpty)
	nan := mat.DenseCopyOf(X)
	nan.Set(2, 0, math.NaN())
	assert.ErrorIs(t, NewKMeans(2).Fit(nan, src), ErrNotFinite)
	inf := mat.DenseCopyOf(X)
	inf.Set(0, 1, math.Inf(1))
	assert.ErrorIs(t, NewKMeans(2).Fit(inf, src), ErrNotFinite)
	km := NewKMeans(2)
	assert.Panics(t, func() { km.Labels() })
	require.NoError(t, km.Fit(X, nil))
	assert.Panics(t, func() { km.Predict(mat.NewDense(1, 3, nil), nil) })
}

func TestKMeansFromGivenCentres(t *testing.T) {
	X, y := blobs(3000, 3, 4, 7)
	init, err := KMeansPlusPlus(X, 4, rand.New(rand.NewPCG(42, 42)))
	require.NoError(t, err)
	r, c := init.Dims()
	require.Equal(t, [2]int{4, 3}, [2]int{r, c})

	// Starting from the centres k-means++ drew is the same as letting Fit
	// draw them from the same source.
	a := NewKMeans(4)
	require.NoError(t, a.Fit(X, rand.New(rand.NewPCG(42, 42))))
	b := NewKMeans(4)
	b.Init = init
	require.NoError(t, b.Fit(X, nil))
	assert.Equal(t, a.Labels(), b.Labels())
	assert.Equal(t, a.Inertia(), b.Inertia())
	assert.Equal(t, 1.0, AdjustedRandIndex(y, b.Labels()))
	assert.True(t, mat.Equal(init, b.Init), "Fit does not modify Init")

	bad := NewKMeans(4)
	bad.Init = mat.NewDense(3, 3, nil)
	assert.ErrorIs(t, bad.Fit(X, nil), ErrParam)
	_, err = KMeansPlusPlus(X, 0, rand.New(rand.NewPCG(1, 1)))
	assert.ErrorIs(t, err, ErrParam)
}
