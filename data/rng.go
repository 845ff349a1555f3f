package data

import (
	"hash/fnv"
	"math/rand/v2"
	"slices"
)

// Seed is the one seed every generated artefact (splits, blobs, batch
// orders, initial weights) is drawn from.
const Seed = 42

// newRNG returns the generator used for one purpose: Go's PCG seeded with
// (seed, FNV-1a 64 of the purpose string), so that different artefacts drawn
// from the same seed are independent streams and each is reproducible alone.
func newRNG(seed uint64, purpose string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(purpose))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// testCount is the size of a 20% test set: ceil(n/5), in integers (so
// 20640 -> 4128 and 1797 -> 360, as scikit-learn's test_size=0.2).
func testCount(n int) int { return (n + 4) / 5 }

// randomSplit is a fixed 80/20 split of n rows: a permutation from
// newRNG(seed, purpose); its first testCount(n) rows are the test set. Both
// index lists are sorted.
func randomSplit(n int, seed uint64, purpose string) (train, test []int) {
	perm := newRNG(seed, purpose).Perm(n)
	k := testCount(n)
	test = slices.Clone(perm[:k])
	train = slices.Clone(perm[k:])
	slices.Sort(test)
	slices.Sort(train)
	return train, test
}

// stratifiedSplit is an 80/20 split that keeps class proportions: the test
// set has testCount(n) rows; class c gets floor(n_c/5) of them plus one more
// for the classes with the largest remainders (ties: smaller class label
// first) until the total is reached. Within each class (in ascending label
// order) the rows are permuted by one generator and the first ones go to
// test. Both lists are sorted.
func stratifiedSplit(y []int, seed uint64, purpose string) (train, test []int) {
	byClass := map[int][]int{}
	var classes []int
	for i, c := range y {
		if _, ok := byClass[c]; !ok {
			classes = append(classes, c)
		}
		byClass[c] = append(byClass[c], i)
	}
	slices.Sort(classes)
	quota := make(map[int]int, len(classes))
	total := 0
	for _, c := range classes {
		quota[c] = len(byClass[c]) / 5
		total += quota[c]
	}
	order := slices.Clone(classes)
	slices.SortStableFunc(order, func(a, b int) int {
		return (len(byClass[b]) % 5) - (len(byClass[a]) % 5) // larger remainder first
	})
	for i := 0; total < testCount(len(y)); i++ {
		quota[order[i%len(order)]]++
		total++
	}
	rng := newRNG(seed, purpose)
	for _, c := range classes {
		rows := byClass[c]
		rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		test = append(test, rows[:quota[c]]...)
		train = append(train, rows[quota[c]:]...)
	}
	slices.Sort(test)
	slices.Sort(train)
	return train, test
}

func intsToFloats(v []int) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
