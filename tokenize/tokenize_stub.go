//go:build !tokenizers

package tokenize

const built = false

// Tokenizer is a loaded tokenizer; in this build (no `tokenizers` tag) none
// can be loaded.
type Tokenizer struct{}

// Load returns ErrNotBuilt: this binary was built without the tokenizers tag.
func Load(path string) (*Tokenizer, error) { return nil, ErrNotBuilt }

// Encode returns ErrNotBuilt.
func (t *Tokenizer) Encode(text string, addSpecial bool) ([]int64, [][2]int, error) {
	return nil, nil, ErrNotBuilt
}

// Decode returns ErrNotBuilt.
func (t *Tokenizer) Decode(ids []int64, skipSpecial bool) (string, error) { return "", ErrNotBuilt }

// Close does nothing.
func (t *Tokenizer) Close() error { return nil }
