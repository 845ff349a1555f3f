package classical

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// SVC is a C-support vector classifier with a linear kernel,
// K(x, z) = x·z, extended to several classes one-vs-one as LIBSVM and
// scikit-learn's SVC do (Chang & Lin, "LIBSVM: A library for support vector
// machines", ACM TIST 2(3), 2011, §7): one binary classifier is trained for
// every pair of classes i < j, with class i as +1 and class j as −1, and a
// sample is predicted as the class with the most votes, ties going to the
// lowest class.
//
// Each binary problem is the dual
//
//	min ½ αᵀQα − eᵀα  subject to  0 ≤ αᵢ ≤ C,  yᵀα = 0,  Qᵢⱼ = yᵢyⱼ xᵢ·xⱼ
//
// solved by sequential minimal optimisation with LIBSVM's second-order
// working-set selection (WSS2 of Fan, Chen & Lin, "Working set selection
// using second order information for training support vector machines",
// JMLR 6, 2005, Algorithm 1 and §II), LIBSVM's two-variable update and
// clipping, and LIBSVM's stopping rule m(α) − M(α) < Tol. The bias is
// LIBSVM's: the mean of yᵢ∇f(α)ᵢ over free support vectors, or the middle
// of the feasible interval when there are none. Shrinking is not used: it
// changes the path, not the solution, and the problems here are small.
// Rows of the kernel matrix are computed on demand with gonum BLAS (dgemv)
// and kept in a least-recently-used cache, as LIBSVM does.
//
// With a linear kernel the decision function of each pair is stored as
// w·x + b with w = Σ αᵢyᵢxᵢ, so prediction is one matrix product.
//
// The pairs are trained concurrently by up to GOMAXPROCS goroutines; the
// result does not depend on the number of goroutines.
type SVC struct {
	// C is the penalty of the soft margin; zero means 1.
	C float64
	// Tol is the stopping tolerance on the maximal violating pair;
	// zero means 1e-3 (LIBSVM's and scikit-learn's default).
	Tol float64
	// MaxIter bounds the SMO iterations of each binary problem; zero means
	// LIBSVM's bound, max(10⁷, 100·l) for l training rows. A problem that
	// reaches it keeps its current solution, as LIBSVM does, and
	// Converged reports false.
	MaxIter int
	// CacheBytes bounds the kernel-row cache of each binary problem; zero
	// means 200 MB, scikit-learn's cache_size.
	CacheBytes int

	classes   []float64
	coef      *mat.Dense // one row w per pair
	intercept []float64  // one b per pair
	nSupport  []int      // support vectors per class
	iters     []int      // SMO iterations per pair
	converged bool
}

// Fit trains the classifier on the rows of X with class labels y (any
// float64 values; they are sorted to order the classes). It returns an
// error wrapping ErrEmpty, ErrLength, ErrNotFinite, ErrClasses or ErrParam
// for data or settings that cannot be trained on.
func (s *SVC) Fit(X mat.Matrix, y []float64) error {
	s.coef = nil
	c, tol := s.C, s.Tol
	if c == 0 {
		c = 1
	}
	if tol == 0 {
		tol = 1e-3
	}
	if !(c > 0) || math.IsInf(c, 0) || !(tol > 0) || math.IsInf(tol, 0) || s.MaxIter < 0 || s.CacheBytes < 0 {
		return fmt.Errorf("%w: C=%v, Tol=%v, MaxIter=%d, CacheBytes=%d", ErrParam, s.C, s.Tol, s.MaxIter, s.CacheBytes)
	}
	data, n, p, err := denseRows(X)
	if err != nil {
		return err
	}
	if len(y) != n {
		return fmt.Errorf("%w: %d labels for %d rows", ErrLength, len(y), n)
	}
	if err := checkFinite(y); err != nil {
		return fmt.Errorf("y: %w", err)
	}
	classes, members, err := classMembers(y)
	if err != nil {
		return err
	}
	nc := len(classes)
	f := s.solvePairs(data, n, p, members, c, tol)
	coef, intercept, iters, conv, isSV := f.coef, f.intercept, f.iters, f.conv, f.isSV

	nSupport := make([]int, nc)
	for k, m := range members {
		for _, r := range m {
			if isSV[r] {
				nSupport[k]++
			}
		}
	}
	s.classes, s.coef, s.intercept, s.nSupport, s.iters = classes, coef, intercept, nSupport, iters
	s.converged = !slices.Contains(conv, false)
	return nil
}

