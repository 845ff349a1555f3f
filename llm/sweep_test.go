package llm

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlbench/mlbench/bench/worker"
	"github.com/mlbench/mlbench/data"
)

// idModel is a fake QAModel whose start logits are the input ids and end
// logits the token types, so the rows the sweep fed can be read back.
type idModel struct {
	calls  int
	closed bool
}

func (m *idModel) Logits(w Window) ([]float32, []float32, error) {
	m.calls++
	s, e := make([]float32, len(w.IDs)), make([]float32, len(w.IDs))
	for i := range w.IDs {
		s[i], e[i] = float32(w.IDs[i]), float32(w.TypeIDs[i])
	}
	return s, e, nil
}
func (m *idModel) Close() error { m.closed = true; return nil }

func writeRows(t *testing.T, path string, rows [][]int) {
	t.Helper()
	var v []float64
	for _, r := range rows {
		for _, x := range r {
			v = append(v, float64(x))
		}
	}
	require.NoError(t, data.WriteNPYFile(path, "<i8", []int{len(rows), len(rows[0])}, v))
}

func TestRunBertQASweep(t *testing.T) {
	dir := t.TempDir()
	ids, types := filepath.Join(dir, "ids.npy"), filepath.Join(dir, "types.npy")
	writeRows(t, ids, [][]int{{101, 7, 102, 9, 102}, {101, 8, 102, 10, 102}})
	writeRows(t, types, [][]int{{0, 0, 0, 1, 1}, {0, 0, 0, 1, 1}})
	c := specContext(map[string]string{"model_dir": "m", "tokenizer": "t", "ids": ids, "token_type_ids": types},
		map[string]any{"seq_len": 5.0})
	c.Spec.Warmup, c.Spec.Reps = 1, 3
	m := &idModel{}
	var opened *QASpec
	tokOpened := false
	openTok := func(string) (Tokenizer, error) { tokOpened = true; return &wordTok{}, nil }
	require.NoError(t, RunBertQA(c, openTok, func(sp *QASpec) (QAModel, error) { opened = sp; return m, nil }))
	assert.False(t, tokOpened, "no tokenizer in a sweep")
	assert.Equal(t, "m", opened.ModelDir)
	assert.True(t, m.closed)
	assert.Equal(t, 1+3*2, m.calls, "one warm-up, then every row in every repetition")
	assert.Len(t, c.Result.Phases["load"], 1)
	assert.Len(t, c.Result.Phases["model"], 6)
	assert.NotContains(t, c.Result.Phases, "tokenize")
	// The probes are the first repetition's rows, as fed.
	assert.Equal(t, []float64{101, 7, 102, 9, 102, 101, 8, 102, 10, 102}, c.Result.Probes["start_logits"])
	assert.Equal(t, []float64{0, 0, 0, 1, 1, 0, 0, 0, 1, 1}, c.Result.Probes["end_logits"])
	assert.ElementsMatch(t, []string{"requests_per_s", "tokens_per_s", "latency_p50", "latency_p90"}, keys(c.Result.Metrics))
	// Relative: with a fast fake model the rates are ~1e7 per second.
	assert.InEpsilon(t, 5*c.Result.Metrics["requests_per_s"], c.Result.Metrics["tokens_per_s"], 1e-12)
	assert.Equal(t, 5, c.Result.Params["seq_len"])
	assert.Equal(t, 2, c.Result.Params["rows"])
	assert.Contains(t, c.Result.NotApplicable, "em")

	c = specContext(map[string]string{"model_dir": "m", "ids": ids, "token_type_ids": types}, map[string]any{"seq_len": 6.0})
	c.Spec.Reps = 1
	err := RunBertQA(c, openTok, func(*QASpec) (QAModel, error) { return &idModel{}, nil })
	assert.ErrorContains(t, err, "input ids: dtype <i8, shape [2 5]: want int64 [rows, 6]")
}

