package report

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad: whatever a result file holds, Load returns an error or results
// that every format can write (no +Inf for encoding/json, no panic). Runs on
// its seeds with go test, 10 s in CI (build.sh), longer by hand.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"classical_svm_go-gonum.result.json", "classical_svm_python-sklearn.result.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "run1", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, b)
	}
	ref := []byte(`{"schema_version": 1, "task": "classical/linreg", "impl": "python-sklearn", "language": "x", "framework": "x", "status": "ok", "phases": {"fit": [5e-324, 5e-324, 5e-324]}}`)
	f.Add(ref, []byte(`{"schema_version": 1, "task": "classical/linreg", "impl": "go-gonum", "language": "x", "framework": "x", "status": "ok", "phases": {"fit": [1e308, 1e308]}}`))
	f.Add(ref, []byte(`{"schema_version": 1, "task": "classical/linreg", "impl": "go-gonum", "language": "x", "framework": "x", "status": "ok", "phases": {"fit": [-1.5]}}`))
	f.Add(ref, []byte(`{"schema_version": 1, "task": "classical/linreg", "impl": "go-gonum", "status": "unverified", "parity": {"ok": false, "checks": null}}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		dir := t.TempDir()
		for i, body := range [][]byte{a, b} {
			if err := os.WriteFile(filepath.Join(dir, []string{"a", "b"}[i]+ResultSuffix), body, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		rs, err := Load(dir)
		if err != nil {
			return
		}
		for _, f := range []Format{Markdown, JSON, CSV} {
			var buf bytes.Buffer
			if err := Write(&buf, rs, f); err != nil && !isKnownReportError(err) {
				t.Fatalf("%s: %v", f, err)
			}
		}
	})
}

// isKnownReportError: two files for one (task, variant, impl) are refused
// by Write with a clear error; anything else is a bug.
func isKnownReportError(err error) bool {
	return bytes.Contains([]byte(err.Error()), []byte("two results for"))
}
