//go:build !cgo

package ort

import "errors"

// errNoCgo is what this build (CGO_ENABLED=0) returns: ONNX Runtime is
// reached through cgo.
var errNoCgo = errors.New("ort: built without cgo: ONNX Runtime needs CGO_ENABLED=1")

// Init returns an error: this build has no cgo.
func Init(libPath string) error { return errNoCgo }

// Version is "" in this build.
func Version() string { return "" }

// LiveTensors is 0 in this build.
func LiveTensors() int64 { return 0 }

// ElementType is a tensor element type.
type ElementType int

const (
	Float32 ElementType = iota + 1
	Int64
)

// Tensor cannot be created in this build.
type Tensor struct{}

func NewFloat32(shape []int64, data []float32) (*Tensor, error) { return nil, errNoCgo }
func NewInt64(shape []int64, data []int64) (*Tensor, error)     { return nil, errNoCgo }
func (t *Tensor) Type() ElementType                             { return 0 }
func (t *Tensor) Shape() []int64                                { return nil }
func (t *Tensor) Len() int                                      { return 0 }
func (t *Tensor) Float32s() []float32                           { return nil }
func (t *Tensor) Int64s() []int64                               { return nil }
func (t *Tensor) Close() error                                  { return nil }

// GraphOptLevel is ONNX Runtime's graph optimisation level.
type GraphOptLevel int

const (
	OptAll GraphOptLevel = iota
	OptExtended
	OptBasic
	OptDisabled
)

func (l GraphOptLevel) String() string {
	return [...]string{"ORT_ENABLE_ALL", "ORT_ENABLE_EXTENDED", "ORT_ENABLE_BASIC", "ORT_DISABLE_ALL"}[l]
}

// SessionOptions are the knobs of a Session.
type SessionOptions struct {
	IntraOpThreads int
	InterOpThreads int
	GraphOptLevel  GraphOptLevel
	CUDA           bool
}

// Session cannot be created in this build.
type Session struct{}

func NewSession(modelPath string, inputNames, outputNames []string, opts SessionOptions) (*Session, error) {
	return nil, errNoCgo
}
func (s *Session) InputNames() []string                { return nil }
func (s *Session) OutputNames() []string               { return nil }
func (s *Session) Run(inputs, outputs []*Tensor) error { return errNoCgo }
func (s *Session) Close() error                        { return nil }