// classMembers returns the sorted classes of y and the rows of each class,
// in input order.
func classMembers(y []float64) ([]float64, [][]int, error) {
	classes := slices.Compact(slices.Sorted(slices.Values(y)))
	if len(classes) < 2 {
		return nil, nil, fmt.Errorf("%w: got %d", ErrClasses, len(classes))
	}
	members := make([][]int, len(classes))
	for i, v := range y {
		k, _ := slices.BinarySearch(classes, v)
		members[k] = append(members[k], i)
	}
	return classes, members, nil
}

// pairFits are the one-vs-one binary problems' solutions, in pair order
// (class a < b, a major): weights, intercepts, iterations, convergence,
// and which rows are a support vector of some pair.
type pairFits struct {
	coef      *mat.Dense
	intercept []float64
	iters     []int
	conv      []bool
	isSV      []bool
}

// solvePairs solves every one-vs-one binary problem by SMO, on
// GOMAXPROCS goroutines, each reusing its solver's buffers.
func (s *SVC) solvePairs(data []float64, n, p int, members [][]int, c, tol float64) *pairFits {
	nc := len(members)
	type pair struct{ a, b int }
	var pairs []pair
	for a := 0; a < nc; a++ {
		for b := a + 1; b < nc; b++ {
			pairs = append(pairs, pair{a, b})
		}
	}
	f := &pairFits{coef: mat.NewDense(len(pairs), p, nil), intercept: make([]float64, len(pairs)),
		iters: make([]int, len(pairs)), conv: make([]bool, len(pairs)), isSV: make([]bool, n)}
	var svMu sync.Mutex
	cache := s.CacheBytes
	if cache == 0 {
		cache = 200 << 20
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(pairs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var bp binaryProblem // reused for each pair this goroutine solves
			var rows []int
			for k := range work {
				pr := pairs[k]
				rows = append(append(rows[:0], members[pr.a]...), members[pr.b]...)
				bp.reset(data, p, rows, len(members[pr.a]), c, cache)
				it, ok := bp.solve(tol, s.MaxIter)
				f.iters[k], f.conv[k] = it, ok
				f.intercept[k] = -bp.rho()
				bp.weights(f.coef.RawRowView(k))
				svMu.Lock()
				for t, r := range rows {
					if bp.alpha[t] > 0 {
						f.isSV[r] = true
					}
				}
				svMu.Unlock()
			}
		}()
	}
	for k := range pairs {
		work <- k
	}
	close(work)
	wg.Wait()
	return f
}

// Classes returns the sorted class labels seen by Fit.
func (s *SVC) Classes() []float64 { s.mustFit(); return slices.Clone(s.classes) }

// NumSupport returns the number of support vectors of each class (rows with
// αᵢ > 0 in at least one of the binary problems), in the order of Classes.
func (s *SVC) NumSupport() []int { s.mustFit(); return slices.Clone(s.nSupport) }

// Iterations returns the SMO iterations of each binary problem, in pair
// order (0,1), (0,2), ..., (1,2), ...
func (s *SVC) Iterations() []int { s.mustFit(); return slices.Clone(s.iters) }

// Converged reports whether every binary problem met the stopping rule.
func (s *SVC) Converged() bool { s.mustFit(); return s.converged }

// Coef returns a copy of the weight vectors, one row w per class pair in
// pair order.
func (s *SVC) Coef() *mat.Dense { s.mustFit(); return mat.DenseCopyOf(s.coef) }

// Intercept returns a copy of the biases b, one per class pair.
func (s *SVC) Intercept() []float64 { s.mustFit(); return slices.Clone(s.intercept) }

// DecisionFunction stores in dst the value w·x + b of every class pair for
// every row x of X: dst is n×(pairs). If dst is empty it is resized. A
// positive value votes for the first class of the pair. DecisionFunction
// panics if the model is not fitted or the shapes disagree.
func (s *SVC) DecisionFunction(dst *mat.Dense, X mat.Matrix) {
	s.mustFit()
	_, p := X.Dims()
	if _, cp := s.coef.Dims(); p != cp {
		panic(panicShape)
	}
	dst.Mul(X, s.coef.T())
	raw := dst.RawMatrix()
	for i := 0; i < raw.Rows; i++ {
		floats.Add(raw.Data[i*raw.Stride:i*raw.Stride+raw.Cols], s.intercept)
	}
}

