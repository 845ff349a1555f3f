//go:build !tokenizers

package tokenize

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestStubError(t *testing.T) {
	_, err := Load("tokenizer.json")
	assert.True(t, errors.Is(err, ErrNotBuilt))
	assert.Contains(t, err.Error(), "tags tokenizers")
}
