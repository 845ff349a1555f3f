// Package tokenize wraps Hugging Face tokenizers (tokenizer.json files) for
// the LLM tasks, over github.com/daulet/tokenizers.
//
// The real implementation needs the native library libtokenizers.a and is
// compiled only with the build tag `tokenizers`:
//
//	export CGO_LDFLAGS="-L$(bash third_party/libtokenizers.sh) $CGO_LDFLAGS"
//	go build -tags tokenizers ./...
//
// (append to CGO_LDFLAGS: a program that also embeds package torch keeps the
// libtorch flags set there, see torch/doc.go).
//
// ./build.sh does this. Without the tag the package still compiles: Load
// returns ErrNotBuilt, so `go build ./... && go test ./...` work on a machine
// without Rust.
package tokenize

import "errors"

// ErrNotBuilt is what every function returns in a binary built without the
// `tokenizers` tag.
var ErrNotBuilt = errors.New("built without tokenizers: build with ./build.sh (tags tokenizers)")

// Built reports whether this binary has the native tokenizers library.
func Built() bool { return built }
