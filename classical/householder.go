package classical

import (
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/lapack/gonum"
)

// lqApply computes in place the LQ factorisation a = L·Q of the p×n
// row-major matrix a (p ≤ n), as LAPACK's dgelq2 does (Q = H(p)···H(1),
// H(j) = I − τⱼ·vⱼ·vⱼᵀ, L on and below the diagonal, vⱼ to the right of
// it), and applies Q to z (length n) as dormlq(Left, NoTrans) would. For
// the tall-skinny least squares of LinearRegression (p features, n rows)
// it does in one pass what Gelqf and Ormlq do in two, with every reflection
// a dot product and an axpy over contiguous memory: gonum's Ormlq on a
// single column runs a gemv and a ger per row of z, and its Dnrm2 scales
// every element; here the norm is one dot product where that cannot
// overflow or underflow (else gonum's Dlarfg).
func lqApply(a []float64, p, n int, z []float64) {
	for j := 0; j < p; j++ {
		row := a[j*n+j : (j+1)*n]
		tau := reflector(row)
		if tau == 0 {
			continue // H(j) = I
		}
		v := row[1:]
		for i := j + 1; i < p; i++ {
			reflect(a[i*n+j:(i+1)*n], v, tau)
		}
		reflect(z[j:], v, tau)
	}
}

// reflector turns x into the Householder reflector that maps it to
// (β, 0, ..., 0), as dlarfg: x[0] = β, x[1:] = v[1:] (v[0] = 1 implied);
// it returns τ (0: the reflector is the identity).
func reflector(x []float64) float64 {
	alpha, rest := x[0], x[1:]
	ss := floats.Dot(rest, rest)
	if ss == 0 {
		return 0
	}
	if !(ss > 0x1p-960 && ss < 0x1p960) || math.Abs(alpha) > 0x1p480 {
		beta, tau := gonum.Implementation{}.Dlarfg(len(x), alpha, rest, 1)
		x[0] = beta
		return tau
	}
	beta := -math.Copysign(math.Hypot(alpha, math.Sqrt(ss)), alpha)
	floats.Scale(1/(alpha-beta), rest)
	x[0] = beta
	return (beta - alpha) / beta
}

// reflect applies I − τ·v·vᵀ (v = (1, v...)) to r.
func reflect(r, v []float64, tau float64) {
	w := tau * (r[0] + floats.Dot(r[1:], v))
	r[0] -= w
	floats.AddScaled(r[1:], -w, v)
}
