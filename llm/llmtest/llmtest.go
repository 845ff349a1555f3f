// Package llmtest holds checks that the tests of every llm.CausalLM backend
// share (go-ort, go-libtorch): one statement of what a batched step must
// give, asserted with testify.
package llmtest

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlbench/mlbench/llm"
)

// Rows is n distinct prompts of length ids each, in 0 .. vocab-1.
func Rows(n, length, vocab int) [][]int64 {
	rows := make([][]int64, n)
	for b := range rows {
		rows[b] = make([]int64, length)
		for i := range rows[b] {
			rows[b][i] = int64((b*7919 + i*104729 + 13) % vocab)
		}
	}
	return rows
}

// AssertBatchesMatchRows checks the contract of a batched step
// (docs/LLM.md, the batch sweep): generating rows in consecutive batches of
// each size in batches gives every row the ids of its batch-1 generation,
// and probe logits within tol of them. The rows must not all generate the
// same: the first two rows' batch-1 logits differ, so a batch that mixes up
// its rows cannot pass. Then a Step of another batch than the cache's, and
// one of rows of unequal lengths, are errors.
func AssertBatchesMatchRows(t *testing.T, m llm.CausalLM, rows [][]int64, newTokens int, batches []int, tol float64) {
	t.Helper()
	require.GreaterOrEqual(t, len(rows), 2)
	single := make([]*llm.Generation, len(rows))
	for r, p := range rows {
		g, err := llm.Generate(m, p, newTokens, nil)
		require.NoError(t, err, "row %d alone", r)
		single[r] = g
	}
	require.NotEqual(t, single[0].Logits[0], single[1].Logits[0], "the test rows must generate differently")
	for _, B := range batches {
		require.Zero(t, len(rows)%B, "batch %d", B)
		worst := 0.0
		for k := 0; k < len(rows); k += B {
			g, err := llm.GenerateBatch(m, rows[k:k+B], newTokens, nil)
			require.NoError(t, err, "batch %d, rows %d..", B, k)
			require.Len(t, g.Tokens, B)
			require.Len(t, g.Logits, B)
			assert.Len(t, g.PerToken, newTokens-1)
			for b := range B {
				want := single[k+b]
				assert.Equal(t, want.Tokens[0], g.Tokens[b], "batch %d, row %d: ids", B, k+b)
				require.Len(t, g.Logits[b], len(want.Logits[0]))
				d := 0.0
				for s, row := range g.Logits[b] {
					require.Len(t, row, len(want.Logits[0][s]))
					for i, v := range row {
						d = math.Max(d, math.Abs(float64(v-want.Logits[0][s][i])))
					}
				}
				assert.LessOrEqual(t, d, tol, "batch %d, row %d: max abs logits difference", B, k+b)
				worst = max(worst, d)
			}
		}
		t.Logf("batch %d: max abs logits difference to batch 1: %.3g", B, worst)
	}
	B := batches[len(batches)-1]
	_, err := m.Step(append(slices.Clone(rows[:B]), rows[0]))
	assert.ErrorContains(t, err, fmt.Sprintf("gpt2: batch %d after a cache of batch %d", B+1, B))
	require.NoError(t, m.Reset())
	_, err = m.Step([][]int64{{1, 2}, {3}})
	assert.ErrorContains(t, err, "gpt2: row 1 has 1 ids, row 0 2")
}
