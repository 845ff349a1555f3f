//go:build !libtorch

package models

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mlbench/mlbench/torch"
)

func TestWithoutLibtorch(t *testing.T) {
	dir := t.TempDir()
	_, err := LoadBertQA(dir, torch.CPU)
	assert.Error(t, err)
	_, err = LoadGPT2(dir, torch.CPU)
	assert.Error(t, err)
}
