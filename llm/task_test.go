package llm

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/bench/worker"
)

// specContext is a worker context for inputs and params, as worker.Main
// gives an implementation (JSON numbers are float64).
func specContext(inputs map[string]string, params map[string]any) *worker.Context {
	return &worker.Context{
		Spec: &bench.Spec{Inputs: inputs, Params: params},
		Result: &bench.Result{Params: map[string]any{}, Phases: map[string][]float64{},
			Metrics: map[string]float64{}, Probes: map[string][]float64{}},
	}
}

const twoQuestionsSQuAD = `{"version": "v2.0", "data": [{"title": "T", "paragraphs": [
  {"context": "Go was designed at Google.", "qas": [
    {"id": "a", "question": "Where was Go designed?", "answers": [{"text": "Google", "answer_start": 19}, {"text": "at Google", "answer_start": 16}], "is_impossible": false},
    {"id": "b", "question": "Who designed Rust?", "answers": [], "is_impossible": true}]}]}]}`

func TestReadQASpec(t *testing.T) {
	dir := t.TempDir()
	squad := filepath.Join(dir, "squad.json")
	require.NoError(t, os.WriteFile(squad, []byte(twoQuestionsSQuAD), 0o644))
	inputs := map[string]string{"model_dir": "m", "tokenizer": "tok.json", "squad": squad}

	c := specContext(inputs, map[string]any{"stride": 64.0})
	s, err := ReadQASpec(c)
	require.NoError(t, err)
	assert.Equal(t, QASpec{
		QAParams: QAParams{MaxLength: 384, Stride: 64, NBest: 20, MaxAnswerLength: 30}, ModelDir: "m", Tokenizer: "tok.json",
		Questions: []Question{
			{Question: "Where was Go designed?", Context: "Go was designed at Google.", Answers: []string{"Google", "at Google"}},
			{Question: "Who designed Rust?", Context: "Go was designed at Google."},
		},
	}, *s)
	assert.Equal(t, map[string]any{"max_length": 384, "stride": 64, "n_best": 20, "max_answer_length": 30, "limit": 0,
		"max_question_tokens": 64}, c.Result.Params, "the parameters used are recorded")

	s, err = ReadQASpec(specContext(inputs, map[string]any{"limit": 1.0}))
	require.NoError(t, err)
	assert.Len(t, s.Questions, 1)

	_, err = ReadQASpec(specContext(inputs, map[string]any{"n_best": 2.5}))
	assert.ErrorContains(t, err, `"n_best" = 2.5 is not an integer`)
	_, err = ReadQASpec(specContext(map[string]string{"model_dir": "m", "squad": squad}, nil))
	assert.ErrorContains(t, err, `input "tokenizer" missing`)
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(twoQuestionsSQuAD[:40]), 0o644))
	_, err = ReadQASpec(specContext(map[string]string{"model_dir": "m", "tokenizer": "t", "squad": bad}, nil))
	assert.ErrorContains(t, err, bad+": not valid SQuAD JSON")
}

func TestReadGenSpec(t *testing.T) {
	dir := t.TempDir()
	prompts := filepath.Join(dir, "prompts.json")
	require.NoError(t, os.WriteFile(prompts, []byte(`{"prompts": ["one", "two", "three"]}`), 0o644))
	inputs := map[string]string{"model_dir": "m", "tokenizer": "tok.json", "prompts": prompts}

	c := specContext(inputs, map[string]any{"limit": 2.0})
	s, err := ReadGenSpec(c)
	require.NoError(t, err)
	assert.Equal(t, GenSpec{NewTokens: 150, ModelDir: "m", Tokenizer: "tok.json", Prompts: []string{"one", "two"}}, *s)
	assert.Equal(t, map[string]any{"new_tokens": 150, "limit": 2, "eos_stops": false}, c.Result.Params)

	_, err = ReadGenSpec(specContext(inputs, map[string]any{"new_tokens": 0.0}))
	assert.ErrorContains(t, err, "new_tokens 0: want >= 1")
	_, err = ReadGenSpec(specContext(map[string]string{"model_dir": "m", "tokenizer": "t"}, nil))
	assert.ErrorContains(t, err, `input "prompts" missing`)
	empty := filepath.Join(dir, "empty.json")
	require.NoError(t, os.WriteFile(empty, []byte(`{"prompts": []}`), 0o644))
	_, err = ReadGenSpec(specContext(map[string]string{"model_dir": "m", "tokenizer": "t", "prompts": empty}, nil))
	assert.ErrorContains(t, err, empty+": prompts: no prompts")
}