// Predict stores the predicted class of each row of X in dst and returns it;
// a nil dst is allocated. Each pair votes for its first class when its
// decision value is positive and for its second otherwise; the class with
// most votes wins, ties going to the lowest class (LIBSVM's svm_predict).
// Predict panics if the model is not fitted or the shapes disagree.
func (s *SVC) Predict(X mat.Matrix, dst []float64) []float64 {
	s.mustFit()
	n, _ := X.Dims()
	if dst == nil {
		dst = make([]float64, n)
	} else if len(dst) != n {
		panic(panicShape)
	}
	var dec mat.Dense
	s.DecisionFunction(&dec, X)
	nc := len(s.classes)
	votes := make([]int, nc)
	for i := 0; i < n; i++ {
		clear(votes)
		row := dec.RawRowView(i)
		k := 0
		for a := 0; a < nc; a++ {
			for b := a + 1; b < nc; b++ {
				if row[k] > 0 {
					votes[a]++
				} else {
					votes[b]++
				}
				k++
			}
		}
		best := 0
		for a := 1; a < nc; a++ {
			if votes[a] > votes[best] {
				best = a
			}
		}
		dst[i] = s.classes[best]
	}
	return dst
}

func (s *SVC) mustFit() {
	if s.coef == nil {
		panic(panicNotFitted)
	}
}

// binaryProblem is one two-class C-SVC dual, solved as LIBSVM's
// Solver::Solve (svm.cpp) without shrinking.
type binaryProblem struct {
	x     []float64 // l×p, the problem's rows, contiguous
	p     int
	y     []float64 // ±1
	c     float64
	alpha []float64
	// v = −y∘∇f(α), ∇f(α) = Qα − e, kept instead of the gradient: the
	// selection compares vₜ, and with kernel (not Q) rows its update needs
	// no signs. Every value is bit-identical to LIBSVM's, as the factors
	// yₜ = ±1 only flip signs.
	v     []float64
	qd    []float64 // Qᵢᵢ = Kᵢᵢ
	inUp  []bool    // t ∈ I_up(α): yₜ = +1, αₜ < C or yₜ = −1, αₜ > 0
	inLow []bool    // t ∈ I_low(α): yₜ = +1, αₜ > 0 or yₜ = −1, αₜ < C
	cache rowCache
}

// tau is LIBSVM's TAU, the curvature used when Qᵢᵢ+Qⱼⱼ−2Qᵢⱼ <= 0.
const tau = 1e-12

// reset makes bp the problem of the given rows of data (the first nPos of
// class +1, the rest −1) at α = 0, reusing bp's storage so that the
// problems one goroutine solves in turn allocate (and clear) little.
func (bp *binaryProblem) reset(data []float64, p int, rows []int, nPos int, c float64, cacheBytes int) {
	l := len(rows)
	bp.x = grow(bp.x, l*p)
	bp.p, bp.c = p, c
	bp.y = grow(bp.y, l)
	bp.alpha = grow(bp.alpha, l)
	bp.v = grow(bp.v, l)
	bp.qd = grow(bp.qd, l)
	bp.inUp = grow(bp.inUp, l)
	bp.inLow = grow(bp.inLow, l)
	for t, r := range rows {
		xt := bp.x[t*p : (t+1)*p]
		copy(xt, data[r*p:(r+1)*p])
		bp.y[t] = 1
		if t >= nPos {
			bp.y[t] = -1
		}
		bp.alpha[t] = 0
		bp.qd[t] = floats.Dot(xt, xt)
		bp.v[t] = bp.y[t] // α = 0, so ∇f = −e and v = y
		bp.setStatus(t)
	}
	bp.cache.reset(l, cacheBytes)
}

// grow returns s resliced to length n, reallocated only when too small; the
// contents are not cleared.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// row returns row i of the kernel matrix, Kᵢₖ = xᵢ·xₖ, from the cache or
// computed with dgemv. (Qᵢₖ = yᵢyₖKᵢₖ.)
func (bp *binaryProblem) row(i int) []float64 {
	r, ok := bp.cache.get(i)
	if ok {
		return r
	}
	l, p := len(bp.y), bp.p
	blas64.Gemv(blas.NoTrans, 1,
		blas64.General{Rows: l, Cols: p, Stride: p, Data: bp.x},
		blas64.Vector{N: p, Inc: 1, Data: bp.x[i*p : (i+1)*p]},
		0, blas64.Vector{N: l, Inc: 1, Data: r})
	return r
}

func (bp *binaryProblem) upper(i int) bool { return bp.alpha[i] >= bp.c }
func (bp *binaryProblem) lower(i int) bool { return bp.alpha[i] <= 0 }

