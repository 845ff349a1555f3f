package data

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/mlbench/mlbench/internal/atomicfile"
)

const (
	cifarDir      = "cifar-10-batches-bin"
	cifarPixels   = 3 * 32 * 32
	cifarRecord   = 1 + cifarPixels
	cifarClasses  = 10
	CNNEpochs     = 10 // rows of order_full.npy
	cifarInitSeed = Seed
)

// cifarLayout is the archive's shape; tests use a small one.
type cifarLayout struct {
	perBatch int // records per batch file
	quick    int // images in order_quick (a multiple of 10: balanced over classes)
}

var cifarShape = cifarLayout{perBatch: 10000, quick: 5000}

func cifarDataset() *dataset {
	return &dataset{
		name: "cifar10",
		dir:  "cifar10",
		sources: []sourceFile{{
			Name:   "cifar-10-binary.tar.gz",
			URL:    "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
			SHA256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
			MD5:    "c32a1d4ab5d03f1284b67883e8d87530",
			Size:   170052171,
		}},
		outputs: []string{"train_x.npy", "train_y.npy", "test_x.npy", "test_y.npy", "order_full.npy", "order_quick.npy", "init.safetensors"},
		build:   buildCIFAR,
	}
}

// npyWriter writes a u1 .npy whose rows arrive out of order (WriteAt), to a
// temporary file renamed into place by commit.
type npyWriter struct {
	f    *os.File
	path string
	hdr  int64
}

