package llm

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countLM is a fake CausalLM: the next id is (sum of the ids fed so far) mod
// vocab, and each logits row is id+position, so the loop's bookkeeping can
// be checked by hand.
type countLM struct {
	vocab, resets, steps int
	sum, fed             int64
	failAt               int
	closed               bool
}

func (m *countLM) Reset() error { m.resets++; m.sum, m.fed = 0, 0; return nil }
func (m *countLM) Step(ids []int64) (int64, error) {
	if m.steps == m.failAt {
		return 0, errors.New("boom")
	}
	m.steps++
	for _, id := range ids {
		m.sum += id
	}
	m.fed += int64(len(ids))
	return m.sum % int64(m.vocab), nil
}
func (m *countLM) LastLogits(n int) ([]float32, error) {
	row := make([]float32, n)
	for i := range row {
		row[i] = float32(i) + float32(m.fed)
	}
	return row, nil
}
func (m *countLM) VocabSize() int { return m.vocab }
func (m *countLM) Close() error   { m.closed = true; return nil }

func TestGenerateLoop(t *testing.T) {
	m := &countLM{vocab: 1000, failAt: -1}
	syncs := 0
	gen, err := Generate(m, []int64{3, 4}, 7, func() error { syncs++; return nil })
	require.NoError(t, err)
	// sums: 7, 14, 28, 56, 112, 224, 448 (each step feeds the previous id).
	assert.Equal(t, []int64{7, 14, 28, 56, 112, 224, 448}, gen.Tokens)
	assert.Len(t, gen.PerToken, 6, "the first step is the TTFT, not a per-token time")
	assert.Greater(t, gen.TTFT, 0.0)
	require.Len(t, gen.Logits, ProbeSteps)
	assert.Len(t, gen.Logits[0], ProbeVocab)
	assert.Equal(t, float32(2), gen.Logits[0][0], "after the prompt of 2 ids")
	assert.Equal(t, float32(3), gen.Logits[1][0], "then one id per step")
	assert.Equal(t, 7, syncs, "a sync before every step's clock")
	assert.Equal(t, 1, m.resets)

	small := &countLM{vocab: 10, failAt: -1}
	gen, err = Generate(small, []int64{1}, 2, nil)
	require.NoError(t, err)
	assert.Len(t, gen.Logits[0], 10, "probe rows are cut to the vocabulary")

	_, err = Generate(m, nil, 3, nil)
	assert.ErrorContains(t, err, "empty prompt")
	_, err = Generate(m, []int64{1}, 0, nil)
	assert.ErrorContains(t, err, "new_tokens 0")
	_, err = Generate(&countLM{vocab: 10, failAt: 2}, []int64{1}, 5, nil)
	assert.ErrorContains(t, err, "gpt2 step 2: boom")
}

// wordTok is a fake Tokenizer: one id per space-separated word (its length),
// with the word's byte range.
type wordTok struct{ closed bool }

func (wordTok) Encode(text string, _ bool) ([]int64, [][2]int, error) {
	var ids []int64
	var offs [][2]int
	pos := 0
	for _, w := range strings.Fields(text) {
		i := strings.Index(text[pos:], w) + pos
		ids = append(ids, int64(1000+len(w)))
		offs = append(offs, [2]int{i, i + len(w)})
		pos = i + len(w)
	}
	return ids, offs, nil
}
func (t *wordTok) Close() error { t.closed = true; return nil }

// spanModel is a fake QAModel whose logits point at the context token whose
// id is target (a span of one token), or at [CLS] when there is none.
type spanModel struct {
	target int64
	closed bool
}

func (m *spanModel) Logits(w Window) ([]float32, []float32, error) {
	s, e := make([]float32, len(w.IDs)), make([]float32, len(w.IDs))
	best := 0
	for i := w.Start; i < w.Start+w.NContext; i++ {
		if w.IDs[i] == m.target {
			best = i
			break
		}
	}
	s[best], e[best] = 10, 10
	return s, e, nil
}
func (m *spanModel) Close() error { m.closed = true; return nil }

