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

// countLM is a fake CausalLM: each row's next id is (sum of the ids fed to
// that row so far) mod vocab, and row b's logits row is id + position +
// 10000 b, so the loop's bookkeeping can be checked by hand. It records the
// batch size of every Step.
type countLM struct {
	vocab, resets, steps int
	sums                 []int64
	fed                  int64
	failAt               int
	batches              []int
	closed               bool
}

func (m *countLM) Reset() error { m.resets++; m.sums, m.fed = nil, 0; return nil }
func (m *countLM) Step(ids [][]int64) ([]int64, error) {
	if m.steps == m.failAt {
		return nil, errors.New("boom")
	}
	m.steps++
	m.batches = append(m.batches, len(ids))
	if m.sums == nil {
		m.sums = make([]int64, len(ids))
	}
	next := make([]int64, len(ids))
	for b, row := range ids {
		for _, id := range row {
			m.sums[b] += id
		}
		next[b] = m.sums[b] % int64(m.vocab)
	}
	m.fed += int64(len(ids[0]))
	return next, nil
}
func (m *countLM) LastLogits(b, n int) ([]float32, error) {
	row := make([]float32, n)
	for i := range row {
		row[i] = float32(i) + float32(m.fed) + 10000*float32(b)
	}
	return row, nil
}
func (m *countLM) VocabSize() int { return m.vocab }
func (m *countLM) Close() error   { m.closed = true; return nil }

// shortLM is a countLM whose Step returns one id too few.
type shortLM struct{ countLM }

func (m *shortLM) Step(ids [][]int64) ([]int64, error) {
	next, err := m.countLM.Step(ids)
	return next[1:], err
}

func TestGenerateLoop(t *testing.T) {
	m := &countLM{vocab: 1000, failAt: -1}
	syncs := 0
	gen, err := Generate(m, []int64{3, 4}, 7, func() error { syncs++; return nil })
	require.NoError(t, err)
	// sums: 7, 14, 28, 56, 112, 224, 448 (each step feeds the previous id).
	assert.Equal(t, [][]int64{{7, 14, 28, 56, 112, 224, 448}}, gen.Tokens)
	assert.Len(t, gen.PerToken, 6, "the first step is the TTFT, not a per-token time")
	assert.Greater(t, gen.TTFT, 0.0)
	require.Len(t, gen.Logits, 1)
	require.Len(t, gen.Logits[0], ProbeSteps)
	assert.Len(t, gen.Logits[0][0], ProbeVocab)
	assert.Equal(t, float32(2), gen.Logits[0][0][0], "after the prompt of 2 ids")
	assert.Equal(t, float32(3), gen.Logits[0][1][0], "then one id per step")
	assert.Equal(t, 7, syncs, "a sync before every step's clock")
	assert.Equal(t, 1, m.resets)

	small := &countLM{vocab: 10, failAt: -1}
	gen, err = Generate(small, []int64{1}, 2, nil)
	require.NoError(t, err)
	assert.Len(t, gen.Logits[0][0], 10, "probe rows are cut to the vocabulary")

	_, err = Generate(m, nil, 3, nil)
	assert.ErrorContains(t, err, "empty prompt")
	_, err = Generate(m, []int64{1}, 0, nil)
	assert.ErrorContains(t, err, "new_tokens 0")
	_, err = Generate(&countLM{vocab: 10, failAt: 2}, []int64{1}, 5, nil)
	assert.ErrorContains(t, err, "gpt2 step 2: boom")
}

// A batch of rows gives every row what its batch-1 generation gives, with
// one Step of B rows per token and the logits rows of each row in order.
func TestGenerateBatch(t *testing.T) {
	prompts := [][]int64{{3, 4}, {1, 1}, {5, 0}}
	m := &countLM{vocab: 1000, failAt: -1}
	syncs := 0
	gen, err := GenerateBatch(m, prompts, 6, func() error { syncs++; return nil })
	require.NoError(t, err)
	assert.Equal(t, []int{3, 3, 3, 3, 3, 3}, m.batches, "one Step of the whole batch per token")
	assert.Equal(t, 6, syncs)
	assert.Equal(t, 1, m.resets)
	assert.Len(t, gen.PerToken, 5)
	require.Len(t, gen.Tokens, 3)
	require.Len(t, gen.Logits, 3)
	for b, p := range prompts {
		one, err := Generate(&countLM{vocab: 1000, failAt: -1}, p, 6, nil)
		require.NoError(t, err)
		assert.Equal(t, one.Tokens[0], gen.Tokens[b], "row %d", b)
		require.Len(t, gen.Logits[b], ProbeSteps)
		for k, row := range gen.Logits[b] {
			assert.Equal(t, one.Logits[0][k][1]+10000*float32(b), row[1], "row %d step %d", b, k)
		}
	}
	assert.Equal(t, []int64{2, 4, 8, 16, 32, 64}, gen.Tokens[1])

	_, err = GenerateBatch(m, nil, 3, nil)
	assert.ErrorContains(t, err, "gpt2: no prompts")
	_, err = GenerateBatch(m, [][]int64{{1, 2}, {3}}, 3, nil)
	assert.EqualError(t, err, "gpt2: prompt 1 has 1 ids, prompt 0 2: a batch needs equal lengths")
	_, err = GenerateBatch(&shortLM{countLM{vocab: 10, failAt: -1}}, [][]int64{{1}, {2}}, 3, nil)
	assert.EqualError(t, err, "gpt2 step 0: 1 next ids for a batch of 2")
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
	assert.Equal(t, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, m.batches, "batch 1: warm-up + two prompts, 4 steps each")
	assert.Len(t, c.Result.Probes["gen_logits"], 4*ProbeVocab, "4 steps < ProbeSteps")
	assert.Greater(t, c.Result.Metrics["tokens_per_s"], 0.0)
	assert.Equal(t, 3, m.resets, "warm-up + two prompts")
}
