package data

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const digitsPackageFile = "sklearn/datasets/data/digits.csv.gz"

func digitsDataset() *dataset {
	return &dataset{
		name:    "digits",
		dir:     "digits",
		kind:    "digits",
		outputs: []string{"X.npy", "y.npy", "train_idx.npy", "test_idx.npy"},
		build:   buildDigits,
	}
}

// locateDigits asks the Python interpreter where scikit-learn is and
// returns its bundled digits.csv.gz (the file load_digits reads).
func locateDigits(o *Options) (*obtained, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	py := o.python()
	out, err := exec.CommandContext(ctx, py, "-c",
		"import sklearn, os; print(sklearn.__version__); print(os.path.dirname(sklearn.__file__))").Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
			lines := strings.Split(strings.TrimSpace(string(ee.Stderr)), "\n")
			msg = lines[len(lines)-1]
		}
		return nil, fmt.Errorf("digits: %s: cannot locate scikit-learn with %s: %s (digits are exported from scikit-learn's bundled copy; pass a Python with scikit-learn)", digitsPackageFile, py, oneLine(msg))
	}
	f := strings.Fields(string(out))
	if len(f) < 2 {
		return nil, fmt.Errorf("digits: %s: unexpected output from %s: %q", digitsPackageFile, py, string(out))
	}
	version, dir := f[0], strings.Join(f[1:], " ")
	p := filepath.Join(dir, "datasets", "data", "digits.csv.gz")
	_, sum, _, err := fileDigest(p)
	if err != nil {
		return nil, fmt.Errorf("digits: %s: %v", digitsPackageFile, err)
	}
	return &obtained{
		src:      sourceFile{Name: "digits.csv.gz"},
		path:     p,
		sha256:   sum,
		official: true,
		source:   fmt.Sprintf("scikit-learn %s package file %s", version, digitsPackageFile),
		note:     "the copy scikit-learn's load_digits reads (" + p + ")",
	}, nil
}

func buildDigits(b *buildCtx) (string, error) {
	src := b.src[0]
	X, y, err := readDigitsCSV(src.path)
	if err != nil {
		return "", b.errf("digits.csv.gz", "%v", err)
	}
	n := len(y)
	train, test := stratifiedSplit(y, Seed, "digits/split")
	for _, w := range []struct {
		name, dt string
		shape    []int
		v        []float64
	}{
		{"X.npy", "<f8", []int{n, 64}, X},
		{"y.npy", "<i8", []int{n}, intsToFloats(y)},
		{"train_idx.npy", "<i8", []int{len(train)}, intsToFloats(train)},
		{"test_idx.npy", "<i8", []int{len(test)}, intsToFloats(test)},
	} {
		if err := WriteNPYFile(filepath.Join(b.out, w.name), w.dt, w.shape, w.v); err != nil {
			return "", b.errf(w.name, "%v", err)
		}
	}
	return fmt.Sprintf("%d images x 64 features; stratified split %d train / %d test, seed %d", n, len(train), len(test), Seed), nil
}

// readDigitsCSV reads scikit-learn's digits.csv.gz: one row per image, 64
// pixel values (0..16) and the label, comma-separated.
func readDigitsCSV(path string) (X []float64, y []int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, nil, fmt.Errorf("corrupt gzip: %v", err)
	}
	sc := bufio.NewScanner(gz)
	ln := 0
	for sc.Scan() {
		ln++
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		fs := strings.Split(s, ",")
		if len(fs) != 65 {
			return nil, nil, fmt.Errorf("line %d: %d columns, want 65", ln, len(fs))
		}
		for i, c := range fs {
			v, err := strconv.ParseFloat(strings.TrimSpace(c), 64)
			if err != nil {
				return nil, nil, fmt.Errorf("line %d column %d: %v", ln, i+1, err)
			}
			if i < 64 {
				X = append(X, v)
			} else {
				if v != float64(int(v)) || v < 0 || v > 9 {
					return nil, nil, fmt.Errorf("line %d: label %v is not 0..9", ln, v)
				}
				y = append(y, int(v))
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("reading: %v", archiveErr("gzip", err))
	}
	if len(y) == 0 {
		return nil, nil, fmt.Errorf("no rows")
	}
	return X, y, nil
}