// selectWorkingSet is LIBSVM's select_working_set (WSS2): i maximises
// −yᵢ∇f(α)ᵢ over I_up(α), and j minimises the second-order decrease
// −b²ᵢⱼ/aᵢⱼ over the t in I_low(α) that violate with i. It reports false
// when m(α) − M(α) < tol, i.e. the solution is optimal within tol.
//
// The two cases of LIBSVM's loops (yₜ = ±1) are merged: with vₜ = −yₜ∇f(α)ₜ
// and aᵢⱼ = Kᵢᵢ + Kⱼⱼ − 2Kᵢⱼ they are the same comparisons on the same
// values, so the working sets are LIBSVM's.
//
// The first half, i and m(α) = gmax, is computed by maxUp or, fused with the
// gradient update, by solve, and passed in.
func (bp *binaryProblem) selectWorkingSet(tol, gmax float64, gmaxIdx int) (int, int, bool) {
	gmax2 := math.Inf(-1)
	gminIdx := -1
	objDiffMin := math.Inf(1)
	i := gmaxIdx
	if i == -1 {
		return 0, 0, false
	}
	vs := bp.v
	inLow := bp.inLow[:len(vs)]
	ki := bp.row(i)[:len(vs)]
	qd := bp.qd[:len(vs)]
	qdi := qd[i]
	for j, v := range vs {
		if !inLow[j] {
			continue
		}
		if -v >= gmax2 {
			gmax2 = -v
		}
		if gradDiff := gmax - v; gradDiff > 0 {
			quad := qdi + qd[j] - 2*ki[j]
			if quad <= 0 {
				quad = tau
			}
			if objDiff := -(gradDiff * gradDiff) / quad; objDiff <= objDiffMin {
				gminIdx, objDiffMin = j, objDiff
			}
		}
	}
	if gmax+gmax2 < tol || gminIdx == -1 {
		return 0, 0, false
	}
	return gmaxIdx, gminIdx, true
}

// maxUp returns m(α) = max over I_up of −yₜ∇f(α)ₜ and its last maximiser
// (−1 if I_up is empty), LIBSVM's first loop of select_working_set.
func (bp *binaryProblem) maxUp() (float64, int) {
	gmax, gmaxIdx := math.Inf(-1), -1
	inUp := bp.inUp[:len(bp.v)]
	for t, v := range bp.v {
		if inUp[t] && v >= gmax {
			gmax, gmaxIdx = v, t
		}
	}
	return gmax, gmaxIdx
}

// setStatus records whether αₜ is in I_up (can move in the direction of yₜ)
// and I_low (against it).
func (bp *binaryProblem) setStatus(t int) {
	if bp.y[t] > 0 {
		bp.inUp[t], bp.inLow[t] = !bp.upper(t), !bp.lower(t)
	} else {
		bp.inUp[t], bp.inLow[t] = !bp.lower(t), !bp.upper(t)
	}
}

// solve runs SMO until the stopping rule holds or maxIter iterations; it
// returns the iterations done and whether the rule was met.
func (bp *binaryProblem) solve(tol float64, maxIter int) (int, bool) {
	l := len(bp.y)
	if maxIter == 0 {
		maxIter = max(10_000_000, 100*l)
	}
	alpha, vs, y, c := bp.alpha, bp.v, bp.y, bp.c
	gmax, gmaxIdx := bp.maxUp()
	for iter := 0; iter < maxIter; iter++ {
		i, j, ok := bp.selectWorkingSet(tol, gmax, gmaxIdx)
		if !ok {
			return iter, true
		}
		ki := bp.row(i)
		kj := bp.row(j)
		oldI, oldJ := alpha[i], alpha[j]
		gi, gj := -y[i]*vs[i], -y[j]*vs[j] // ∇f(α)ᵢ, ∇f(α)ⱼ
		// aᵢⱼ = Qᵢᵢ + Qⱼⱼ ∓ 2Qᵢⱼ = Kᵢᵢ + Kⱼⱼ − 2Kᵢⱼ in both cases.
		quad := bp.qd[i] + bp.qd[j] - 2*ki[j]
		if quad <= 0 {
			quad = tau
		}
		// LIBSVM's analytic update of (αᵢ, αⱼ) along yᵀα = const,
		// clipped to the box [0, C]².
		if y[i] != y[j] {
			delta := (-gi - gj) / quad
			diff := alpha[i] - alpha[j]
			alpha[i] += delta
			alpha[j] += delta
			if diff > 0 {
				if alpha[j] < 0 {
					alpha[j], alpha[i] = 0, diff
				}
			} else if alpha[i] < 0 {
				alpha[i], alpha[j] = 0, -diff
			}
			if diff > 0 { // C_i − C_j = 0 since both bounds are C
				if alpha[i] > c {
					alpha[i], alpha[j] = c, c-diff
				}
			} else if alpha[j] > c {
				alpha[j], alpha[i] = c, c+diff
			}
		} else {
			delta := (gi - gj) / quad
			sum := alpha[i] + alpha[j]
			alpha[i] -= delta
			alpha[j] += delta
			if sum > c {
				if alpha[i] > c {
					alpha[i], alpha[j] = c, sum-c
				}
			} else if alpha[j] < 0 {
				alpha[j], alpha[i] = 0, sum
			}
			if sum > c {
				if alpha[j] > c {
					alpha[j], alpha[i] = c, sum-c
				}
			} else if alpha[i] < 0 {
				alpha[i], alpha[j] = 0, sum
			}
		}
		bp.setStatus(i)
		bp.setStatus(j)
		// ∇f(α) += Qᵢ·Δαᵢ + Qⱼ·Δαⱼ (LIBSVM), i.e. v −= Kᵢ·yᵢΔαᵢ + Kⱼ·yⱼΔαⱼ;
		// in the same pass find the next m(α) exactly as maxUp would.
		ai, aj := y[i]*(alpha[i]-oldI), y[j]*(alpha[j]-oldJ)
		gmax, gmaxIdx = math.Inf(-1), -1
		ki, kj = ki[:len(vs)], kj[:len(vs)]
		inUp := bp.inUp[:len(vs)]
		for k := range vs {
			v := vs[k] - (ki[k]*ai + kj[k]*aj)
			vs[k] = v
			if inUp[k] && v >= gmax {
				gmax, gmaxIdx = v, k
			}
		}
	}
	return maxIter, false
}

