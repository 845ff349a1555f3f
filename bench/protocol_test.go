package bench

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteJSONAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "r.result.json")
	require.NoError(t, WriteJSONAtomic(p, map[string]int{"a": 1}))
	require.NoError(t, WriteJSONAtomic(p, map[string]int{"a": 2}), "replaces an existing file")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.JSONEq(t, `{"a": 2}`, string(b))
	ents, _ := os.ReadDir(dir)
	assert.Len(t, ents, 1, "no temporary file left behind")

	// A value that cannot be encoded leaves the old file untouched.
	err = WriteJSONAtomic(p, map[string]float64{"x": math.NaN()})
	require.Error(t, err)
	b, _ = os.ReadFile(p)
	assert.JSONEq(t, `{"a": 2}`, string(b))
	ents, _ = os.ReadDir(dir)
	assert.Len(t, ents, 1)

	// A directory that does not exist: an error and no file.
	require.Error(t, WriteJSONAtomic(filepath.Join(dir, "missing", "x.json"), 1))
}

func goodSpec(dir string) map[string]any {
	return map[string]any{"schema_version": 1, "task": "classical/svm", "impl": "go-gonum", "warmup": 0, "reps": 1,
		"threads": 1, "device": "cpu", "result_path": filepath.Join(dir, "r.json")}
}

func TestReadSpecRejectsBadSpecs(t *testing.T) {
	dir := t.TempDir()
	write := func(v any) string {
		p := filepath.Join(dir, "spec.json")
		b, _ := json.Marshal(v)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	s, err := ReadSpec(write(goodSpec(dir)))
	require.NoError(t, err)
	assert.Equal(t, "classical/svm", s.Task)

	for name, mutate := range map[string]func(m map[string]any){
		"schema_version 2": func(m map[string]any) { m["schema_version"] = 2 },
		"task is empty":    func(m map[string]any) { delete(m, "task") },
		"reps 0 < 1":       func(m map[string]any) { m["reps"] = 0 },
		"threads 0 < 1":    func(m map[string]any) { m["threads"] = 0 },
		`device "tpu"`:     func(m map[string]any) { m["device"] = "tpu" },
		"unknown field":    func(m map[string]any) { m["colour"] = "blue" },
	} {
		m := goodSpec(dir)
		mutate(m)
		_, err := ReadSpec(write(m))
		assert.ErrorContains(t, err, name, name)
	}
	p := filepath.Join(dir, "trunc.json")
	require.NoError(t, os.WriteFile(p, []byte(`{"schema_version": 1, "task": "cl`), 0o644))
	_, err = ReadSpec(p)
	assert.ErrorContains(t, err, "malformed JSON")
	_, err = ReadSpec(filepath.Join(dir, "none.json"))
	assert.ErrorContains(t, err, "read spec")
}

func TestDecodeResultRejectsInvalid(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{"schema_version": 1, "task": "t", "impl": "i", "language": "go", "framework": "f",
			"phases": map[string]any{"fit": []float64{0.1}}, "metrics": map[string]any{}, "probes": map[string]any{}}
	}
	dec := func(m map[string]any) error {
		b, _ := json.Marshal(m)
		_, err := DecodeResult(b)
		return err
	}
	require.NoError(t, dec(base()))
	for want, mutate := range map[string]func(m map[string]any){
		"no phases timed":   func(m map[string]any) { m["phases"] = map[string]any{} },
		"phase fit[0] = -1": func(m map[string]any) { m["phases"] = map[string]any{"fit": []float64{-1}} },
		"framework is":      func(m map[string]any) { m["framework"] = "" },
		"schema_version 0":  func(m map[string]any) { delete(m, "schema_version") },
	} {
		m := base()
		mutate(m)
		assert.ErrorContains(t, dec(m), want, want)
	}
	_, err := DecodeResult([]byte(`{"schema_version": 1, "metrics": {"acc": NaN}}`))
	assert.ErrorContains(t, err, "invalid result JSON", "NaN is not JSON: Python's allow_nan=False output never has it")

	r := &Result{SchemaVersion: 1, Task: "t", Impl: "i", Language: "go", Framework: "f",
		Phases: map[string][]float64{"fit": {1}}, Metrics: map[string]float64{"acc": math.Inf(1)}}
	assert.ErrorContains(t, r.Validate(), "metric acc = +Inf")
	r.Metrics = nil
	r.Probes = map[string][]float64{"p": {math.NaN()}}
	assert.ErrorContains(t, r.Validate(), "probe p[0] = NaN")
}
