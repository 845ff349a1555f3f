package bench

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// Fuzz targets: they run on their seeds with every `go test`, for 10 s each
// in CI (build.sh), and longer by hand (go test ./bench -fuzz=^FuzzReadSpec$).

func FuzzReadSpec(f *testing.F) {
	good, _ := json.Marshal(Spec{SchemaVersion: SchemaVersion, Task: "t", Impl: "i", Reps: 1, Threads: 1, Device: "cpu",
		ResultPath: "/tmp/r.json", Params: map[string]any{"k": 8}})
	f.Add(good)
	f.Add([]byte(`{"schema_version": 1, "task": "t", "impl": "i", "reps": 1, "threads": 1, "device": "cpu", "result_path": "r", "bogus": 1}`))
	f.Add([]byte(`{"schema_version": 1, "reps": "3"}`))
	f.Add([]byte(`{"schema_version": 1, "reps": 1e400}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "spec.json")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := ReadSpec(p)
		if err == nil && (s.Reps < 1 || s.Threads < 1 || s.Task == "" || s.ResultPath == "") {
			t.Fatalf("accepted an invalid spec: %+v", s)
		}
	})
}

func FuzzDecodeResult(f *testing.F) {
	good, _ := json.Marshal(Result{SchemaVersion: SchemaVersion, Task: "t", Impl: "i", Language: "go", Framework: "f",
		Phases: map[string][]float64{"fit": {0.1}}, Metrics: map[string]float64{"r2": 0.6}})
	f.Add(good)
	f.Add([]byte(`{"schema_version": 1, "task": "t", "impl": "i", "language": "l", "framework": "f", "phases": {"fit": [-1.5]}}`))
	f.Add([]byte(`{"schema_version": 1, "task": "t", "impl": "i", "language": "l", "framework": "f", "phases": {"fit": [1e308]}}`))
	f.Add([]byte(`{"schema_version": 1, "phases": {"fit": [1e999]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeResult(b)
		if err != nil {
			return
		}
		for k, vs := range r.Phases {
			for _, v := range vs {
				if v < 0 || v > MaxPhaseSeconds || math.IsNaN(v) {
					t.Fatalf("phase %s = %v accepted", k, v)
				}
			}
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("a valid result cannot be stored: %v", err)
		}
	})
}
