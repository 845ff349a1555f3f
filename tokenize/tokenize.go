//go:build tokenizers

package tokenize

import (
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/daulet/tokenizers"
)

const built = true

// Tokenizer is a Hugging Face tokenizer loaded from a tokenizer.json file.
// It owns native memory: call Close when done (Close may be called more
// than once). Close must not run concurrently with other calls.
type Tokenizer struct {
	t *tokenizers.Tokenizer
}

// Load reads a tokenizer.json file.
func Load(path string) (*Tokenizer, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	t, err := tokenizers.FromFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	return &Tokenizer{t: t}, nil
}

func (t *Tokenizer) handle() (*tokenizers.Tokenizer, error) {
	if t == nil || t.t == nil {
		return nil, fmt.Errorf("tokenizer: used after Close")
	}
	return t.t, nil
}

// Encode tokenizes text, with the tokenizer's special tokens (e.g. [CLS] and
// [SEP] for BERT) when addSpecial is true. offsets[i] is the half-open range
// [start, end) of token i in text, in BYTES of the UTF-8 string (the Rust
// library's byte offsets), so text[offsets[i][0]:offsets[i][1]] is the
// token's source text; special tokens have (0, 0). Text must not contain a
// NUL byte (it crosses to C as a C string).
func (t *Tokenizer) Encode(text string, addSpecial bool) (ids []int64, offsets [][2]int, err error) {
	h, err := t.handle()
	if err != nil {
		return nil, nil, err
	}
	if strings.IndexByte(text, 0) >= 0 {
		return nil, nil, fmt.Errorf("tokenizer: text contains a NUL byte")
	}
	enc := h.EncodeWithOptions(text, addSpecial, tokenizers.WithReturnOffsets())
	ids = make([]int64, len(enc.IDs))
	for i, id := range enc.IDs {
		ids[i] = int64(id)
	}
	if len(enc.Offsets) != len(enc.IDs) {
		return nil, nil, fmt.Errorf("tokenizer: %d offsets for %d tokens", len(enc.Offsets), len(enc.IDs))
	}
	offsets = make([][2]int, len(enc.Offsets))
	for i, o := range enc.Offsets {
		if o[0] > o[1] || o[1] > uint(len(text)) {
			return nil, nil, fmt.Errorf("tokenizer: offset %v of token %d outside the text (%d bytes)", o, i, len(text))
		}
		offsets[i] = [2]int{int(o[0]), int(o[1])}
	}
	return ids, offsets, nil
}

// Decode turns ids back into text, leaving out special tokens when
// skipSpecial is true.
func (t *Tokenizer) Decode(ids []int64, skipSpecial bool) (string, error) {
	h, err := t.handle()
	if err != nil {
		return "", err
	}
	u := make([]uint32, len(ids))
	for i, id := range ids {
		if id < 0 || id > math.MaxUint32 {
			return "", fmt.Errorf("tokenizer: id %d out of range", id)
		}
		u[i] = uint32(id)
	}
	return h.Decode(u, skipSpecial), nil
}

// Close frees the native tokenizer. It is safe to call more than once.
func (t *Tokenizer) Close() error {
	if t == nil {
		return nil
	}
	if t.t != nil {
		t.t.Close()
		t.t = nil
	}
	return nil
}
