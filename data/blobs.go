package data

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"

	"github.com/mlbench/mlbench/internal/atomicfile"
)

// Blob generation parameters (scikit-learn make_blobs style).
const (
	BlobCenters  = 8
	BlobFeatures = 8
	BlobBox      = 10.0 // centres uniform in [-BlobBox, BlobBox]^features
	BlobStd      = 1.0
)

const blobsSource = "generated: make_blobs-style, seed 42, 8 centres in [-10,10]^8, std 1; init: the generating centres"

func blobsDataset() *dataset {
	return &dataset{name: "blobs", dir: "blobs", kind: "blobs", outputs: []string{"X.npy", "y.npy", "init.npy"}}
}

func blobsName(n int) string { return fmt.Sprintf("blobs/n%d", n) }

// GenerateBlobs draws n points around BlobCenters centres, like
// make_blobs(n, n_features=8, centers=8, cluster_std=1, center_box=(-10,10),
// shuffle=True): one generator (seed, "blobs") draws the centres (row by
// row), then the points of each centre in turn (n/8 each, the remainder to
// the first centres), then a row permutation. X is row-major [n,8].
func GenerateBlobs(n int, seed uint64) (X []float64, y []int, centers []float64) {
	rng := newRNG(seed, "blobs")
	centers = make([]float64, BlobCenters*BlobFeatures)
	for i := range centers {
		centers[i] = -BlobBox + 2*BlobBox*rng.Float64()
	}
	X0 := make([]float64, 0, n*BlobFeatures)
	y0 := make([]int, 0, n)
	for c := 0; c < BlobCenters; c++ {
		m := n / BlobCenters
		if c < n%BlobCenters {
			m++
		}
		for i := 0; i < m; i++ {
			for j := 0; j < BlobFeatures; j++ {
				X0 = append(X0, centers[c*BlobFeatures+j]+BlobStd*rng.NormFloat64())
			}
			y0 = append(y0, c)
		}
	}
	perm := rng.Perm(n)
	X = make([]float64, n*BlobFeatures)
	y = make([]int, n)
	for i, p := range perm {
		copy(X[i*BlobFeatures:(i+1)*BlobFeatures], X0[p*BlobFeatures:(p+1)*BlobFeatures])
		y[i] = y0[p]
	}
	return X, y, centers
}

func prepareBlobs(o *Options, n int) error {
	name := blobsName(n)
	if n <= 0 {
		return fmt.Errorf("%s: invalid size %d", name, n)
	}
	target := filepath.Join(o.Root, filepath.FromSlash(name))
	if old, _ := readMeta(target, []string{"X.npy", "y.npy", "init.npy"}); old != nil && old.Source == blobsSource {
		if _, sum, _, err := fileDigest(filepath.Join(target, "X.npy")); err == nil && sum == old.SHA256 {
			o.logf("%s: up to date (%s)", name, target)
			return nil
		}
	}
	o.logf("%s: generating %s", name, target)
	X, y, centers := GenerateBlobs(n, Seed)
	err := staged(target, func(out string) (*DatasetRef, error) {
		h := sha256.New()
		if err := atomicfile.Write(filepath.Join(out, "X.npy"), func(w io.Writer) error {
			return WriteNPY(io.MultiWriter(w, h), "<f8", []int{n, BlobFeatures}, X)
		}); err != nil {
			return nil, fmt.Errorf("%s: X.npy: %v", name, err)
		}
		if err := WriteNPYFile(filepath.Join(out, "y.npy"), "<i8", []int{n}, intsToFloats(y)); err != nil {
			return nil, fmt.Errorf("%s: y.npy: %v", name, err)
		}
		// The shared initial centres of the k-means parity check: every
		// implementation that can start from given centres runs Lloyd once
		// from these. They are the centres the blobs were drawn around, so
		// Lloyd converges in a few iterations to the same clustering
		// everywhere, and data/ needs no k-means code of its own.
		if err := WriteNPYFile(filepath.Join(out, "init.npy"), "<f8", []int{BlobCenters, BlobFeatures}, centers); err != nil {
			return nil, fmt.Errorf("%s: init.npy: %v", name, err)
		}
		return &DatasetRef{
			Name: name, SHA256: hex.EncodeToString(h.Sum(nil)), Official: true, Source: blobsSource,
			Note: fmt.Sprintf("%d rows x %d features, %d balanced clusters; init.npy: the generating centres, the shared start of the parity check; sha256 is of X.npy (Go math/rand/v2 PCG)", n, BlobFeatures, BlobCenters),
		}, nil
	})
	if err != nil {
		return fmt.Errorf("%s", oneLine(err.Error()))
	}
	return nil
}