func TestRunGPT2Sweep(t *testing.T) {
	dir := t.TempDir()
	prompts := filepath.Join(dir, "prompts.npy")
	writeRows(t, prompts, [][]int{{1, 2, 3}, {4, 5, 6}})
	c := specContext(map[string]string{"model_dir": "m", "tokenizer": "t", "prompt_ids": prompts},
		map[string]any{"prompt_len": 3.0, "new_tokens": 4.0})
	c.Spec.Warmup, c.Spec.Reps = 1, 2
	m := &countLM{vocab: 50, failAt: -1}
	openTok := func(string) (Tokenizer, error) { return nil, errors.New("no tokenizer in a sweep") }
	require.NoError(t, RunGPT2(c, openTok, func(sp *GenSpec) (CausalLM, error) {
		assert.Equal(t, "m", sp.ModelDir)
		return m, nil
	}))
	assert.True(t, m.closed)
	assert.Equal(t, 1+2*2, m.resets, "one warm-up, then every prompt in every repetition")
	assert.Len(t, c.Result.Phases["ttft"], 4)
	assert.Len(t, c.Result.Phases["per_token"], 4*3)
	// countLM: the first id is the prompt's sum mod 50; then sums double.
	assert.Equal(t, []float64{6, 12, 24, 48}, c.Result.Probes["tokens"])
	assert.Equal(t, 3, c.Result.Params["prompt_len"])
	assert.Equal(t, 4, c.Result.Params["new_tokens"])
	assert.Equal(t, 1, c.Result.Params["batch"], "no batch param: batch 1")
	assert.Contains(t, c.Result.Metrics, "per_token_p50")

	c = specContext(map[string]string{"model_dir": "m", "prompt_ids": prompts}, map[string]any{"prompt_len": 3.0})
	c.Spec.Reps = 1
	err := RunGPT2(c, openTok, func(*GenSpec) (CausalLM, error) { return m, nil })
	assert.ErrorContains(t, err, `"new_tokens" missing`)
}

// The batch sweep: the rows in batches of B consecutive rows, each a
// Step of B rows; the probes are the first batch's rows in order.
func TestRunGPT2SweepBatches(t *testing.T) {
	dir := t.TempDir()
	prompts := filepath.Join(dir, "prompts.npy")
	writeRows(t, prompts, [][]int{{1, 2}, {3, 4}, {5, 6}, {7, 8}})
	const newTokens = 6
	openTok := func(string) (Tokenizer, error) { return nil, errors.New("no tokenizer in a sweep") }
	run := func(batch any) (*countLM, *worker.Context, error) {
		params := map[string]any{"prompt_len": 2.0, "new_tokens": float64(newTokens), "batch": batch}
		c := specContext(map[string]string{"model_dir": "m", "prompt_ids": prompts}, params)
		c.Spec.Warmup, c.Spec.Reps = 1, 2
		m := &countLM{vocab: 1000, failAt: -1}
		err := RunGPT2(c, openTok, func(*GenSpec) (CausalLM, error) { return m, nil })
		return m, c, err
	}
	for _, B := range []int{1, 2, 4} {
		m, c, err := run(float64(B))
		require.NoError(t, err, "batch %d", B)
		batches := 4 / B
		assert.Equal(t, 1+2*batches, m.resets, "batch %d: one warm-up, then every batch in every repetition", B)
		for _, n := range m.batches {
			require.Equal(t, B, n, "every Step feeds a whole batch")
		}
		ph := c.Result.Phases
		assert.Len(t, ph["ttft"], 2*batches, "one ttft per batch")
		assert.Len(t, ph["per_token"], 2*batches*(newTokens-1), "one per_token per later step of a batch")
		total := 0.0
		for _, v := range append(ph["ttft"], ph["per_token"]...) {
			total += v
		}
		assert.InEpsilon(t, float64(2*4*newTokens)/total, c.Result.Metrics["tokens_per_s"], 1e-12,
			"every row's tokens over the summed step times")
		// Rows of the first batch, in order: countLM's first id is the
		// row's sum, then sums double; its logits rows are i + position +
		// 10000 row.
		var tokens, logits []float64
		for b := range B {
			sum := float64(1 + 2 + 2*b*2)
			for range newTokens {
				tokens = append(tokens, sum)
				sum *= 2
			}
			for k := range ProbeSteps {
				for i := range ProbeVocab {
					logits = append(logits, float64(i+2+k+10000*b))
				}
			}
		}
		assert.Equal(t, tokens, c.Result.Probes["tokens"], "batch %d", B)
		assert.Len(t, c.Result.Probes["gen_logits"], B*ProbeSteps*ProbeVocab)
		assert.Equal(t, logits, c.Result.Probes["gen_logits"], "batch %d", B)
		assert.Equal(t, B, c.Result.Params["batch"])
		assert.Equal(t, 4, c.Result.Params["rows"])
		assert.Equal(t, false, c.Result.Params["eos_stops"])
	}
	for batch, msg := range map[float64]string{
		3: "input prompt_ids: 4 rows is not a multiple of batch 3",
		0: "batch 0: want >= 1",
	} {
		_, c, err := run(batch)
		assert.EqualError(t, err, msg)
		assert.NotContains(t, c.Result.Phases, "load", "a bad batch fails before the model is loaded")
	}
}

func keys(m map[string]float64) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
