package gogonum

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/mlbench/mlbench/bench/worker"
	"github.com/mlbench/mlbench/classical"
	"github.com/mlbench/mlbench/data"
)

// gonumInfo describes the go-gonum implementation; its framework version is
// filled in by worker from the binary's build information.
var gonumInfo = worker.Info{Impl: "go-gonum", Framework: "gonum"}

func init() {
	worker.Register("classical/linreg", gonumInfo, runLinreg)
	worker.Register("classical/svm", gonumInfo, runSVM)
	worker.Register("classical/kmeans", gonumInfo, runKMeans)
}

// split is a prepared dataset with a train/test split, as gonum values.
type split struct {
	xTrain, xTest *mat.Dense
	yTrain, yTest []float64
}

// loadSplit reads the inputs X, y, train_idx and test_idx of c's spec and
// gathers the train rows, tiled replicate times, and the test rows. The
// files are mapped (data.MapNPY), so that the only copies are the gathered
// rows, as NumPy's X[train_idx] after np.load.
func loadSplit(c *worker.Context, replicate int) (*split, error) {
	files := map[string]*data.MappedNPY{}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for _, name := range []string{"X", "y", "train_idx", "test_idx"} {
		p, err := c.Spec.Input(name)
		if err != nil {
			return nil, err
		}
		if files[name], err = data.MapNPY(p); err != nil {
			return nil, err
		}
	}
	xs, ys := files["X"].Shape, files["y"].Shape
	if len(xs) != 2 || len(ys) != 1 || ys[0] != xs[0] {
		return nil, fmt.Errorf("X has shape %v and y %v: want [n,p] and [n]", xs, ys)
	}
	X, y := files["X"].Float64s(), files["y"].Float64s()
	n, p := xs[0], xs[1]
	rows := func(idx []int, times int) (*mat.Dense, []float64, error) {
		m := mat.NewDense(len(idx)*times, p, nil)
		raw := m.RawMatrix()
		t := make([]float64, len(idx)*times)
		for i, r := range idx {
			if r < 0 || r >= n {
				return nil, nil, fmt.Errorf("index %d out of range [0,%d)", r, n)
			}
			copy(raw.Data[i*raw.Stride:i*raw.Stride+p], X[r*p:(r+1)*p])
			t[i] = y[r]
		}
		// The copies: whole blocks, as np.tile (raw.Stride is p).
		blk := len(idx) * raw.Stride
		for k := 1; k < times; k++ {
			copy(raw.Data[k*blk:(k+1)*blk], raw.Data[:blk])
			copy(t[k*len(idx):(k+1)*len(idx)], t[:len(idx)])
		}
		return m, t, nil
	}
	var s split
	var err error
	if s.xTrain, s.yTrain, err = rows(files["train_idx"].Ints(), replicate); err != nil {
		return nil, fmt.Errorf("train_idx: %w", err)
	}
	if s.xTest, s.yTest, err = rows(files["test_idx"].Ints(), 1); err != nil {
		return nil, fmt.Errorf("test_idx: %w", err)
	}
	return &s, nil
}

// runLinreg is classical/linreg: OLS with intercept on the train rows
// (tiled `replicate` times), predictions on the test rows.
func runLinreg(c *worker.Context) error {
	replicate, err := c.Spec.Int("replicate")
	if err != nil {
		return err
	}
	if replicate < 1 {
		return fmt.Errorf("replicate = %d, want >= 1", replicate)
	}
	c.SetParams(map[string]any{"replicate": replicate, "fit_intercept": true})
	c.Result.Notes = append(c.Result.Notes,
		"classical.LinearRegression: centre X and y, Householder QR of the centred X (LAPACK's dgelq2 and dormlq on its transpose in one pass, gonum dtrtrs), "+
			"rank checked on diag(R); intercept = ȳ − x̄·β, as scikit-learn's LinearRegression",
		fmt.Sprintf("train rows tiled %d times inside the load phase", replicate))
	return c.Repeat(func(_ int, timed bool) error {
		var s *split
		var lr classical.LinearRegression
		var pred []float64
		if err := c.Time(timed, "load", func() (err error) {
			s, err = loadSplit(c, replicate)
			return err
		}); err != nil {
			return err
		}
		if err := c.Time(timed, "fit", func() error { return lr.Fit(s.xTrain, s.yTrain) }); err != nil {
			return err
		}
		if err := c.Time(timed, "predict", func() error {
			pred = lr.Predict(s.xTest, nil)
			return nil
		}); err != nil {
			return err
		}
		c.Result.Metrics["r2"] = classical.R2(s.yTest, pred)
		c.Result.Metrics["rmse"] = classical.RMSE(s.yTest, pred)
		c.Result.Probes["coef"] = append(lr.Coef(), lr.Intercept())
		c.Result.Probes["pred_first20"] = append([]float64(nil), pred[:min(20, len(pred))]...)
		return nil
	})
}

