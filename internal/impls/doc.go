// Package impls registers every Go implementation of the benchmark tasks
// with bench/worker; importing it for its side effects (as cmd/mlbench does)
// makes them available to `mlbench worker`. Each implementation lives in a
// package of its own, named after its implementation id, and only wires a
// spec to its library and its library's answer to a result:
//
//	gogonum     go-gonum     classical/linreg, classical/svm, classical/kmeans (package classical)
//	goort       go-ort       llm/bert-qa, llm/gpt2 (ONNX Runtime through package ort; workloads of package llm)
//	gonull      go-null      every task: reads the spec and inputs, does no work (bench/null.go)
//	golibtorch  go-libtorch  dl/cnn, llm/bert-qa, llm/gpt2 (libtorch through package torch; models of package models)
package impls

import (
	_ "github.com/mlbench/mlbench/internal/impls/gogonum"    // go-gonum
	_ "github.com/mlbench/mlbench/internal/impls/golibtorch" // go-libtorch
	_ "github.com/mlbench/mlbench/internal/impls/gonull"     // go-null
	_ "github.com/mlbench/mlbench/internal/impls/goort"      // go-ort
)
