package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/mlbench/mlbench/bench"
)

// ResultSuffix is the file name suffix of a result file.
const ResultSuffix = ".result.json"

// Load reads every result file (*.result.json) in dir, not recursively,
// ignoring names that start with "." (temporary files of an atomic write).
// Unlike bench.DecodeResult it keeps failed results, which may have no
// phases. A file that is not JSON with the current schema version is an
// error; a result stored as passed that fails bench.Result.Validate (a
// negative or absurd phase, NaN, edited by hand or written by a buggy
// implementation) is kept as failed, with its timings dropped. The results are sorted by task, variant (numbers in "key=N"
// compared as numbers) and implementation.
func Load(dir string) ([]*bench.Result, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []*bench.Result
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ResultSuffix) {
			continue
		}
		path := filepath.Join(dir, name)
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var r bench.Result
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: invalid result JSON: %v", path, err)
		}
		if r.SchemaVersion != bench.SchemaVersion {
			return nil, fmt.Errorf("%s: schema_version %d, want %d", path, r.SchemaVersion, bench.SchemaVersion)
		}
		if r.Task == "" || r.Impl == "" {
			return nil, fmt.Errorf("%s: task or impl is empty", path)
		}
		markInvalid(&r)
		out = append(out, &r)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no results in %s", dir)
	}
	sortResults(out)
	return out, nil
}

// markInvalid turns a passed result that does not validate into a failed
// one, so that it is never ranked nor given a ratio.
func markInvalid(r *bench.Result) {
	if r.Status != bench.StatusOK && r.Status != bench.StatusUnverified {
		return
	}
	if err := r.Validate(); err != nil {
		r.Status, r.Reason = bench.StatusFailed, "invalid result file: "+err.Error()
		r.Phases = nil
	}
}

func sortResults(rs []*bench.Result) {
	slices.SortStableFunc(rs, func(a, b *bench.Result) int {
		if c := strings.Compare(a.Task, b.Task); c != 0 {
			return c
		}
		if c := compareVariants(a.Variant, b.Variant); c != 0 {
			return c
		}
		return strings.Compare(a.Impl, b.Impl)
	})
}

// compareVariants orders "n=1000" before "n=10000" before "n=100000": when
// both variants are "key=number" with the same key the numbers are compared.
func compareVariants(a, b string) int {
	ka, va, oka := strings.Cut(a, "=")
	kb, vb, okb := strings.Cut(b, "=")
	if oka && okb && ka == kb {
		fa, erra := strconv.ParseFloat(va, 64)
		fb, errb := strconv.ParseFloat(vb, 64)
		if erra == nil && errb == nil && fa != fb {
			if fa < fb {
				return -1
			}
			return 1
		}
	}
	return strings.Compare(a, b)
}
