package llm

import (
	"math"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func seq(from, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(from + i)
	}
	return out
}

func TestWindowsHandWorked(t *testing.T) {
	// max_length 9, 2-token question: L = 9-2-3 = 4 context tokens per
	// window, step L-stride = 2. Python tokenizers with
	// enable_truncation(max_length=9, stride=2, strategy="only_second") on
	// ("who is", "a b c d e f g h i j") gives the same four windows:
	// a-d, c-f, e-h, g-j.
	ws, err := Windows([]int64{7, 8}, seq(1000, 10), 9, 2)
	require.NoError(t, err)
	require.Len(t, ws, 4)
	assert.Equal(t, []int64{101, 7, 8, 102, 1000, 1001, 1002, 1003, 102}, ws[0].IDs)
	assert.Equal(t, []int64{0, 0, 0, 0, 1, 1, 1, 1, 1}, ws[0].TypeIDs)
	assert.Equal(t, []int64{101, 7, 8, 102, 1006, 1007, 1008, 1009, 102}, ws[3].IDs)
	for i, w := range ws {
		assert.Equal(t, 4, w.Start)
		assert.Equal(t, 2*i, w.Offset)
		assert.Equal(t, 4, w.NContext)
	}

	// 9 tokens: the last window is short (g h i).
	ws, err = Windows([]int64{7, 8}, seq(1000, 9), 9, 2)
	require.NoError(t, err)
	require.Len(t, ws, 4)
	assert.Equal(t, []int64{101, 7, 8, 102, 1006, 1007, 1008, 102}, ws[3].IDs)
	assert.Equal(t, 3, ws[3].NContext)

	// Short context: one window; empty context: one window, no context.
	ws, err = Windows([]int64{7}, seq(1000, 3), 384, 128)
	require.NoError(t, err)
	require.Len(t, ws, 1)
	assert.Equal(t, []int64{101, 7, 102, 1000, 1001, 1002, 102}, ws[0].IDs)
	ws, err = Windows([]int64{7}, nil, 384, 128)
	require.NoError(t, err)
	require.Len(t, ws, 1)
	assert.Equal(t, 0, ws[0].NContext)

	// The question is cut to 64 tokens: L = 384-64-3 = 317.
	ws, err = Windows(seq(1, 100), seq(1000, 400), 384, 128)
	require.NoError(t, err)
	require.Len(t, ws, 2)
	assert.Len(t, ws[0].IDs, 384)
	assert.Equal(t, 66, ws[0].Start)
	assert.Equal(t, 317-128, ws[1].Offset)
	assert.Equal(t, 400-189, ws[1].NContext)

	_, err = Windows(seq(1, 10), seq(1000, 10), 12, 0)
	assert.Error(t, err, "no room for context")
	_, err = Windows([]int64{7}, seq(1000, 10), 9, 5)
	assert.Error(t, err, "stride >= L")
}

func TestPostprocess(t *testing.T) {
	context := "The cat sat on the mat"
	offs := [][2]int{{0, 3}, {4, 7}, {8, 11}, {12, 14}, {15, 18}, {19, 22}}
	ws, err := Windows([]int64{7}, seq(1000, 6), 64, 2)
	require.NoError(t, err)
	require.Len(t, ws, 1)
	//        pos: CLS  q   SEP  The  cat  sat  on  the  mat  SEP
	start := []float32{0, 9, 9, 0, 5, 1, 0, 0, 2, 9}
	end := []float32{0, 9, 9, 0, 1, 4, 0, 0, 6, 9}
	// Best: start "mat"(2)+end "mat"(6) = 8 vs "cat".."sat" 5+4 = 9 vs
	// "cat".."mat" 5+6 = 11 (5 tokens): question and [SEP] positions never
	// count.
	a, err := Postprocess(ws, [][]float32{start}, [][]float32{end}, context, offs, 20, 30)
	require.NoError(t, err)
	assert.Equal(t, "cat sat on the mat", a.Text)
	assert.Equal(t, 11.0, a.Best.Score)
	assert.Equal(t, 0.0, a.NullScore)

	// max_answer_length 2: "cat sat" (9) beats "mat" (8).
	a, err = Postprocess(ws, [][]float32{start}, [][]float32{end}, context, offs, 20, 2)
	require.NoError(t, err)
	assert.Equal(t, "cat sat", a.Text)

	// n_best 1: only start "cat" and end "mat".
	a, err = Postprocess(ws, [][]float32{start}, [][]float32{end}, context, offs, 1, 30)
	require.NoError(t, err)
	assert.Equal(t, "cat sat on the mat", a.Text)
	a, err = Postprocess(ws, [][]float32{start}, [][]float32{end}, context, offs, 1, 4)
	require.NoError(t, err)
	assert.Equal(t, "", a.Text, "no candidate span")
	assert.True(t, math.IsInf(a.Best.Score, -1))

	// A null score at or above the best span gives "".
	nullStart := append([]float32(nil), start...)
	nullStart[0] = 11
	a, err = Postprocess(ws, [][]float32{nullStart}, [][]float32{end}, context, offs, 20, 30)
	require.NoError(t, err)
	assert.Equal(t, "", a.Text)
	assert.Equal(t, 11.0, a.NullScore)
}

