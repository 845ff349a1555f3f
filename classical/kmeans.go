package classical

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/mat"
)

// KMeans is k-means clustering as scikit-learn's KMeans(algorithm="lloyd",
// init="k-means++", n_init=1) computes it.
//
// Initialisation is the greedy k-means++ of scikit-learn's _kmeans_plusplus:
// the first centre is a uniformly drawn row; each further centre is chosen
// among 2+⌊ln k⌋ candidates, each drawn with probability proportional to its
// squared distance to the nearest centre so far (D² sampling, Arthur &
// Vassilvitskii, "k-means++: the advantages of careful seeding", SODA 2007),
// keeping the candidate that minimises the potential Σ D².
//
// It is followed by Lloyd iterations (Lloyd, "Least squares quantization in
// PCM", IEEE Trans. Inf. Theory 28(2), 1982): assign every row to its
// nearest centre, move each centre to the mean of its rows. Iteration stops,
// as in scikit-learn's _kmeans_single_lloyd, when no label changes, when the
// total squared centre shift is at most Tol·mean(var(X, axis=0)), or after
// MaxIter iterations; in the last two cases the rows are assigned once more
// to the final centres. A cluster that becomes empty is given the rows
// farthest from their centres, as scikit-learn's
// _relocate_empty_clusters_dense does.
//
// Distances are computed from differences, ‖x−c‖² = Σ(xₜ−cₜ)², not from
// norms, so the data need not be centred. Both the k-means++ potentials and
// the Lloyd assignment skip distances that the triangle inequality proves
// useless (Elkan, "Using the triangle inequality to accelerate k-means",
// ICML 2003, Lemma 1: if ‖c−c'‖ ≥ 2‖x−c‖ then ‖x−c'‖ ≥ ‖x−c‖), starting
// each row from its previous nearest centre; the labels, centres and
// potentials are those of the plain algorithms, only fewer distances are
// computed. The distance and assignment passes run over blocks of rows on
// up to GOMAXPROCS goroutines. Partial sums are reduced in block order, so the
// result does not depend on the number of goroutines.
type KMeans struct {
	// K is the number of clusters, at least 1.
	K int
	// MaxIter is the maximum number of Lloyd iterations, at least 1.
	MaxIter int
	// Tol is the convergence tolerance relative to the mean feature
	// variance; 0 iterates until no label changes.
	Tol float64
	// Init, when not nil, holds the K initial centres (K×d, one per row)
	// and replaces k-means++: Fit then draws nothing from its source. The
	// benchmark uses it to check that implementations that start from the
	// same centres reach the same clustering.
	Init mat.Matrix

	centers []float64 // K×d
	d       int
	labels  []int32
	inertia float64
	iters   int
}

// NewKMeans returns a KMeans with k clusters and scikit-learn's defaults,
// MaxIter 300 and Tol 1e-4.
func NewKMeans(k int) *KMeans { return &KMeans{K: k, MaxIter: 300, Tol: 1e-4} }

// blockRows is the number of rows of one unit of parallel work.
const blockRows = 4096

// maxCandDist is the most candidate distances k-means++ keeps (8 MiB of
// float64s: 4 candidates for up to 262,144 rows).
const maxCandDist = 1 << 20

