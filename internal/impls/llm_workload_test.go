package impls

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
		Spec:   &bench.Spec{Inputs: inputs, Params: params},
		Result: &bench.Result{Params: map[string]any{}},
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
	s, err := readQASpec(c)
	require.NoError(t, err)
	assert.Equal(t, qaSpec{
		maxLength: 384, stride: 64, nBest: 20, maxAnswerLength: 30, modelDir: "m", tokenizer: "tok.json",
		questions: []squadQuestion{
			{question: "Where was Go designed?", context: "Go was designed at Google.", answers: []string{"Google", "at Google"}},
			{question: "Who designed Rust?", context: "Go was designed at Google."},
		},
	}, *s)
	assert.Equal(t, map[string]any{"max_length": 384, "stride": 64, "n_best": 20, "max_answer_length": 30, "limit": 0,
		"max_question_tokens": 64}, c.Result.Params, "the parameters used are recorded")

	s, err = readQASpec(specContext(inputs, map[string]any{"limit": 1.0}))
	require.NoError(t, err)
	assert.Len(t, s.questions, 1)

	_, err = readQASpec(specContext(inputs, map[string]any{"n_best": 2.5}))
	assert.ErrorContains(t, err, `"n_best" = 2.5 is not an integer`)
	_, err = readQASpec(specContext(map[string]string{"model_dir": "m", "squad": squad}, nil))
	assert.ErrorContains(t, err, `input "tokenizer" missing`)
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(twoQuestionsSQuAD[:40]), 0o644))
	_, err = readQASpec(specContext(map[string]string{"model_dir": "m", "tokenizer": "t", "squad": bad}, nil))
	assert.ErrorContains(t, err, bad+": not valid SQuAD JSON")
}

func TestReadGenSpec(t *testing.T) {
	dir := t.TempDir()
	prompts := filepath.Join(dir, "prompts.json")
	require.NoError(t, os.WriteFile(prompts, []byte(`{"prompts": ["one", "two", "three"]}`), 0o644))
	inputs := map[string]string{"model_dir": "m", "tokenizer": "tok.json", "prompts": prompts}

	c := specContext(inputs, map[string]any{"limit": 2.0})
	s, err := readGenSpec(c)
	require.NoError(t, err)
	assert.Equal(t, genSpec{newTokens: 150, modelDir: "m", tokenizer: "tok.json", prompts: []string{"one", "two"}}, *s)
	assert.Equal(t, map[string]any{"new_tokens": 150, "limit": 2, "eos_stops": false}, c.Result.Params)

	_, err = readGenSpec(specContext(inputs, map[string]any{"new_tokens": 0.0}))
	assert.ErrorContains(t, err, "new_tokens 0: want >= 1")
	_, err = readGenSpec(specContext(map[string]string{"model_dir": "m", "tokenizer": "t"}, nil))
	assert.ErrorContains(t, err, `input "prompts" missing`)
	empty := filepath.Join(dir, "empty.json")
	require.NoError(t, os.WriteFile(empty, []byte(`{"prompts": []}`), 0o644))
	_, err = readGenSpec(specContext(map[string]string{"model_dir": "m", "tokenizer": "t", "prompts": empty}, nil))
	assert.ErrorContains(t, err, empty+": prompts: no prompts")
}
