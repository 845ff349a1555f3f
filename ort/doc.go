// Package ort runs ONNX models with ONNX Runtime and holds the go-ort
// pipelines of the LLM tasks (docs/LLM.md): BERT question answering
// (BertQA) and greedy GPT-2 generation with a KV cache (GPT2).
//
// The runtime is github.com/yalue/onnxruntime_go, which loads the ONNX
// Runtime shared library with dlopen at Init: the package compiles without
// the library, and the library used is the libonnxruntime.so.1.30.0 of the
// pinned onnxruntime Python wheel (see LibraryPath), so Go, Python and Rust
// run the same build.
//
// Memory: every Tensor's data lives in C memory (malloc) that this package
// owns, so ONNX Runtime never holds a pointer into Go memory. A Tensor and a
// Session must be closed explicitly; Close may be called more than once.
// Views returned by Tensor.Float32s and Tensor.Int64s point into that C
// memory and are valid only until the Tensor is closed.
//
// The pure-Go parts of the pipelines (context windows, span post-processing,
// the SQuAD v2.0 metrics, argmax) are in files without cgo, so they are
// tested on any machine.
package ort
