//go:build !(libtorch && tokenizers)

package golibtorch

import (
	"github.com/mlbench/mlbench/bench/worker"
	"github.com/mlbench/mlbench/tokenize"
	"github.com/mlbench/mlbench/torch"
)

// Without both the libtorch and tokenizers tags go-libtorch is still listed
// for the LLM tasks, with the reason it cannot run; see llm_libtorch.go.
func init() {
	info := worker.Info{Impl: "go-libtorch", Framework: "libtorch", Available: llmTorchAvailable}
	run := func(*worker.Context) error { return llmTorchAvailable() }
	worker.Register("llm/bert-qa", info, run)
	worker.Register("llm/gpt2", info, run)
}

func llmTorchAvailable() error {
	if err := torch.Available(); err != nil {
		return err
	}
	return tokenize.ErrNotBuilt // libtorch without tokenizers
}
