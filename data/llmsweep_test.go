package data

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLLMSweepPrepared(t *testing.T) {
	root := t.TempDir()
	o := Options{Root: root}
	require.NoError(t, Prepare([]string{"llm_sweep"}, o))
	dir := filepath.Join(root, "llm_sweep")
	for _, l := range SweepSeqLens {
		ids, err := ReadNPY(filepath.Join(dir, SweepBERTIDs(l)))
		require.NoError(t, err)
		types, err := ReadNPY(filepath.Join(dir, SweepBERTTypes(l)))
		require.NoError(t, err)
		require.Equal(t, []int{SweepQuestions, l}, ids.Shape)
		require.Equal(t, []int{SweepQuestions, l}, types.Shape)
		for q := 0; q < SweepQuestions; q++ {
			row, tt := ids.Ints()[q*l:(q+1)*l], types.Ints()[q*l:(q+1)*l]
			// [CLS] question [SEP] context [SEP], types 0 then 1.
			require.Equal(t, bertCLS, row[0])
			require.Equal(t, bertSEP, row[l-1])
			nq := min(sweepQuestionTokens, (l-3)/2)
			require.Equal(t, bertSEP, row[nq+1], "length %d row %d", l, q)
			for i, v := range row {
				if i != 0 && i != nq+1 && i != l-1 {
					require.True(t, v >= bertWordLo && v < bertWordHi, "id %d", v)
				}
				require.Equal(t, map[bool]int{true: 0, false: 1}[i <= nq+1], tt[i])
			}
		}
	}
	// Every length truncates the same rows: the shorter is a prefix of the
	// longer (question and context apart).
	long, _ := SweepBERTInput(3, 384)
	short, _ := SweepBERTInput(3, 64)
	require.Equal(t, long[:1+12], short[:1+12])
	require.Equal(t, long[14:14+64-15], short[14:63])
	for _, l := range SweepPromptLens {
		a, err := ReadNPY(filepath.Join(dir, SweepGPT2Prompts(l)))
		require.NoError(t, err)
		require.Equal(t, []int{SweepPrompts, l}, a.Shape)
		require.Equal(t, SweepGPT2Prompt(1, 512)[:l], a.Ints()[l:2*l])
		for _, v := range a.Ints() {
			require.True(t, v >= 0 && v < gpt2Vocab-1)
		}
	}
	require.NotEqual(t, SweepGPT2Prompt(0, 8), SweepGPT2Prompt(1, 8))
	// The batch prompts: rows 0..7 at length 64, the first two those of
	// gpt2_prompts_64.npy; every batch size divides the rows.
	b, err := ReadNPY(filepath.Join(dir, SweepGPT2BatchPrompts))
	require.NoError(t, err)
	require.Equal(t, []int{SweepBatchRows, SweepBatchPromptLen}, b.Shape)
	p64, err := ReadNPY(filepath.Join(dir, SweepGPT2Prompts(SweepBatchPromptLen)))
	require.NoError(t, err)
	require.Equal(t, p64.Ints(), b.Ints()[:SweepPrompts*SweepBatchPromptLen])
	require.Equal(t, SweepGPT2Prompt(7, 512)[:SweepBatchPromptLen], b.Ints()[7*SweepBatchPromptLen:])
	for _, n := range SweepBatches {
		require.Zero(t, SweepBatchRows%n, "batch %d", n)
	}
	m := readMetaT(t, dir)
	require.Equal(t, true, m["official"])
	require.Equal(t, llmSweepSource, m["source"])
	// Prepared again: up to date.
	require.NoError(t, Prepare([]string{"llm_sweep"}, o))
}
