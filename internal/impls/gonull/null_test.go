package gonull

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/bench/worker"
)

func writeSpec(t *testing.T, dir string, params map[string]any, inputs map[string]string) string {
	t.Helper()
	s := &bench.Spec{SchemaVersion: bench.SchemaVersion, Task: "dl/cnn", Impl: "go-null", Size: bench.SizeQuick,
		Inputs: inputs, Params: params, Warmup: 1, Reps: 2, Threads: 1, Device: "cpu",
		ResultPath: filepath.Join(dir, "result.json"), WorkDir: dir}
	p := filepath.Join(dir, "spec.json")
	require.NoError(t, bench.WriteJSONAtomic(p, s))
	return p
}

// go-null through the worker protocol: the spec's phases, timed reps only,
// no probes or metrics, inputs read (a directory only listed).
func TestNullReadsInputsAndTimesPhasesOnly(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x.npy"), make([]byte, 321), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "model"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "model", "w.bin"), make([]byte, 5000), 0o644))
	spec := writeSpec(t, dir, map[string]any{bench.NullParam: bench.NullPhases["dl/cnn"], "epochs": 1},
		map[string]string{"train_x": filepath.Join(dir, "x.npy"), "model": filepath.Join(dir, "model")})
	require.NoError(t, worker.Main(spec))
	b, err := os.ReadFile(filepath.Join(dir, "result.json"))
	require.NoError(t, err)
	r, err := bench.DecodeResult(b)
	require.NoError(t, err)
	assert.Equal(t, "null", r.Framework)
	assert.ElementsMatch(t, []string{"load", "train_epoch", "eval"}, bench.SortedPhases(r.Phases))
	for p, v := range r.Phases {
		assert.Len(t, v, 2, "%s: the timed repetitions, not the warm-up", p)
	}
	assert.Empty(t, r.Probes)
	assert.Empty(t, r.Metrics)
	assert.Contains(t, r.Notes[len(r.Notes)-1], "(321 bytes;")
}

func TestNullRefusesBadSpecs(t *testing.T) {
	dir := t.TempDir()
	err := worker.Main(writeSpec(t, dir, map[string]any{}, nil))
	assert.ErrorContains(t, err, `parameter "phases" missing`)
	err = worker.Main(writeSpec(t, dir, map[string]any{bench.NullParam: []any{"load", 2.0}}, nil))
	assert.ErrorContains(t, err, `"phases"[1] = 2 is not a phase name`)
	err = worker.Main(writeSpec(t, dir, map[string]any{bench.NullParam: []any{"load"}},
		map[string]string{"X": filepath.Join(dir, "none.npy")}))
	assert.ErrorContains(t, err, "input X")
}