// rho is LIBSVM's Solver::calculate_rho; the decision function is
// Σ αᵢyᵢK(xᵢ, x) − ρ.
func (bp *binaryProblem) rho() float64 {
	ub, lb := math.Inf(1), math.Inf(-1)
	nFree, sumFree := 0, 0.0
	for i, yi := range bp.y {
		yg := -bp.v[i] // yᵢ∇f(α)ᵢ
		switch {
		case bp.upper(i):
			if yi < 0 {
				ub = math.Min(ub, yg)
			} else {
				lb = math.Max(lb, yg)
			}
		case bp.lower(i):
			if yi > 0 {
				ub = math.Min(ub, yg)
			} else {
				lb = math.Max(lb, yg)
			}
		default:
			nFree++
			sumFree += yg
		}
	}
	if nFree > 0 {
		return sumFree / float64(nFree)
	}
	return (ub + lb) / 2
}

// weights stores w = Σ αᵢyᵢxᵢ in dst.
func (bp *binaryProblem) weights(dst []float64) {
	clear(dst)
	p := bp.p
	for i, a := range bp.alpha {
		if a != 0 {
			floats.AddScaled(dst, a*bp.y[i], bp.x[i*p:(i+1)*p])
		}
	}
}

// rowCache keeps up to cap rows of length l, evicting the least recently
// used row, as LIBSVM's Cache does. Rows are allocated on first use.
type rowCache struct {
	l     int
	slot  []int32     // row -> slot, −1 if absent
	owner []int       // slot -> row
	used  []int64     // slot -> last use
	rows  [][]float64 // storage, kept across resets; the first n are in use
	n     int
	cap   int
	clock int64
}

// reset empties the cache for rows of length l, keeping its storage.
func (rc *rowCache) reset(l, bytes int) {
	rc.l = l
	rc.cap = max(2, min(l, bytes/(8*max(l, 1))))
	rc.slot = grow(rc.slot, l)
	for i := range rc.slot {
		rc.slot[i] = -1
	}
	rc.owner, rc.used = rc.owner[:0], rc.used[:0]
	rc.n = 0
	rc.clock = 0
}

// get returns the storage of row i and whether it already holds the row.
// The returned slice stays valid until cap other rows have been requested.
func (rc *rowCache) get(i int) ([]float64, bool) {
	rc.clock++
	if s := rc.slot[i]; s >= 0 {
		rc.used[s] = rc.clock
		return rc.rows[s], true
	}
	var s int
	if rc.n < rc.cap {
		s = rc.n
		rc.n++
		if s == len(rc.rows) {
			rc.rows = append(rc.rows, nil)
		}
		rc.rows[s] = grow(rc.rows[s], rc.l)
		rc.owner = append(rc.owner, i)
		rc.used = append(rc.used, rc.clock)
	} else {
		for t := range rc.used {
			if rc.used[t] < rc.used[s] {
				s = t
			}
		}
		rc.slot[rc.owner[s]] = -1
		rc.owner[s] = i
		rc.used[s] = rc.clock
	}
	rc.slot[i] = int32(s)
	return rc.rows[s], false
}