func newNPYWriter(path string, shape []int) (*npyWriter, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	h := npyHeader("|u1", shape)
	n := int64(1)
	for _, d := range shape {
		n *= int64(d)
	}
	_, err = f.Write(h)
	if err == nil {
		err = f.Truncate(int64(len(h)) + n)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &npyWriter{f: f, path: path, hdr: int64(len(h))}, nil
}

func (w *npyWriter) writeAt(b []byte, off int64) error {
	_, err := w.f.WriteAt(b, w.hdr+off)
	return err
}

func (w *npyWriter) commit() error {
	if err := w.f.Sync(); err != nil {
		w.abort()
		return err
	}
	if err := w.f.Close(); err != nil {
		os.Remove(w.f.Name())
		return err
	}
	if err := os.Chmod(w.f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(w.f.Name(), w.path)
}

func (w *npyWriter) abort() {
	w.f.Close()
	os.Remove(w.f.Name())
}

func buildCIFAR(b *buildCtx) (note string, err error) {
	L := cifarShape
	nTrain, nTest := 5*L.perBatch, L.perBatch
	trainX, err := newNPYWriter(filepath.Join(b.out, "train_x.npy"), []int{nTrain, 3, 32, 32})
	if err != nil {
		return "", b.errf("train_x.npy", "%v", err)
	}
	defer trainX.abort()
	testX, err := newNPYWriter(filepath.Join(b.out, "test_x.npy"), []int{nTest, 3, 32, 32})
	if err != nil {
		return "", b.errf("test_x.npy", "%v", err)
	}
	defer testX.abort()
	trainY := make([]float64, nTrain)
	testY := make([]float64, nTest)
	if err := extractCIFAR(b, trainX, testX, trainY, testY); err != nil {
		return "", err
	}
	if err := trainX.commit(); err != nil {
		return "", b.errf("train_x.npy", "%v", err)
	}
	if err := testX.commit(); err != nil {
		return "", b.errf("test_x.npy", "%v", err)
	}
	return writeCIFARLabelsAndOrders(b, trainY, testY)
}

// extractCIFAR streams the archive's five training batches and its test
// batch into the image writers and the label slices; any other member must
// be one of the archive's known files, and every batch must be there once.
func extractCIFAR(b *buildCtx, trainX, testX *npyWriter, trainY, testY []float64) error {
	L := cifarShape
	src := b.src[0]
	batchBytes := int64(L.perBatch * cifarRecord)
	allowed := map[string]bool{}
	batchIndex := map[string]int{} // member -> 0..4 train, 5 test
	for i := 1; i <= 5; i++ {
		m := fmt.Sprintf("%s/data_batch_%d.bin", cifarDir, i)
		allowed[m], batchIndex[m] = true, i-1
	}
	allowed[cifarDir+"/test_batch.bin"], batchIndex[cifarDir+"/test_batch.bin"] = true, 5
	for _, m := range []string{"batches.meta.txt", "readme.html", "readme.txt"} {
		allowed[cifarDir+"/"+m] = true
	}
	seen := map[string]bool{}
	var buf, pix []byte

	f, err := os.Open(src.path)
	if err != nil {
		return b.errf(src.src.Name, "%v", err)
	}
	defer f.Close()
	b.o.logf("cifar10: extracting %s", src.path)
	err = walkTarGz(f, allowed, map[string]bool{cifarDir: true}, batchBytes, func(m tarMember) error {
		k, isBatch := batchIndex[m.Name]
		if !isBatch {
			return nil
		}
		if seen[m.Name] {
			return fmt.Errorf("%s appears twice", m.Name)
		}
		seen[m.Name] = true
		if m.Size != batchBytes {
			return fmt.Errorf("%s: %d bytes, want %d (%d records of %d)", m.Name, m.Size, batchBytes, L.perBatch, cifarRecord)
		}
		if buf == nil {
			buf = make([]byte, batchBytes)
			pix = make([]byte, L.perBatch*cifarPixels)
		}
		if _, err := io.ReadFull(m.R, buf); err != nil {
			return archiveErr("reading "+m.Name, err)
		}
		labels := trainY[min(k, 4)*L.perBatch:]
		if k == 5 {
			labels = testY
		}
		if err := parseCIFARBatch(buf, labels[:L.perBatch], pix); err != nil {
			return fmt.Errorf("%s: %v", m.Name, err)
		}
		if k == 5 {
			return testX.writeAt(pix, 0)
		}
		return trainX.writeAt(pix, int64(k)*int64(len(pix)))
	})
	if err != nil {
		return b.errf(src.src.Name, "%v", err)
	}
	for m := range batchIndex {
		if !seen[m] {
			return b.errf(src.src.Name, "archive lacks %s", m)
		}
	}
	return nil
}

// writeCIFARLabelsAndOrders writes the labels, the per-epoch batch orders
// (drawn once from the seed) and the CNN's initial weights, and returns the
// dataset's note.
func writeCIFARLabelsAndOrders(b *buildCtx, trainY, testY []float64) (string, error) {
	nTrain, nTest := len(trainY), len(testY)
	full := make([]float64, 0, CNNEpochs*nTrain)
	rng := newRNG(Seed, "cifar10/order_full")
	for e := 0; e < CNNEpochs; e++ {
		full = append(full, intsToFloats(rng.Perm(nTrain))...)
	}
	quick, err := balancedSubset(trainY, cifarShape.quick, newRNG(Seed, "cifar10/order_quick").Perm(nTrain))
	if err != nil {
		return "", b.errf("order_quick.npy", "%v", err)
	}
	for _, w := range []struct {
		name, dt string
		shape    []int
		v        []float64
	}{
		{"train_y.npy", "<i8", []int{nTrain}, trainY},
		{"test_y.npy", "<i8", []int{nTest}, testY},
		{"order_full.npy", "<i8", []int{CNNEpochs, nTrain}, full},
		{"order_quick.npy", "<i8", []int{1, len(quick)}, intsToFloats(quick)},
	} {
		if err := WriteNPYFile(filepath.Join(b.out, w.name), w.dt, w.shape, w.v); err != nil {
			return "", b.errf(w.name, "%v", err)
		}
	}
	if err := atomicfile.Write(filepath.Join(b.out, "init.safetensors"), func(w io.Writer) error {
		return WriteSafetensors(w, CNNInit(cifarInitSeed), map[string]string{"format": "pt", "seed": fmt.Sprint(cifarInitSeed)})
	}); err != nil {
		return "", b.errf("init.safetensors", "%v", err)
	}
	return fmt.Sprintf("%d train / %d test images; order_full: %d epoch permutations, order_quick: %d images (%d per class), seed %d; init.safetensors: PyTorch-default uniform init, seed %d",
		nTrain, nTest, CNNEpochs, len(quick), len(quick)/cifarClasses, Seed, cifarInitSeed), nil
}

// parseCIFARBatch splits a batch file's records (a label byte, then 3072
// pixel bytes) into labels and pix, one record per label; the sizes must
// match exactly and every label be a class.
func parseCIFARBatch(buf []byte, labels []float64, pix []byte) error {
	n := len(labels)
	if len(buf) != n*cifarRecord || len(pix) != n*cifarPixels {
		return fmt.Errorf("%d bytes for %d records of %d", len(buf), n, cifarRecord)
	}
	for i := 0; i < n; i++ {
		rec := buf[i*cifarRecord : (i+1)*cifarRecord]
		if rec[0] >= cifarClasses {
			return fmt.Errorf("record %d has label %d", i, rec[0])
		}
		labels[i] = float64(rec[0])
		copy(pix[i*cifarPixels:(i+1)*cifarPixels], rec[1:])
	}
	return nil
}

// balancedSubset walks perm and keeps the first n/10 rows of each class, in
// perm's order: a fixed, class-balanced subset in a random order.
func balancedSubset(labels []float64, n int, perm []int) ([]int, error) {
	per := n / cifarClasses
	count := make([]int, cifarClasses)
	out := make([]int, 0, n)
	for _, p := range perm {
		c := int(labels[p])
		if count[c] < per {
			count[c]++
			out = append(out, p)
		}
	}
	if len(out) != per*cifarClasses {
		return nil, fmt.Errorf("only %d of %d images for a balanced subset", len(out), per*cifarClasses)
	}
	return out, nil
}

// CNNInit draws the benchmark CNN's initial weights like PyTorch's default
// (Conv2d/Linear reset_parameters: kaiming_uniform(a=sqrt(5)) for weights,
// which is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for
// biases), from one generator (seed, "cifar10/init"), layer by layer in
// model order, weight before bias, in PyTorch's layouts.
func CNNInit(seed uint64) []Tensor {
	rng := newRNG(seed, "cifar10/init")
	layers := []struct {
		name  string
		shape []int
		fanIn int
	}{
		{"conv1", []int{32, 3, 3, 3}, 3 * 3 * 3},
		{"conv2", []int{64, 32, 3, 3}, 32 * 3 * 3},
		{"fc1", []int{512, 4096}, 4096},
		{"fc2", []int{10, 512}, 512},
	}
	var out []Tensor
	for _, l := range layers {
		bound := 1 / math.Sqrt(float64(l.fanIn))
		draw := func(n int) []float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(bound * (2*rng.Float64() - 1))
			}
			return v
		}
		n := 1
		for _, d := range l.shape {
			n *= d
		}
		out = append(out, Tensor{Name: l.name + ".weight", Shape: l.shape, Data: draw(n)})
		out = append(out, Tensor{Name: l.name + ".bias", Shape: []int{l.shape[0]}, Data: draw(l.shape[0])})
	}
	return out
}