// runSVM is classical/svm: linear-kernel SVC, one-vs-one, on the train rows,
// predictions on the test rows.
func runSVM(c *worker.Context) error {
	C, err := c.Spec.Float("C")
	if err != nil {
		return err
	}
	tol, err := c.Spec.Float("tol")
	if err != nil {
		return err
	}
	if k, ok := c.Spec.Params["kernel"]; ok && k != "linear" {
		return fmt.Errorf("kernel %v: only linear is implemented", k)
	}
	if !(C > 0) || !(tol > 0) {
		return fmt.Errorf("C = %v and tol = %v must be positive", C, tol)
	}
	c.SetParams(map[string]any{"C": C, "tol": tol, "kernel": "linear", "shrinking": false,
		"cache_size": 200, "max_iter": -1, "multiclass": "ovo"})
	c.Result.Notes = append(c.Result.Notes,
		"classical.SVC: linear kernel, one-vs-one over the 45 class pairs trained concurrently (GOMAXPROCS goroutines), "+
			"SMO with LIBSVM's second-order working-set selection (WSS2) and stopping rule, no shrinking, "+
			"kernel rows by dgemv in an LRU cache; prediction by w·x+b and LIBSVM voting (ties to the lowest class)")
	return c.Repeat(func(_ int, timed bool) error {
		var s *split
		svc := classical.SVC{C: C, Tol: tol}
		var pred []float64
		if err := c.Time(timed, "load", func() (err error) {
			s, err = loadSplit(c, 1)
			return err
		}); err != nil {
			return err
		}
		if err := c.Time(timed, "fit", func() error { return svc.Fit(s.xTrain, s.yTrain) }); err != nil {
			return err
		}
		if err := c.Time(timed, "predict", func() error {
			pred = svc.Predict(s.xTest, nil)
			return nil
		}); err != nil {
			return err
		}
		if !svc.Converged() {
			return fmt.Errorf("SMO did not converge within its iteration bound")
		}
		c.Result.Metrics["accuracy"] = classical.Accuracy(s.yTest, pred)
		c.Result.Probes["test_pred"] = pred
		return nil
	})
}