// Fit clusters the rows of X. Random draws of the initialisation come from
// src; a nil src uses the global source of math/rand/v2. Fit returns an
// error wrapping ErrEmpty, ErrNotFinite, ErrParam or ErrTooFewRows (K
// greater than the number of rows).
func (km *KMeans) Fit(X mat.Matrix, src *rand.Rand) error {
	km.centers = nil
	if km.K < 1 || km.MaxIter < 1 || !(km.Tol >= 0) || math.IsInf(km.Tol, 0) {
		return fmt.Errorf("%w: K=%d, MaxIter=%d, Tol=%v", ErrParam, km.K, km.MaxIter, km.Tol)
	}
	data, n, d, err := denseRows(X)
	if err != nil {
		return err
	}
	if km.K > n {
		return fmt.Errorf("%w: K=%d clusters for %d rows", ErrTooFewRows, km.K, n)
	}
	if src == nil {
		src = rand.New(globalSource{})
	}
	k := km.K
	tolAbs := km.Tol * meanVariance(data, n, d)
	// labels starts as each row's nearest initial centre, a hint for the
	// pruned first assignment.
	labels := make([]int32, n)
	centers, err := km.startCenters(data, n, d, src, labels)
	if err != nil {
		return err
	}
	nb := (n + blockRows - 1) / blockRows
	part := make([]lloydPartial, nb)
	for b := range part {
		part[b] = lloydPartial{sums: make([]float64, k*d), counts: make([]int, k)}
	}
	newCenters := make([]float64, k*d)
	var inertia float64
	strict := false
	iter := 0
	for iter < km.MaxIter {
		iter++
		changed, _ := assign(data, n, d, centers, k, labels, part, true)
		if iter == 1 {
			// scikit-learn compares the first labels with −1s: they
			// always count as changed.
			changed = n
		}
		shift := updateCenters(data, d, k, part, centers, labels, newCenters)
		centers, newCenters = newCenters, centers
		if changed == 0 {
			strict = true
			break
		}
		if shift <= tolAbs {
			break
		}
	}
	// Labels and inertia for the final centres. Under strict convergence
	// the labels already belong to them; otherwise assign once more, as
	// scikit-learn does.
	if strict {
		inertia = inertiaOf(data, n, d, centers, labels)
	} else {
		_, inertia = assign(data, n, d, centers, k, labels, part, false)
	}
	km.centers, km.d, km.labels, km.inertia, km.iters = centers, d, labels, inertia, iter
	return nil
}

// startCenters returns the initial centres (km.Init, or k-means++ with
// src) and sets labels to each row's nearest one, a hint for the pruned
// first assignment.
func (km *KMeans) startCenters(data []float64, n, d int, src *rand.Rand, labels []int32) ([]float64, error) {
	k := km.K
	if km.Init == nil {
		return kmeansPlusPlus(data, n, d, k, src, labels), nil
	}
	centers, err := initCenters(km.Init, k, d)
	if err != nil {
		return nil, err
	}
	cc := centerDists(centers, k, d)
	parallelBlocks(n, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			j, _ := nearest(data[i*d:(i+1)*d], centers, k, cc, 0)
			labels[i] = int32(j)
		}
	})
	return centers, nil
}

// updateCenters is Lloyd's update: it reduces the assignment's block sums
// in block order into newCenters (relocating empty clusters as
// scikit-learn does), divides by the counts, and returns the squared shift
// from centers.
func updateCenters(data []float64, d, k int, part []lloydPartial, centers []float64, labels []int32, newCenters []float64) float64 {
	clear(newCenters)
	counts := make([]int, k)
	for b := range part {
		for t, v := range part[b].sums {
			newCenters[t] += v
		}
		for j, c := range part[b].counts {
			counts[j] += c
		}
	}
	relocateEmpty(data, d, centers, labels, newCenters, counts)
	shift := 0.0
	for j := 0; j < k; j++ {
		cj := newCenters[j*d : (j+1)*d]
		if counts[j] > 0 {
			inv := 1 / float64(counts[j])
			for t := range cj {
				cj[t] *= inv
			}
		}
		for t, v := range cj {
			diff := v - centers[j*d+t]
			shift += diff * diff
		}
	}
	return shift
}

// Centers returns a copy of the cluster centres, one per row.
func (km *KMeans) Centers() *mat.Dense {
	km.mustFit()
	return mat.NewDense(km.K, km.d, slices.Clone(km.centers))
}

// Labels returns the cluster of each training row.
func (km *KMeans) Labels() []int {
	km.mustFit()
	out := make([]int, len(km.labels))
	for i, l := range km.labels {
		out[i] = int(l)
	}
	return out
}

// Inertia returns the sum of squared distances of the training rows to their
// cluster centres.
func (km *KMeans) Inertia() float64 { km.mustFit(); return km.inertia }

