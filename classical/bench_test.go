package classical_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/mlbench/mlbench/classical"
	"github.com/mlbench/mlbench/data"
)

// The benchmarks use the prepared data under $MLBENCH_PROCESSED (default
// ../data/processed, as written by `mlbench data prepare`) when present and
// synthetic data of the same shape otherwise.

func processedDir() string {
	if d := os.Getenv("MLBENCH_PROCESSED"); d != "" {
		return d
	}
	return filepath.Join("..", "data", "processed")
}

func readOrNil(b *testing.B, name string) *data.Array {
	p := filepath.Join(processedDir(), name)
	if _, err := os.Stat(p); err != nil {
		return nil
	}
	a, err := data.ReadNPY(p)
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// syntheticBlobs is the 1e6×8 blobs data set as `mlbench data prepare`
// generates it.
func syntheticBlobs() *mat.Dense {
	x, _, _ := data.GenerateBlobs(1_000_000, data.Seed)
	return mat.NewDense(1_000_000, data.BlobFeatures, x)
}

func BenchmarkKMeansFit1e6(b *testing.B) {
	var X *mat.Dense
	if a := readOrNil(b, "blobs/n1000000/X.npy"); a != nil {
		X = mat.NewDense(a.Rows(), a.Cols(), a.Data)
	} else {
		b.Log("synthetic blobs")
		X = syntheticBlobs()
	}
	b.ResetTimer()
	defer reportCPU(b, cpuSeconds())
	for b.Loop() {
		km := classical.NewKMeans(8)
		if err := km.Fit(X, rand.New(rand.NewPCG(42, 42))); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(km.Iterations()), "iters")
		b.ReportMetric(km.Inertia(), "inertia")
	}
}

func BenchmarkKMeansPredict1e6(b *testing.B) {
	X := syntheticBlobs()
	km := classical.NewKMeans(8)
	if err := km.Fit(X, rand.New(rand.NewPCG(42, 42))); err != nil {
		b.Fatal(err)
	}
	dst := make([]int, 1_000_000)
	b.ResetTimer()
	for b.Loop() {
		km.Predict(X, dst)
	}
}

// digitsTrain returns the Digits training rows, or a synthetic problem of
// the same shape (1437×64, integer features 0..16, 10 classes).
func digitsTrain(b *testing.B) (*mat.Dense, []float64, *mat.Dense, []float64) {
	Xa, ya := readOrNil(b, "digits/X.npy"), readOrNil(b, "digits/y.npy")
	tr, te := readOrNil(b, "digits/train_idx.npy"), readOrNil(b, "digits/test_idx.npy")
	if Xa == nil || ya == nil || tr == nil || te == nil {
		b.Log("synthetic digits-like data")
		rnd := rand.New(rand.NewPCG(1, 1))
		protos := make([][]float64, 10)
		for c := range protos {
			protos[c] = make([]float64, 64)
			for j := range protos[c] {
				protos[c][j] = float64(rnd.IntN(17))
			}
		}
		mk := func(n int) (*mat.Dense, []float64) {
			X := mat.NewDense(n, 64, nil)
			y := make([]float64, n)
			for i := 0; i < n; i++ {
				c := i % 10
				y[i] = float64(c)
				for j := 0; j < 64; j++ {
					v := protos[c][j] + float64(rnd.IntN(9)-4)
					X.Set(i, j, min(16, max(0, v)))
				}
			}
			return X, y
		}
		X, y := mk(1437)
		Xt, yt := mk(360)
		return X, y, Xt, yt
	}
	p := Xa.Cols()
	pick := func(idx []int) (*mat.Dense, []float64) {
		X := mat.NewDense(len(idx), p, nil)
		y := make([]float64, len(idx))
		for i, r := range idx {
			X.SetRow(i, Xa.Data[r*p:(r+1)*p])
			y[i] = ya.Data[r]
		}
		return X, y
	}
	X, y := pick(tr.Ints())
	Xt, yt := pick(te.Ints())
	return X, y, Xt, yt
}

func BenchmarkSVCFitDigits(b *testing.B) {
	X, y, Xt, yt := digitsTrain(b)
	var s classical.SVC
	cpu := cpuSeconds()
	for b.Loop() {
		s = classical.SVC{}
		if err := s.Fit(X, y); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
	nsv := 0
	for _, v := range s.NumSupport() {
		nsv += v
	}
	b.ReportMetric(float64(nsv), "nSV")
	b.ReportMetric(classical.Accuracy(yt, s.Predict(Xt, nil)), "acc")
}

func BenchmarkLinearRegressionFit(b *testing.B) {
	// California-Housing-sized: 16512 training rows × 8, tiled 10 times.
	rnd := rand.New(rand.NewPCG(9, 9))
	n, p := 165120, 8
	X := mat.NewDense(n, p, nil)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		for j := 0; j < p; j++ {
			X.Set(i, j, rnd.NormFloat64()*float64(j+1))
		}
		y[i] = rnd.NormFloat64()
	}
	var lr classical.LinearRegression
	defer reportCPU(b, cpuSeconds())
	for b.Loop() {
		if err := lr.Fit(X, y); err != nil {
			b.Fatal(err)
		}
	}
}

// reportCPU reports the process CPU time per operation since start.
func reportCPU(b *testing.B, start float64) {
	if b.N > 0 {
		b.ReportMetric((cpuSeconds()-start)/float64(b.N)*1e3, "cpu-ms/op")
	}
}
