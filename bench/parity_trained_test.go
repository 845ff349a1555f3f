package bench

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func tokensResult(ids, margins []float64) *Result {
	return &Result{Status: StatusOK, Params: map[string]any{"trained": true},
		Probes: map[string][]float64{"gen_logits": {1}, "tokens": ids, "token_margins": margins}}
}

func TestProbeSameSaysNearTiesAtTheFirstDifference(t *testing.T) {
	task, err := LookupTask("llm/gpt2")
	require.NoError(t, err)
	ref := tokensResult([]float64{5, 6, 7, 8}, []float64{1, 2, 3e-5, 1})

	p := JudgeParity(task, SizeQuick, tokensResult([]float64{5, 6, 7, 8}, nil), ref)
	assert.True(t, p.OK)
	assert.Contains(t, p.Checks[len(p.Checks)-1].Detail, "all 4 identical")

	// The first difference is where the reference's top-2 margin is 3e-5:
	// a near tie, said so (unverified), not a pass and not a failure.
	p = JudgeParity(task, SizeQuick, tokensResult([]float64{5, 6, 9, 9}, nil), ref)
	c := p.Checks[len(p.Checks)-1]
	assert.True(t, c.Unverified, c.Detail)
	assert.False(t, c.OK)
	assert.Contains(t, c.Detail, "first difference at [2]: 9 vs reference 7; the reference's top-2 logit margin there is 3e-05 < 0.0001")

	// Elsewhere a difference fails.
	p = JudgeParity(task, SizeQuick, tokensResult([]float64{5, 4, 7, 8}, nil), ref)
	c = p.Checks[len(p.Checks)-1]
	assert.False(t, c.OK || c.Unverified || p.OK, c.Detail)
	assert.Contains(t, c.Detail, "margin there is 2 (>= 0.0001): not a near tie")

	// A reference without margins cannot excuse anything.
	p = JudgeParity(task, SizeQuick, tokensResult([]float64{5, 6, 9, 9}, nil), tokensResult([]float64{5, 6, 7, 8}, nil))
	c = p.Checks[len(p.Checks)-1]
	assert.False(t, c.OK || c.Unverified, c.Detail)
	assert.Contains(t, c.Detail, "has no token_margins probe there")
}

func TestBertQATrainedComparesAnswersAndScores(t *testing.T) {
	task, err := LookupTask("llm/bert-qa")
	require.NoError(t, err)
	res := func(trained bool, answers []float64, em, f1 float64) *Result {
		return &Result{Status: StatusOK, Params: map[string]any{"trained": trained},
			Probes:  map[string][]float64{"start_logits": {1}, "end_logits": {2}, "answers": answers},
			Metrics: map[string]float64{"em": em, "f1": f1}}
	}
	ref := res(true, []float64{11, 22, 33}, 66.67, 70)
	assert.True(t, JudgeParity(task, SizeQuick, res(true, []float64{11, 22, 33}, 66.62, 70.05), ref).OK)

	p := JudgeParity(task, SizeQuick, res(true, []float64{11, 23, 33}, 66.67, 70), ref)
	assert.False(t, p.OK)
	assert.Contains(t, firstFailure(p), "2 of 3 agree; first difference at [1]")

	p = JudgeParity(task, SizeQuick, res(true, []float64{11, 22, 33}, 66.4, 70), ref)
	assert.False(t, p.OK)
	assert.Contains(t, firstFailure(p), "em 66.4 vs reference 66.67")

	// Random weights: neither answers nor scores are compared.
	p = JudgeParity(task, SizeQuick, res(false, []float64{1, 2, 3}, 0, 0), ref)
	assert.True(t, p.OK)
	assert.Len(t, p.Checks, 2)
}