// Iterations returns the number of Lloyd iterations run.
func (km *KMeans) Iterations() int { km.mustFit(); return km.iters }

// Predict stores in dst the index of the nearest centre of each row of X and
// returns it; a nil dst is allocated. It panics if the model is not fitted
// or the shapes disagree.
func (km *KMeans) Predict(X mat.Matrix, dst []int) []int {
	km.mustFit()
	n, d := X.Dims()
	if d != km.d {
		panic(panicShape)
	}
	if dst == nil {
		dst = make([]int, n)
	} else if len(dst) != n {
		panic(panicShape)
	}
	data := rowMajor(X)
	cc := centerDists(km.centers, km.K, d)
	parallelBlocks(n, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			j, _ := nearest(data[i*d:(i+1)*d], km.centers, km.K, cc, 0)
			dst[i] = j
		}
	})
	return dst
}

func (km *KMeans) mustFit() {
	if km.centers == nil {
		panic(panicNotFitted)
	}
}

// rowMajor returns X's elements row by row, aliasing a contiguous Dense.
func rowMajor(X mat.Matrix) []float64 {
	r, c := X.Dims()
	if d, ok := X.(mat.RawMatrixer); ok {
		if raw := d.RawMatrix(); raw.Stride == c {
			return raw.Data[:r*c]
		}
	}
	out := make([]float64, r*c)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			out[i*c+j] = X.At(i, j)
		}
	}
	return out
}

type lloydPartial struct {
	sums    []float64 // k×d
	counts  []int
	changed int
	inertia float64
}

// assign sets labels to the nearest of the k centres and, when update is
// true, accumulates each block's per-cluster sums and counts in part. The
// labels on entry are used as starting points only. It returns how many
// labels changed and the inertia with respect to centres.
func assign(data []float64, n, d int, centers []float64, k int, labels []int32, part []lloydPartial, update bool) (int, float64) {
	cc := centerDists(centers, k, d)
	parallelBlocks(n, func(b, lo, hi int) {
		p := &part[b]
		clear(p.sums)
		clear(p.counts)
		p.changed, p.inertia = 0, 0
		for i := lo; i < hi; i++ {
			x := data[i*d : (i+1)*d]
			old := int(labels[i])
			j, dist := nearest(x, centers, k, cc, old)
			p.inertia += dist
			if old != j {
				labels[i] = int32(j)
				p.changed++
			}
			if update {
				p.counts[j]++
				s := p.sums[j*d : (j+1)*d]
				s = s[:len(x)]
				for t, v := range x {
					s[t] += v
				}
			}
		}
	})
	changed, inertia := 0, 0.0
	for b := range (n + blockRows - 1) / blockRows {
		changed += part[b].changed
		inertia += part[b].inertia
	}
	return changed, inertia
}

// centerDists returns the k×k squared distances between centres.
func centerDists(centers []float64, k, d int) []float64 {
	cc := make([]float64, k*k)
	for a := 0; a < k; a++ {
		for b := a + 1; b < k; b++ {
			v := sqDist(centers[a*d:(a+1)*d], centers[b*d:(b+1)*d])
			cc[a*k+b], cc[b*k+a] = v, v
		}
	}
	return cc
}

// nearest returns the index of the centre nearest to x and the squared
// distance to it, ties going to the lowest index, as a plain scan would.
// It starts from centre start and skips every centre j with
// ‖cⱼ−c_best‖² > 4‖x−c_best‖², which is then strictly farther than c_best
// (Elkan 2003, Lemma 1); cc holds the squared centre distances.
func nearest(x, centers []float64, k int, cc []float64, start int) (int, float64) {
	d := len(x)
	best := start
	bestDist := sqDist(x, centers[start*d:(start+1)*d])
	for j := 0; j < k; j++ {
		if j == start || cc[best*k+j] > 4*bestDist {
			continue
		}
		if dist := sqDist(x, centers[j*d:(j+1)*d]); dist < bestDist || dist == bestDist && j < best {
			best, bestDist = j, dist
		}
	}
	return best, bestDist
}

