package goort

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/bench/worker"
	"github.com/mlbench/mlbench/internal/testenv"
	"github.com/mlbench/mlbench/llm/llmtest"
	"github.com/mlbench/mlbench/models/modeltest"
	"github.com/mlbench/mlbench/ort"
	"github.com/mlbench/mlbench/tokenize"
)

func TestGoORTRegistered(t *testing.T) {
	for _, task := range []string{"llm/bert-qa", "llm/gpt2"} {
		err := worker.Lookup(task, "go-ort")
		if !tokenize.Built() {
			require.ErrorIs(t, err, tokenize.ErrNotBuilt, "without the tokenizers tag, Available says so")
		} else if err != nil {
			assert.Contains(t, err.Error(), "ONNX Runtime library not found")
		}
	}
}

// llmInputs returns the tiny test models of docs/LLM.md (models.py --tiny)
// and the repository's prepared file for an end-to-end run.
func llmInputs(t *testing.T, model string, extra ...string) map[string]string {
	t.Helper()
	if err := ortAvailable(); err != nil {
		testenv.Skip(t, "go-ort not available: %v", err)
	}
	root := testenv.Root(t)
	dir := filepath.Join(modeltest.TinyModels(t), model)
	in := map[string]string{"model_dir": dir, "tokenizer": filepath.Join(dir, "tokenizer.json")}
	for i := 0; i+1 < len(extra); i += 2 {
		in[extra[i]] = filepath.Join(root, "data", "processed", extra[i+1])
	}
	for _, p := range []string{filepath.Join(dir, "model.onnx"), in["tokenizer"], in[extra[0]]} {
		if _, err := os.Stat(p); err != nil {
			testenv.Skip(t, "%s missing (mlbench data prepare): %v", p, err)
		}
	}
	return in
}

func TestGPT2Names(t *testing.T) {
	in, out := gpt2Names(2)
	assert.Equal(t, []string{"input_ids", "attention_mask", "position_ids",
		"past_key_values.0.key", "past_key_values.0.value", "past_key_values.1.key", "past_key_values.1.value"}, in)
	assert.Equal(t, []string{"logits", "present.0.key", "present.0.value", "present.1.key", "present.1.value"}, out)
}

func runORTSpec(t *testing.T, task string, inputs map[string]string, params map[string]any) *bench.Result {
	t.Helper()
	dir := t.TempDir()
	spec := bench.Spec{
		SchemaVersion: bench.SchemaVersion, Task: task, Impl: "go-ort", Size: bench.SizeQuick,
		Inputs: inputs, Params: params, Warmup: 1, Reps: 1, Threads: 2, Device: "cpu",
		Datasets:   []bench.DatasetRef{{Name: "test", Source: "test"}},
		ResultPath: filepath.Join(dir, "result.json"), WorkDir: dir,
	}
	b, err := json.Marshal(spec)
	require.NoError(t, err)
	specPath := filepath.Join(dir, "spec.json")
	require.NoError(t, os.WriteFile(specPath, b, 0o644))
	require.NoError(t, worker.Main(specPath))
	out, err := os.ReadFile(spec.ResultPath)
	require.NoError(t, err)
	res, err := bench.DecodeResult(out)
	require.NoError(t, err)
	assert.Empty(t, res.Errors)
	assert.Equal(t, "onnxruntime", res.Framework)
	assert.NotEmpty(t, res.FrameworkVersion)
	assert.Len(t, res.Phases["load"], 1)
	return res
}

func TestGoORTBertQAEndToEnd(t *testing.T) {
	in := llmInputs(t, "bert-qa", "squad", "squad_v2_dev/dev-v2.0.json")
	res := runORTSpec(t, "llm/bert-qa", in, map[string]any{
		"max_length": 384, "stride": 128, "n_best": 20, "max_answer_length": 30, "limit": 3, "trained": false})
	for _, ph := range []string{"tokenize", "model", "postprocess"} {
		assert.Len(t, res.Phases[ph], 3, ph)
	}
	assert.Greater(t, res.Metrics["requests_per_s"], 0.0)
	assert.Contains(t, res.NotApplicable, "em")
	assert.Len(t, res.Probes["start_logits"], 3*64)
	assert.Len(t, res.Probes["end_logits"], 3*64)
	t.Logf("metrics %v", res.Metrics)
}

