package classical

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// lqApply gives LAPACK's dgelqf and dormlq results (gonum's), to rounding,
// on rows scaled from 1e-4 to 1e6.
func TestLQApplyMatchesLAPACK(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	p, n := 6, 500
	a := make([]float64, p*n)
	for i := range a {
		a[i] = rnd.NormFloat64() * math.Pow(10, float64(i/n)*2-4) // rows scaled 1e-4 .. 1e6
	}
	z := make([]float64, n)
	for i := range z {
		z[i] = rnd.NormFloat64()
	}
	want, wz := append([]float64(nil), a...), append([]float64(nil), z...)
	g := blas64.General{Rows: p, Cols: n, Stride: n, Data: want}
	tau := make([]float64, p)
	work := make([]float64, 64*n)
	lapack64.Gelqf(g, tau, work, len(work))
	lapack64.Ormlq(blas.Left, blas.NoTrans, g, tau, blas64.General{Rows: n, Cols: 1, Stride: 1, Data: wz}, work, len(work))

	lqApply(a, p, n, z)
	for j := 0; j < p; j++ { // L, on and below the diagonal
		for k := 0; k <= j; k++ {
			assert.InDelta(t, want[j*n+k], a[j*n+k], 1e-12*math.Abs(want[j*n+k])+1e-300, "L[%d,%d]", j, k)
		}
	}
	zmax := 0.0
	for _, v := range wz {
		zmax = math.Max(zmax, math.Abs(v))
	}
	for i := range z {
		assert.InDelta(t, wz[i], z[i], 1e-12*zmax, "(Q·z)[%d]", i)
	}
}