// sqDist returns ‖x − c‖², computed from differences, not from norms, so
// there is no cancellation and no need to centre the data. The loop takes
// eight elements at a time, with the tree of additions independent of the
// number of goroutines.
func sqDist(x, c []float64) float64 {
	c = c[:len(x)]
	var s float64
	for len(x) >= 8 {
		a, b := (*[8]float64)(x), (*[8]float64)(c)
		e0, e1, e2, e3 := a[0]-b[0], a[1]-b[1], a[2]-b[2], a[3]-b[3]
		e4, e5, e6, e7 := a[4]-b[4], a[5]-b[5], a[6]-b[6], a[7]-b[7]
		s += (e0*e0 + e1*e1) + (e2*e2 + e3*e3) + ((e4*e4 + e5*e5) + (e6*e6 + e7*e7))
		x, c = x[8:], c[8:]
	}
	for i, v := range x {
		e := v - c[i]
		s += e * e
	}
	return s
}

// inertiaOf returns Σ ‖xᵢ − c_labelᵢ‖².
func inertiaOf(data []float64, n, d int, centers []float64, labels []int32) float64 {
	part := make([]float64, (n+blockRows-1)/blockRows)
	parallelBlocks(n, func(b, lo, hi int) {
		s := 0.0
		for i := lo; i < hi; i++ {
			j := int(labels[i])
			s += sqDist(data[i*d:(i+1)*d], centers[j*d:(j+1)*d])
		}
		part[b] = s
	})
	s := 0.0
	for _, v := range part {
		s += v
	}
	return s
}

// relocateEmpty gives each empty cluster the row farthest from its centre
// (old centres), moving it out of its cluster's sums, as scikit-learn's
// _relocate_empty_clusters_dense. Labels are left unchanged, as there.
func relocateEmpty(data []float64, d int, old []float64, labels []int32, sums []float64, counts []int) {
	var empty []int
	for j, c := range counts {
		if c == 0 {
			empty = append(empty, j)
		}
	}
	if len(empty) == 0 {
		return
	}
	n := len(labels)
	dist := make([]float64, n)
	for i := range dist {
		j := int(labels[i])
		dist[i] = sqDist(data[i*d:(i+1)*d], old[j*d:(j+1)*d])
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case dist[a] > dist[b]:
			return -1
		case dist[a] < dist[b]:
			return 1
		}
		return 0
	})
	for e, j := range empty {
		far := idx[e]
		x := data[far*d : (far+1)*d]
		from := int(labels[far])
		for t, v := range x {
			sums[from*d+t] -= v
			sums[j*d+t] = v
		}
		counts[j] = 1
		counts[from]--
	}
}

// meanVariance returns the mean over columns of the population variance of
// each column (numpy's mean(var(X, axis=0))).
func meanVariance(data []float64, n, d int) float64 {
	nb := (n + blockRows - 1) / blockRows
	part := make([]float64, nb*d)
	parallelBlocks(n, func(b, lo, hi int) {
		s := part[b*d : (b+1)*d]
		for i := lo; i < hi; i++ {
			for t, v := range data[i*d : (i+1)*d] {
				s[t] += v
			}
		}
	})
	mean := make([]float64, d)
	for b := 0; b < nb; b++ {
		for t := range mean {
			mean[t] += part[b*d+t]
		}
	}
	for t := range mean {
		mean[t] /= float64(n)
	}
	clear(part)
	parallelBlocks(n, func(b, lo, hi int) {
		s := part[b*d : (b+1)*d]
		for i := lo; i < hi; i++ {
			for t, v := range data[i*d : (i+1)*d] {
				diff := v - mean[t]
				s[t] += diff * diff
			}
		}
	})
	total := 0.0
	for _, v := range part {
		total += v
	}
	return total / float64(n) / float64(d)
}