func TestAskAndRunBertQA(t *testing.T) {
	dir := t.TempDir()
	squad := filepath.Join(dir, "squad.json")
	require.NoError(t, os.WriteFile(squad, []byte(twoQuestionsSQuAD), 0o644))
	c := specContext(map[string]string{"model_dir": "m", "tokenizer": "t", "squad": squad}, map[string]any{"trained": true})
	c.Spec.Warmup, c.Spec.Reps = 1, 2
	tok, m := &wordTok{}, &spanModel{target: 1000 + int64(len("Google."))}
	require.NoError(t, RunBertQA(c, func(p string) (Tokenizer, error) {
		assert.Equal(t, "t", p)
		return tok, nil
	}, func(sp *QASpec) (QAModel, error) {
		assert.Equal(t, "m", sp.ModelDir)
		return m, nil
	}))
	assert.True(t, tok.closed && m.closed, "the workload closes what load made")
	ph := c.Result.Phases
	assert.Len(t, ph["load"], 1)
	for _, p := range []string{"tokenize", "model", "postprocess"} {
		assert.Len(t, ph[p], 4, "2 questions x 2 reps, warm-up not recorded: %s", p)
	}
	// The fake answers "Google." to both: right for the first (EM after
	// normalisation), wrong for the unanswerable second.
	assert.InDelta(t, 50, c.Result.Metrics["em"], 1e-9)
	assert.InDelta(t, 50, c.Result.Metrics["f1"], 1e-9)
	assert.Equal(t, 1.0, c.Result.Metrics["windows_per_request"])
	assert.Len(t, c.Result.Probes["start_logits"], 12+11, "first rep only: both questions' windows")

	c = specContext(map[string]string{"model_dir": "m", "tokenizer": "t", "squad": squad}, nil)
	c.Spec.Reps = 1
	require.NoError(t, RunBertQA(c, func(string) (Tokenizer, error) { return &wordTok{}, nil },
		func(*QASpec) (QAModel, error) { return &spanModel{}, nil }))
	assert.Equal(t, map[string]string{"em": "random weights", "f1": "random weights"}, c.Result.NotApplicable)

	c = specContext(map[string]string{"model_dir": "m", "tokenizer": "t", "squad": squad}, nil)
	opened := &wordTok{}
	err := RunBertQA(c, func(string) (Tokenizer, error) { return opened, nil },
		func(*QASpec) (QAModel, error) { return nil, errors.New("no model") })
	assert.ErrorContains(t, err, "load: no model")
	assert.True(t, opened.closed, "the tokenizer is closed when the model fails")
}

func TestRunGPT2(t *testing.T) {
	dir := t.TempDir()
	prompts := filepath.Join(dir, "prompts.json")
	require.NoError(t, os.WriteFile(prompts, []byte(`{"prompts": ["a bb", "ccc"]}`), 0o644))
	c := specContext(map[string]string{"model_dir": "m", "tokenizer": "t", "prompts": prompts}, map[string]any{"new_tokens": 4.0})
	c.Spec.Warmup, c.Spec.Reps = 1, 1
	m := &countLM{vocab: 100000, failAt: -1}
	require.NoError(t, RunGPT2(c, func(string) (Tokenizer, error) { return &wordTok{}, nil },
		func(*GenSpec) (CausalLM, error) { return m, nil }))
	assert.True(t, m.closed)
	ph := c.Result.Phases
	assert.Len(t, ph["ttft"], 2)
	assert.Len(t, ph["per_token"], 2*3)
	assert.Len(t, ph["tokenize"], 2)
	// First prompt: ids 1001, 1002 -> 2003, 4006, 8012, 16024.
	assert.Equal(t, []float64{2003, 4006, 8012, 16024}, c.Result.Probes["tokens"])
	assert.Len(t, c.Result.Probes["gen_logits"], 4*ProbeVocab, "4 steps < ProbeSteps")
	assert.Greater(t, c.Result.Metrics["tokens_per_s"], 0.0)
	assert.Equal(t, 3, m.resets, "warm-up + two prompts")
}
