//go:build libtorch && tokenizers

package golibtorch

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/bench/worker"
	"github.com/mlbench/mlbench/internal/testenv"
	"github.com/mlbench/mlbench/llm/llmtest"
	"github.com/mlbench/mlbench/models"
	"github.com/mlbench/mlbench/models/modeltest"
	"github.com/mlbench/mlbench/torch"
)

func TestGoLibtorchLLMRegistered(t *testing.T) {
	for _, task := range []string{"llm/bert-qa", "llm/gpt2"} {
		assert.NoError(t, worker.Lookup(task, "go-libtorch"), task)
	}
}

// llmTorchSpec is a spec of task for impl on the tiny test models, with the
// repository's SQuAD dev set or prompts file (skipped when absent).
func llmTorchSpec(t *testing.T, task, impl string, params map[string]any) bench.Spec {
	t.Helper()
	root := modeltest.Root(t)
	tiny := modeltest.TinyModels(t)
	model, extra, file := "bert-qa", "squad", filepath.Join(root, "data", "processed", "squad_v2_dev", "dev-v2.0.json")
	if task == "llm/gpt2" {
		model, extra, file = "gpt2", "prompts", filepath.Join(root, "data", "processed", "prompts", "prompts.json")
	}
	if _, err := os.Stat(file); err != nil {
		testenv.Skip(t, "%s missing (mlbench data prepare): %v", file, err)
	}
	dir := t.TempDir()
	return bench.Spec{
		SchemaVersion: bench.SchemaVersion, Task: task, Impl: impl, Size: bench.SizeQuick,
		Inputs: map[string]string{"model_dir": filepath.Join(tiny, model),
			"tokenizer": filepath.Join(tiny, model, "tokenizer.json"), extra: file},
		Params: params, Warmup: 1, Reps: 1, Threads: 2, Device: "cpu",
		Datasets:   []bench.DatasetRef{{Name: extra, Source: "test"}},
		ResultPath: filepath.Join(dir, impl+".result.json"), WorkDir: dir,
	}
}