// initCenters checks and copies given initial centres.
func initCenters(init mat.Matrix, k, d int) ([]float64, error) {
	r, c := init.Dims()
	if r != k || c != d {
		return nil, fmt.Errorf("%w: initial centres are %d×%d, want %d×%d", ErrParam, r, c, k, d)
	}
	centers, _, _, err := denseRows(init)
	if err != nil {
		return nil, err
	}
	return slices.Clone(centers), nil
}

// KMeansPlusPlus returns k initial centres for the rows of X (k×d, one per
// row), chosen by scikit-learn's greedy k-means++ with draws from src, as
// KMeans.Fit does before its Lloyd iterations.
func KMeansPlusPlus(X mat.Matrix, k int, src *rand.Rand) (*mat.Dense, error) {
	data, n, d, err := denseRows(X)
	if err != nil {
		return nil, err
	}
	if k < 1 || k > n {
		return nil, fmt.Errorf("%w: k=%d for %d rows", ErrParam, k, n)
	}
	return mat.NewDense(k, d, kmeansPlusPlus(data, n, d, k, src, make([]int32, n))), nil
}

// kmeansPlusPlus returns k initial centres (k×d) chosen by scikit-learn's
// greedy k-means++ (_kmeans_plusplus), and sets near[i] to the index of the
// centre nearest to row i.
func kmeansPlusPlus(data []float64, n, d, k int, src *rand.Rand, near []int32) []float64 {
	trials := 2 + int(math.Log(float64(k)))
	p := &plusPlus{data: data, n: n, d: d, k: k, trials: trials, near: near,
		centers: make([]float64, k*d), nb: (n + blockRows - 1) / blockRows,
		closest: make([]float64, n), cand: make([]int, trials), candX: make([]float64, trials*d),
		candPot: make([]float64, trials), candCC: make([]float64, trials*k),
		u: make([]float64, trials), order: make([]int, trials)}
	p.part = make([]float64, p.nb*trials)
	// dist keeps each candidate's min(D², ‖x − candidate‖²) per row, as
	// scikit-learn's distance_to_candidates, so that the chosen
	// candidate's distances are not computed twice; only while that fits
	// in cache (maxCandDist), else nil and they are recomputed.
	if trials*n <= maxCandDist {
		p.dist = make([]float64, trials*n)
	}
	p.first(src.IntN(n))
	for c := 1; c < k; c++ {
		p.draw(src, c)
		p.potentials()
		p.accept(c)
	}
	return p.centers
}

// plusPlus is the state of k-means++ seeding (kmeansPlusPlus).
type plusPlus struct {
	data               []float64
	n, d, k, trials    int
	nb                 int       // blocks of parallelBlocks
	centers            []float64 // k×d, the first c chosen
	closest            []float64 // D²: squared distance to the nearest centre
	near               []int32   // index of that centre
	pot                float64   // Σ D²
	part               []float64 // per block (and candidate) partial sums
	dist               []float64 // trials×n, or nil (see kmeansPlusPlus)
	cand               []int     // the candidates' rows
	candX              []float64 // trials×d, their features
	candPot, candCC, u []float64 // potentials, ‖candidate − centre‖² (trials×k), draws
	order              []int
}

// first makes row r the first centre: D² and the potential from it.
func (p *plusPlus) first(r int) {
	d := p.d
	copy(p.centers, p.data[r*d:(r+1)*d])
	parallelBlocks(p.n, func(b, lo, hi int) {
		c := p.centers[:d]
		s := 0.0
		for i := lo; i < hi; i++ {
			v := sqDist(p.data[i*d:(i+1)*d], c)
			p.closest[i] = v
			p.near[i] = 0
			s += v
		}
		p.part[b] = s
	})
	p.pot = 0
	for _, v := range p.part[:p.nb] {
		p.pot += v
	}
}

