//go:build !libtorch

package golibtorch

import (
	"github.com/mlbench/mlbench/bench/worker"
	"github.com/mlbench/mlbench/torch"
)

// Without the libtorch tag go-libtorch is still listed for dl/cnn, with
// torch's reason for not running (torch.ErrNotBuilt); see cnn_libtorch.go.
func init() {
	worker.Register("dl/cnn", worker.Info{Impl: "go-libtorch", Framework: "libtorch", Available: torch.Available},
		func(*worker.Context) error { return torch.Available() })
}
