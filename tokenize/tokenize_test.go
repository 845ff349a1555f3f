//go:build tokenizers

package tokenize

import (
	"path/filepath"
	"testing"

	"github.com/mlbench/mlbench/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// load opens data/processed/tokenizers/<name>/tokenizer.json, skipping the
// test (failing it under MLBENCH_REQUIRE_ALL=1) when the file is not prepared
// (`mlbench data prepare --dataset gpt2_tokenizer --dataset bert_tokenizer`).
func load(t *testing.T, name string) *Tokenizer {
	t.Helper()
	require.True(t, Built())
	tok, err := Load(testenv.Prepared(t, filepath.Join("tokenizers", name, "tokenizer.json")))
	require.NoError(t, err)
	t.Cleanup(func() { tok.Close() })
	return tok
}

func TestGPT2KnownIDs(t *testing.T) {
	tok := load(t, "gpt2")
	cases := []struct {
		text string
		ids  []int64
	}{
		{"Hello world", []int64{15496, 995}},
		{"Hello world, this is GPT-2.", []int64{15496, 995, 11, 428, 318, 402, 11571, 12, 17, 13}},
		// Byte-level BPE on non-ASCII text (ids from Python tokenizers 0.22).
		{"Héllo naïve", []int64{39, 2634, 18798, 41492}},
	}
	for _, c := range cases {
		ids, offs, err := tok.Encode(c.text, false)
		require.NoError(t, err)
		assert.Equal(t, c.ids, ids, c.text)
		assert.Len(t, offs, len(ids))
		back, err := tok.Decode(ids, false)
		require.NoError(t, err)
		assert.Equal(t, c.text, back)
	}
}

func TestBERTKnownIDsAndByteOffsets(t *testing.T) {
	tok := load(t, "bert-base-uncased")
	// Expected ids computed with Python tokenizers 0.22 on the same
	// tokenizer.json:
	//   Tokenizer.from_file(...).encode(text, add_special_tokens=False).ids
	ids, offs, err := tok.Encode("What is the capital of France?", false)
	require.NoError(t, err)
	assert.Equal(t, []int64{2054, 2003, 1996, 3007, 1997, 2605, 1029}, ids)
	assert.Equal(t, [][2]int{{0, 4}, {5, 7}, {8, 11}, {12, 19}, {20, 22}, {23, 29}, {29, 30}}, offs)

	ids, offs, err = tok.Encode("Hello world", true)
	require.NoError(t, err)
	assert.Equal(t, []int64{101, 7592, 2088, 102}, ids) // [CLS] hello world [SEP]
	assert.Equal(t, [][2]int{{0, 0}, {0, 5}, {6, 11}, {0, 0}}, offs)

	// Non-ASCII: Python reports character offsets, this package byte offsets,
	// so slicing the Go string gives back each token's source text.
	text := "Héllo, naïve café — 100% 日本"
	ids, offs, err = tok.Encode(text, false)
	require.NoError(t, err)
	assert.Equal(t, []int64{7592, 1010, 15743, 7668, 1517, 2531, 1003, 1864, 1876}, ids)
	var pieces []string
	for _, o := range offs {
		pieces = append(pieces, text[o[0]:o[1]])
	}
	assert.Equal(t, []string{"Héllo", ",", "naïve", "café", "—", "100", "%", "日", "本"}, pieces)

	s, err := tok.Decode([]int64{101, 7592, 2088, 102}, true)
	require.NoError(t, err)
	assert.Equal(t, "hello world", s)
}

func TestCloseTwice(t *testing.T) {
	tok := load(t, "gpt2")
	require.NoError(t, tok.Close())
	require.NoError(t, tok.Close())
	_, _, err := tok.Encode("x", false)
	assert.Error(t, err)
}