// runKMeans is classical/kmeans: k-means++ and Lloyd on all of X, then the
// assignment of X to the fitted centres as the predict phase.
func runKMeans(c *worker.Context) error {
	var k, seed, maxIter, nInit int
	var tol float64
	var err error
	for _, p := range []struct {
		name string
		dst  *int
	}{{"k", &k}, {"seed", &seed}, {"max_iter", &maxIter}} {
		if *p.dst, err = c.Spec.Int(p.name); err != nil {
			return err
		}
	}
	if tol, err = c.Spec.Float("tol"); err != nil {
		return err
	}
	nInit = 1
	if _, ok := c.Spec.Params["n_init"]; ok {
		if nInit, err = c.Spec.Int("n_init"); err != nil {
			return err
		}
	}
	if nInit != 1 {
		return fmt.Errorf("n_init = %d: only 1 is implemented", nInit)
	}
	if seed < 0 {
		return fmt.Errorf("seed = %d, want >= 0", seed)
	}
	c.SetParams(map[string]any{"n_init": 1, "init": "k-means++", "algorithm": "lloyd"})
	c.Result.Notes = append(c.Result.Notes,
		"classical.KMeans: greedy k-means++ (2+⌊ln k⌋ candidates per centre, scikit-learn's _kmeans_plusplus) "+
			"with math/rand/v2 PCG(seed, seed), fresh each repetition (so centres differ from NumPy's draws; inertia is compared), "+
			"then Lloyd iterations with scikit-learn's stopping rule (labels unchanged, or centre shift² <= tol·mean(var(X))); "+
			"distances from differences (no centring, no norm trick); k-means++ potentials and assignments skip centres ruled out by "+
			"the triangle inequality (Elkan 2003, lemma 1), which changes no label; passes over 4096-row blocks on GOMAXPROCS goroutines, "+
			"reduced in block order (result independent of the thread count)",
		"predict phase: assignment of X to the fitted centres")
	var X *mat.Dense
	err = c.Repeat(func(_ int, timed bool) error {
		var y []int
		km := &classical.KMeans{K: k, MaxIter: maxIter, Tol: tol}
		if err := c.Time(timed, "load", func() (err error) {
			X, y, err = loadBlobs(c)
			return err
		}); err != nil {
			return err
		}
		src := rand.New(rand.NewPCG(uint64(seed), uint64(seed)))
		if err := c.Time(timed, "fit", func() error { return km.Fit(X, src) }); err != nil {
			return err
		}
		var labels []int
		if err := c.Time(timed, "predict", func() error {
			labels = km.Predict(X, nil)
			return nil
		}); err != nil {
			return err
		}
		c.Result.Metrics["inertia"] = km.Inertia()
		c.Result.Metrics["ari"] = classical.AdjustedRandIndex(y, labels)
		if timed {
			if c.Result.Series == nil {
				c.Result.Series = map[string][]float64{}
			}
			c.Result.Series["n_iter"] = append(c.Result.Series["n_iter"], float64(km.Iterations()))
		}
		c.Result.Probes["centers_sorted_norms"] = sortedNorms(km.Centers())
		return nil
	})
	if err != nil {
		return err
	}
	return kmeansSharedInit(c, X, k, maxIter, tol)
}

// loadBlobs reads the spec's X [n,p] and labels y [n].
func loadBlobs(c *worker.Context) (*mat.Dense, []int, error) {
	xp, err := c.Spec.Input("X")
	if err != nil {
		return nil, nil, err
	}
	yp, err := c.Spec.Input("y")
	if err != nil {
		return nil, nil, err
	}
	xa, err := data.ReadNPY(xp)
	if err != nil {
		return nil, nil, err
	}
	ya, yShape, err := data.ReadNPYInts(yp)
	if err != nil {
		return nil, nil, err
	}
	if len(xa.Shape) != 2 || len(yShape) != 1 || yShape[0] != xa.Rows() {
		return nil, nil, fmt.Errorf("X has shape %v and y %v: want [n,p] and [n]", xa.Shape, yShape)
	}
	return mat.NewDense(xa.Rows(), xa.Cols(), xa.Data), ya, nil
}

// kmeansSharedInit is the parity fit, untimed: Lloyd from the shared
// initial centres, recorded as inertia_shared_init.
func kmeansSharedInit(c *worker.Context, X *mat.Dense, k, maxIter int, tol float64) error {
	ip, err := c.Spec.Input("init")
	if err != nil {
		return err
	}
	ia, err := data.ReadNPY(ip)
	if err != nil {
		return err
	}
	if len(ia.Shape) != 2 || ia.Rows() != k || ia.Cols() != X.RawMatrix().Cols {
		return fmt.Errorf("init has shape %v: want [%d,%d]", ia.Shape, k, X.RawMatrix().Cols)
	}
	km := &classical.KMeans{K: k, MaxIter: maxIter, Tol: tol, Init: mat.NewDense(k, ia.Cols(), ia.Data)}
	if err := km.Fit(X, nil); err != nil {
		return fmt.Errorf("fit from the shared initial centres: %w", err)
	}
	c.Result.Metrics["inertia_shared_init"] = km.Inertia()
	return nil
}

// sortedNorms returns the Euclidean norms of the rows of m, ascending: a
// summary of the centres that does not depend on the order of the clusters.
func sortedNorms(m *mat.Dense) []float64 {
	r, _ := m.Dims()
	out := make([]float64, r)
	for i := range out {
		out[i] = floats.Norm(m.RawRowView(i), 2)
	}
	slices.Sort(out)
	return out
}