func llmTorchWriteSpec(t *testing.T, spec bench.Spec) string {
	t.Helper()
	b, err := json.Marshal(spec)
	require.NoError(t, err)
	p := filepath.Join(spec.WorkDir, spec.Impl+".spec.json")
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

func llmTorchReadResult(t *testing.T, path string) *bench.Result {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	r, err := bench.DecodeResult(b)
	require.NoError(t, err)
	return r
}

// runLLMPair runs the spec as go-libtorch (in this process, as `mlbench
// worker` does) and as python-transformers (the reference), and returns
// both results.
func runLLMPair(t *testing.T, task string, params map[string]any) (g, py *bench.Result) {
	t.Helper()
	spec := llmTorchSpec(t, task, "go-libtorch", params)
	live := torch.LiveTensors()
	require.NoError(t, worker.Main(llmTorchWriteSpec(t, spec)))
	assert.Equal(t, live, torch.LiveTensors(), "the worker frees every tensor")
	g = llmTorchReadResult(t, spec.ResultPath)
	assert.Empty(t, g.Errors)
	assert.Equal(t, "libtorch", g.Framework)
	assert.Equal(t, torch.Version(), g.FrameworkVersion)
	assert.Len(t, g.Phases["load"], 1)
	assert.Equal(t, "sdpa", g.Params["attn_implementation"])

	spec.Impl = "python-transformers"
	spec.ResultPath = filepath.Join(spec.WorkDir, "python-transformers.result.json")
	out, err := exec.Command(modeltest.Python(t), filepath.Join(modeltest.Root(t), "reference", "python", "llm_transformers.py"),
		"--spec", llmTorchWriteSpec(t, spec)).CombinedOutput()
	require.NoError(t, err, "%s", out)
	py = llmTorchReadResult(t, spec.ResultPath)
	return g, py
}

// assertProbesClose checks probe key of g against py's: same length, max
// abs diff <= 1e-3 (the task's parity rule).
func assertProbesClose(t *testing.T, g, py *bench.Result, key string, n int) {
	t.Helper()
	require.Len(t, g.Probes[key], n, key)
	require.Len(t, py.Probes[key], n, key)
	d := 0.0
	for i, v := range py.Probes[key] {
		d = math.Max(d, math.Abs(v-g.Probes[key][i]))
	}
	t.Logf("%s: max abs diff vs python-transformers %.3g", key, d)
	assert.LessOrEqual(t, d, 1e-3, key)
}

func TestGoLibtorchBertQAParity(t *testing.T) {
	g, py := runLLMPair(t, "llm/bert-qa", map[string]any{
		"max_length": 384, "stride": 128, "n_best": 20, "max_answer_length": 30, "limit": 4, "trained": false})
	for _, ph := range []string{"tokenize", "model", "postprocess"} {
		assert.Len(t, g.Phases[ph], 4, ph)
	}
	assert.Greater(t, g.Metrics["requests_per_s"], 0.0)
	assert.Equal(t, py.Metrics["windows_per_request"], g.Metrics["windows_per_request"])
	assert.Contains(t, g.NotApplicable, "em")
	n := len(py.Probes["start_logits"])
	assert.Positive(t, n)
	assertProbesClose(t, g, py, "start_logits", n)
	assertProbesClose(t, g, py, "end_logits", n)
}

func TestGoLibtorchGPT2Parity(t *testing.T) {
	g, py := runLLMPair(t, "llm/gpt2", map[string]any{"new_tokens": 8, "limit": 2})
	assert.Len(t, g.Phases["ttft"], 2)
	assert.Len(t, g.Phases["per_token"], 2*7)
	assert.Positive(t, g.Metrics["tokens_per_s"])
	assert.Positive(t, g.Metrics["per_token_p50"])
	assertProbesClose(t, g, py, "gen_logits", 5*256)
	assert.Equal(t, py.Probes["tokens"], g.Probes["tokens"], "greedy ids (random weights: compared here, not by the task rule)")
}

// The sweep input mode (--size sweep): the prepared llm_sweep ids, no
// tokenizer; the same logits and ids as python-transformers on them.
func TestGoLibtorchSweepsParity(t *testing.T) {
	sweep := filepath.Join(modeltest.Root(t), "data", "processed", "llm_sweep")
	for _, c := range []struct {
		task   string
		params map[string]any
		inputs map[string]string
		probe  string
		n      int
	}{
		{"llm/bert-qa", map[string]any{"seq_len": 32}, map[string]string{"ids": "bert_ids_32.npy", "token_type_ids": "bert_types_32.npy"}, "start_logits", 8 * 32},
		{"llm/gpt2", map[string]any{"prompt_len": 8, "new_tokens": 6}, map[string]string{"prompt_ids": "gpt2_prompts_8.npy"}, "gen_logits", 5 * 256},
	} {
		spec := llmTorchSpec(t, c.task, "go-libtorch", c.params)
		spec.Size = bench.SizeSweep
		delete(spec.Inputs, "squad")
		delete(spec.Inputs, "prompts")
		for k, f := range c.inputs {
			spec.Inputs[k] = filepath.Join(sweep, f)
			if _, err := os.Stat(spec.Inputs[k]); err != nil {
				testenv.Skip(t, "%s missing (mlbench data prepare --dataset llm_sweep): %v", spec.Inputs[k], err)
			}
		}
		require.NoError(t, worker.Main(llmTorchWriteSpec(t, spec)))
		g := llmTorchReadResult(t, spec.ResultPath)
		assert.Empty(t, g.Errors)
		assert.NotContains(t, g.Phases, "tokenize")
		spec.Impl = "python-transformers"
		spec.ResultPath = filepath.Join(spec.WorkDir, "python-transformers.result.json")
		out, err := exec.Command(modeltest.Python(t), filepath.Join(modeltest.Root(t), "reference", "python", "llm_transformers.py"),
			"--spec", llmTorchWriteSpec(t, spec)).CombinedOutput()
		require.NoError(t, err, "%s", out)
		py := llmTorchReadResult(t, spec.ResultPath)
		assertProbesClose(t, g, py, c.probe, c.n)
		assert.Equal(t, py.Probes["tokens"], g.Probes["tokens"])
		assert.Equal(t, len(py.Phases["model"]), len(g.Phases["model"]))
	}
}

// A batched step (the batch sweep): 4 rows at batch 4 and at batch 2 give
// every row the ids and logits of its batch-1 generation, on the tiny GPT-2;
// a batch other than the cache's and ragged rows are errors; every tensor is
// freed.
func TestGoLibtorchGPT2Batches(t *testing.T) {
	live := torch.LiveTensors()
	m, err := models.LoadGPT2(filepath.Join(modeltest.TinyModels(t), "gpt2"), torch.CPU)
	require.NoError(t, err)
	g := &gpt2{m: m, dev: torch.CPU}
	llmtest.AssertBatchesMatchRows(t, g, llmtest.Rows(4, 7, g.VocabSize()), 8, []int{4, 2}, 1e-4)
	require.NoError(t, g.Close())
	assert.Equal(t, live, torch.LiveTensors(), "the cache, the logits and the model freed")
}