func TestPostprocessWindows(t *testing.T) {
	// Two windows of 4 context tokens (question of 2, max_length 9, stride
	// 2): window 1 holds context tokens 2..5. The best span is in window 1,
	// context tokens 4..5; the null score is the minimum over windows.
	context := "a b c d e f"
	offs := [][2]int{{0, 1}, {2, 3}, {4, 5}, {6, 7}, {8, 9}, {10, 11}}
	ws, err := Windows([]int64{7, 8}, seq(1000, 6), 9, 2)
	require.NoError(t, err)
	require.Len(t, ws, 2)
	s0 := []float32{1, 0, 0, 0, 2, 0, 0, 0, 0}
	e0 := []float32{1, 0, 0, 0, 0, 2, 0, 0, 0}
	s1 := []float32{5, 0, 0, 0, 0, 0, 3, 0, 0}
	e1 := []float32{5, 0, 0, 0, 0, 0, 0, 3, 0}
	a, err := Postprocess(ws, [][]float32{s0, s1}, [][]float32{e0, e1}, context, offs, 20, 30)
	require.NoError(t, err)
	assert.Equal(t, Span{Window: 1, Start: 4, End: 5, Score: 6}, a.Best)
	assert.Equal(t, 2.0, a.NullScore)
	assert.Equal(t, "e f", a.Text)

	_, err = Postprocess(ws, [][]float32{s0}, [][]float32{e0}, context, offs, 20, 30)
	assert.Error(t, err, "logit rows != windows")
	_, err = Postprocess(ws, [][]float32{s0, s1[:3]}, [][]float32{e0, e1}, context, offs, 20, 30)
	assert.Error(t, err, "short logits")
}

func TestNormalizeAnswer(t *testing.T) {
	for in, want := range map[string]string{
		"The  Cat, sat!":         "cat sat",
		"an apple a day":         "apple day",
		"Theater and anthem":     "theater and anthem",
		"A-Team":                 "ateam",
		"the":                    "",
		"  Denver\tBroncos\n":    "denver broncos",
		"a a the an":             "",
		"Café À la carte":        "café à la carte",
		"(the) 1,000 \"people\"": "1000 people",
		"éa a":                   "éa",
	} {
		assert.Equal(t, want, NormalizeAnswer(in), in)
	}
}

func TestSQuADScores(t *testing.T) {
	em, f1 := SQuADScores([]string{"Denver Broncos", "Broncos"}, "the Broncos")
	assert.Equal(t, 1.0, em)
	assert.Equal(t, 1.0, f1)

	em, f1 = SQuADScores([]string{"the cat sat"}, "cat sat on mat")
	assert.Equal(t, 0.0, em)
	assert.InDelta(t, 2*0.5*1/(0.5+1), f1, 1e-12)

	// Repeated tokens count with multiplicity.
	assert.InDelta(t, 2*(2.0/3)*(2.0/2)/((2.0/3)+1), F1("cat cat", "cat cat cat"), 1e-12)

	// Unanswerable: gold [""]; only an empty prediction scores.
	em, f1 = SQuADScores(nil, "")
	assert.Equal(t, [2]float64{1, 1}, [2]float64{em, f1})
	em, f1 = SQuADScores(nil, "something")
	assert.Equal(t, [2]float64{0, 0}, [2]float64{em, f1})
	// Gold answers that normalise to "" are dropped.
	em, _ = SQuADScores([]string{"the", "."}, "")
	assert.Equal(t, 1.0, em)
	em, f1 = SQuADScores([]string{"Broncos"}, "")
	assert.Equal(t, [2]float64{0, 0}, [2]float64{em, f1})
}

func TestArgmax(t *testing.T) {
	assert.Equal(t, 2, Argmax([]float32{1, 3, 5, 2}))
	assert.Equal(t, 1, Argmax([]float32{1, 5, 5, 2}), "ties go to the lowest id")
	nan := float32(math.NaN())
	assert.Equal(t, 2, Argmax([]float32{nan, 1, 2}))
	assert.Equal(t, 0, Argmax([]float32{1, nan, 0.5}))
	assert.Equal(t, 0, Argmax([]float32{-1}))
}

func TestTopIndices(t *testing.T) {
	x := []float32{5, 1, 3, 3, 9, 0, 3, 7}
	assert.Equal(t, []int{0, 4, 7}, topIndices(x, 0, 8, 3))
	assert.Equal(t, []int{0, 2, 3, 4, 7}, topIndices(x, 0, 8, 5), "ties: lower position first")
	assert.Equal(t, []int{2, 3, 4}, topIndices(x, 1, 5, 3))
	assert.Equal(t, []int{1, 2, 3, 4}, topIndices(x, 1, 5, 20))
	assert.Nil(t, topIndices(x, 3, 3, 5))
	// Against a full stable sort on random data with many ties.
	r := []float32{}
	for i := 0; i < 300; i++ {
		r = append(r, float32((i*7919)%13))
	}
	idx := make([]int, 300)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return r[idx[a]] > r[idx[b]] })
	want := append([]int(nil), idx[:20]...)
	sort.Ints(want)
	assert.Equal(t, want, topIndices(r, 0, 300, 20))
}

// The "answers" probe: the same FNV-1a values as llm_common.answer_hash
// and the Rust llm-common answer_hash (their tests check these strings too).
func TestAnswerHash(t *testing.T) {
	for text, want := range map[string]uint32{"": 0x811c9dc5, "a": 0xe40c292c, "France": 2066631610,
		"Norman–Arab–Byzantine": 420619710} {
		assert.Equal(t, want, AnswerHash(text), text)
	}
}
