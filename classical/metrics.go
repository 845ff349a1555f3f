package classical

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// R2 returns the coefficient of determination 1 − Σ(y−ŷ)²/Σ(y−ȳ)², as
// scikit-learn's r2_score: 1 when the predictions are perfect, and, when y
// is constant, 1 for perfect predictions and 0 otherwise. It panics if the
// lengths differ or are zero.
func R2(y, pred []float64) float64 {
	checkLens(len(y), len(pred))
	mean := 0.0
	for _, v := range y {
		mean += v
	}
	mean /= float64(len(y))
	var ssRes, ssTot float64
	for i, v := range y {
		r := v - pred[i]
		ssRes += r * r
		t := v - mean
		ssTot += t * t
	}
	if ssTot == 0 {
		if ssRes == 0 {
			return 1
		}
		return 0
	}
	return 1 - ssRes/ssTot
}

// RMSE returns the root mean squared error √(Σ(y−ŷ)²/n). It panics if the
// lengths differ or are zero.
func RMSE(y, pred []float64) float64 {
	checkLens(len(y), len(pred))
	s := 0.0
	for i, v := range y {
		r := v - pred[i]
		s += r * r
	}
	return math.Sqrt(s / float64(len(y)))
}

// Accuracy returns the fraction of labels equal to their prediction. It
// panics if the lengths differ or are zero.
func Accuracy(y, pred []float64) float64 {
	checkLens(len(y), len(pred))
	ok := 0
	for i, v := range y {
		if v == pred[i] {
			ok++
		}
	}
	return float64(ok) / float64(len(y))
}

// AdjustedRandIndex returns the Rand index of two clusterings of the same
// items corrected for chance (Hubert & Arabie, "Comparing partitions",
// Journal of Classification 2, 1985, eq. 5):
//
//	ARI = (Σᵢⱼ C(nᵢⱼ,2) − E) / (½(Σᵢ C(aᵢ,2) + Σⱼ C(bⱼ,2)) − E),
//	E = Σᵢ C(aᵢ,2) · Σⱼ C(bⱼ,2) / C(n,2),
//
// where nᵢⱼ is the contingency table and aᵢ, bⱼ its margins. It is 1 for
// identical partitions whatever the label values, and about 0 for
// independent ones. As scikit-learn's adjusted_rand_score, it returns 1 when
// the denominator is zero (both clusterings a single cluster, or both all
// singletons). It panics if the lengths differ or are zero.
func AdjustedRandIndex(a, b []int) float64 {
	checkLens(len(a), len(b))
	ia, na := relabel(a)
	ib, nb := relabel(b)
	table := make([]int, na*nb)
	rows := make([]int, na)
	cols := make([]int, nb)
	for i := range ia {
		table[ia[i]*nb+ib[i]]++
		rows[ia[i]]++
		cols[ib[i]]++
	}
	comb2 := func(x int) float64 { return float64(x) * float64(x-1) / 2 }
	var index, sumA, sumB float64
	for _, v := range table {
		index += comb2(v)
	}
	for _, v := range rows {
		sumA += comb2(v)
	}
	for _, v := range cols {
		sumB += comb2(v)
	}
	expected := sumA * sumB / comb2(len(a))
	maxIndex := (sumA + sumB) / 2
	if maxIndex == expected {
		return 1
	}
	return (index - expected) / (maxIndex - expected)
}

// relabel maps arbitrary labels to 0..m−1 in order of first appearance.
func relabel(l []int) ([]int, int) {
	ids := map[int]int{}
	out := make([]int, len(l))
	for i, v := range l {
		id, ok := ids[v]
		if !ok {
			id = len(ids)
			ids[v] = id
		}
		out[i] = id
	}
	return out, len(ids)
}

// Inertia returns Σᵢ ‖xᵢ − c_labelᵢ‖², the k-means objective of the rows of
// X under the given centres (one per row of centers) and labels. It panics
// if the shapes disagree or a label is out of range.
func Inertia(X, centers mat.Matrix, labels []int) float64 {
	n, d := X.Dims()
	k, cd := centers.Dims()
	if cd != d || len(labels) != n {
		panic(panicShape)
	}
	x := rowMajor(X)
	c := rowMajor(centers)
	s := 0.0
	for i, l := range labels {
		if l < 0 || l >= k {
			panic("classical: label out of range")
		}
		s += sqDist(x[i*d:(i+1)*d], c[l*d:(l+1)*d])
	}
	return s
}

func checkLens(a, b int) {
	if a != b || a == 0 {
		panic(panicShape)
	}
}