func TestGoORTGPT2EndToEnd(t *testing.T) {
	in := llmInputs(t, "gpt2", "prompts", "prompts/prompts.json")
	res := runORTSpec(t, "llm/gpt2", in, map[string]any{"new_tokens": 5, "limit": 1})
	assert.Len(t, res.Phases["ttft"], 1)
	assert.Len(t, res.Phases["per_token"], 4)
	assert.Len(t, res.Probes["gen_logits"], 5*256)
	assert.Len(t, res.Probes["tokens"], 5)
	t.Logf("metrics %v tokens %v", res.Metrics, res.Probes["tokens"])
}

// The sweep input mode (--size sweep) on the prepared llm_sweep ids: no
// tokenizer, one model call per row; the logits of a row do not depend on
// which sweep ran it.
func TestGoORTSweepsEndToEnd(t *testing.T) {
	in := llmInputs(t, "bert-qa", "ids", "llm_sweep/bert_ids_16.npy", "token_type_ids", "llm_sweep/bert_types_16.npy")
	res := runORTSpec(t, "llm/bert-qa", in, map[string]any{"seq_len": 16})
	assert.Len(t, res.Phases["model"], 8)
	assert.NotContains(t, res.Phases, "tokenize")
	assert.Len(t, res.Probes["start_logits"], 8*16)
	assert.Greater(t, res.Metrics["tokens_per_s"], 0.0)

	in = llmInputs(t, "gpt2", "prompt_ids", "llm_sweep/gpt2_prompts_8.npy")
	res = runORTSpec(t, "llm/gpt2", in, map[string]any{"prompt_len": 8, "new_tokens": 3})
	assert.Len(t, res.Phases["ttft"], 2)
	assert.Len(t, res.Phases["per_token"], 2*2)
	assert.Len(t, res.Probes["tokens"], 3)

	// A batch variant: 8 rows in 2 batches of 4, probes of the first batch.
	in = llmInputs(t, "gpt2", "prompt_ids", "llm_sweep/gpt2_batch_prompts.npy")
	res = runORTSpec(t, "llm/gpt2", in, map[string]any{"prompt_len": 64, "new_tokens": 5, "batch": 4})
	assert.Len(t, res.Phases["ttft"], 2)
	assert.Len(t, res.Phases["per_token"], 2*4)
	assert.Len(t, res.Probes["gen_logits"], 4*5*256)
	assert.Len(t, res.Probes["tokens"], 4*5)
	assert.Equal(t, 4.0, res.Params["batch"], "JSON numbers are float64")
}

// A batched step (the batch sweep): 4 rows at batch 4 and at batch 2 give
// every row the ids and logits of its batch-1 generation, on the tiny GPT-2;
// a batch other than the cache's and ragged rows are errors.
func TestGoORTGPT2Batches(t *testing.T) {
	if err := ortAvailable(); err != nil {
		testenv.Skip(t, "go-ort not available: %v", err)
	}
	lib, err := ort.LibraryPath()
	require.NoError(t, err)
	require.NoError(t, ort.Init(lib))
	m, err := newGPT2(filepath.Join(modeltest.TinyModels(t), "gpt2"), ort.SessionOptions{IntraOpThreads: 2, InterOpThreads: 1})
	require.NoError(t, err)
	live := ort.LiveTensors()
	llmtest.AssertBatchesMatchRows(t, m, llmtest.Rows(4, 7, m.VocabSize()), 8, []int{4, 2}, 1e-4)
	require.NoError(t, m.Close())
	assert.Equal(t, live, ort.LiveTensors(), "Close frees the cache and the logits")
}