// draw picks the candidates for centre c by D² sampling: the first row
// whose cumulative D² reaches u·pot (numpy's searchsorted, side left), and
// their squared distances to the c centres so far.
func (p *plusPlus) draw(src *rand.Rand, c int) {
	d, k, n, trials := p.d, p.k, p.n, p.trials
	for t := range p.u {
		p.u[t] = src.Float64() * p.pot
		p.order[t] = t
	}
	slices.SortFunc(p.order, func(a, b int) int { return cmpFloat(p.u[a], p.u[b]) })
	cum, o := 0.0, 0
	for i := 0; i < n && o < trials; i++ {
		cum += p.closest[i]
		for o < trials && cum >= p.u[p.order[o]] {
			p.cand[p.order[o]] = i
			o++
		}
	}
	for ; o < trials; o++ {
		p.cand[p.order[o]] = n - 1 // numpy's clip to the last index
	}
	for t, r := range p.cand {
		x := p.data[r*d : (r+1)*d]
		copy(p.candX[t*d:(t+1)*d], x)
		for j := 0; j < c; j++ {
			p.candCC[t*k+j] = sqDist(x, p.centers[j*d:(j+1)*d])
		}
	}
}

// potentials sets each candidate's potential Σ min(D², ‖x − candidate‖²).
// When ‖candidate − c_near‖² > 4D², the candidate is farther than c_near
// and the minimum is D² itself.
func (p *plusPlus) potentials() {
	d, k, n, trials := p.d, p.k, p.n, p.trials
	parallelBlocks(n, func(b, lo, hi int) {
		s := p.part[b*trials : (b+1)*trials]
		clear(s)
		for i := lo; i < hi; i++ {
			ci, j := p.closest[i], int(p.near[i])
			for t := range s {
				m := ci
				if p.candCC[t*k+j] <= 4*ci {
					if v := sqDist(p.data[i*d:(i+1)*d], p.candX[t*d:(t+1)*d]); v < ci {
						m = v
					}
				}
				s[t] += m
				if p.dist != nil {
					p.dist[t*n+i] = m
				}
			}
		}
	})
	clear(p.candPot)
	for b := 0; b < p.nb; b++ {
		for t := range p.candPot {
			p.candPot[t] += p.part[b*trials+t]
		}
	}
}

// accept makes the candidate of least potential centre c and updates D².
func (p *plusPlus) accept(c int) {
	d, k, n := p.d, p.k, p.n
	best := 0
	for t := range p.candPot {
		if p.candPot[t] < p.candPot[best] {
			best = t
		}
	}
	p.pot = p.candPot[best]
	bx := p.candX[best*d : (best+1)*d]
	copy(p.centers[c*d:(c+1)*d], bx)
	bcc := p.candCC[best*k : (best+1)*k]
	parallelBlocks(n, func(_, lo, hi int) {
		if p.dist != nil { // the same pruning and values as below, kept
			bd := p.dist[best*n : (best+1)*n]
			for i := lo; i < hi; i++ {
				if v := bd[i]; v < p.closest[i] {
					p.closest[i], p.near[i] = v, int32(c)
				}
			}
			return
		}
		for i := lo; i < hi; i++ {
			ci := p.closest[i]
			if bcc[p.near[i]] > 4*ci {
				continue
			}
			if v := sqDist(p.data[i*d:(i+1)*d], bx); v < ci {
				p.closest[i], p.near[i] = v, int32(c)
			}
		}
	})
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// parallelBlocks calls fn(b, lo, hi) for every block b of blockRows rows
// [lo, hi) of n, on up to GOMAXPROCS goroutines.
func parallelBlocks(n int, fn func(b, lo, hi int)) {
	nb := (n + blockRows - 1) / blockRows
	workers := min(runtime.GOMAXPROCS(0), nb)
	if workers <= 1 {
		for b := 0; b < nb; b++ {
			fn(b, b*blockRows, min(n, (b+1)*blockRows))
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				b := int(next.Add(1) - 1)
				if b >= nb {
					return
				}
				fn(b, b*blockRows, min(n, (b+1)*blockRows))
			}
		}()
	}
	wg.Wait()
}

// globalSource is a rand.Source over math/rand/v2's global generator.
type globalSource struct{}

func (globalSource) Uint64() uint64 { return rand.Uint64() }
