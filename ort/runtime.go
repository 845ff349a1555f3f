//go:build cgo

package ort

/*
#include <stdlib.h>
#include <string.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"unsafe"

	ortgo "github.com/yalue/onnxruntime_go"
)

var (
	ready    atomic.Bool // Init succeeded
	initMu   sync.Mutex
	initPath string // library of the initialised environment, "" before Init
	initErr  error  // the error of the first failed Init, reported again
)

// Init loads the ONNX Runtime library at libPath and creates the process's
// one ONNX Runtime environment. Calling it again with the same path does
// nothing; with another path it is an error (the environment lives as long
// as the process).
func Init(libPath string) error {
	initMu.Lock()
	defer initMu.Unlock()
	if initPath != "" {
		if libPath != initPath {
			return fmt.Errorf("ort: already initialised with %s, not %s", initPath, libPath)
		}
		return nil
	}
	if initErr != nil {
		return initErr
	}
	if libPath == "" {
		return errors.New("ort: Init: empty library path")
	}
	ortgo.SetSharedLibraryPath(libPath)
	if err := ortgo.InitializeEnvironment(ortgo.WithLogLevelWarning()); err != nil {
		initErr = fmt.Errorf("ort: loading %s: %w", libPath, err)
		return initErr
	}
	initPath = libPath
	ready.Store(true)
	return nil
}

// Version is the version ONNX Runtime reports (e.g. "1.30.0"); "" before
// Init.
func Version() string {
	initMu.Lock()
	defer initMu.Unlock()
	if initPath == "" {
		return ""
	}
	return ortgo.GetVersion()
}

// ElementType is a tensor element type.
type ElementType int

const (
	Float32 ElementType = iota + 1
	Int64
)

func (e ElementType) String() string {
	switch e {
	case Float32:
		return "float32"
	case Int64:
		return "int64"
	}
	return fmt.Sprintf("ElementType(%d)", int(e))
}

func (e ElementType) size() int {
	if e == Int64 {
		return 8
	}
	return 4
}

var liveTensors atomic.Int64

// LiveTensors is the number of Tensors created and not yet closed, for
// leak checks in tests.
func LiveTensors() int64 { return liveTensors.Load() }

// Tensor is a dense tensor whose data is in C memory owned by the Tensor.
// Close frees it; a closed Tensor has no data and no shape.
type Tensor struct {
	typ   ElementType
	shape []int64
	n     int            // number of elements
	p     unsafe.Pointer // C memory of n elements; nil when n == 0
	v     ortgo.Value    // the OrtValue over p
}

var _ io.Closer = (*Tensor)(nil)

func numel(shape []int64) (int, error) {
	if len(shape) == 0 {
		return 0, errors.New("ort: a tensor needs at least one dimension")
	}
	n := int64(1)
	for i, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("ort: dimension %d of shape %v is negative", i, shape)
		}
		if d != 0 && n > (1<<40)/d {
			return 0, fmt.Errorf("ort: shape %v is too large", shape)
		}
		n *= d
	}
	return int(n), nil
}

// newTensor allocates a zeroed tensor of typ and shape.
func newTensor(typ ElementType, shape []int64) (*Tensor, error) {
	if !ready.Load() {
		return nil, errors.New("ort: Init has not been called")
	}
	n, err := numel(shape)
	if err != nil {
		return nil, err
	}
	t := &Tensor{typ: typ, shape: append([]int64(nil), shape...), n: n}
	if n > 0 {
		t.p = C.calloc(C.size_t(n), C.size_t(typ.size()))
		if t.p == nil {
			return nil, fmt.Errorf("ort: out of memory for a %v tensor of shape %v", typ, shape)
		}
	}
	switch typ {
	case Float32:
		t.v, err = ortgo.NewTensor(ortgo.Shape(t.shape), unsafe.Slice((*float32)(t.p), n))
	case Int64:
		t.v, err = ortgo.NewTensor(ortgo.Shape(t.shape), unsafe.Slice((*int64)(t.p), n))
	default:
		err = fmt.Errorf("ort: unsupported element type %v", typ)
	}
	if err != nil {
		C.free(t.p)
		return nil, fmt.Errorf("ort: tensor of shape %v: %w", shape, err)
	}
	liveTensors.Add(1)
	return t, nil
}

// NewFloat32 returns a float32 tensor of shape holding a copy of data
// (len(data) must be the number of elements), or zeros when data is nil.
// The caller owns the result and must Close it.
func NewFloat32(shape []int64, data []float32) (*Tensor, error) {
	t, err := newTensor(Float32, shape)
	if err != nil {
		return nil, err
	}
	if data != nil {
		if len(data) != t.n {
			t.Close()
			return nil, fmt.Errorf("ort: %d values for shape %v (%d elements)", len(data), shape, t.n)
		}
		copy(t.Float32s(), data)
	}
	return t, nil
}

// NewInt64 is NewFloat32 for int64 data.
func NewInt64(shape []int64, data []int64) (*Tensor, error) {
	t, err := newTensor(Int64, shape)
	if err != nil {
		return nil, err
	}
	if data != nil {
		if len(data) != t.n {
			t.Close()
			return nil, fmt.Errorf("ort: %d values for shape %v (%d elements)", len(data), shape, t.n)
		}
		copy(t.Int64s(), data)
	}
	return t, nil
}

// Type is the element type.
func (t *Tensor) Type() ElementType { return t.typ }

// Shape is the tensor's shape; the caller must not modify it.
func (t *Tensor) Shape() []int64 { return t.shape }

// Len is the number of elements.
func (t *Tensor) Len() int { return t.n }

// Float32s is the tensor's data, a view of its C memory valid until Close;
// nil when the tensor is not float32, empty or closed.
func (t *Tensor) Float32s() []float32 {
	if t.typ != Float32 || t.p == nil {
		return nil
	}
	return unsafe.Slice((*float32)(t.p), t.n)
}

// Int64s is Float32s for int64 tensors.
func (t *Tensor) Int64s() []int64 {
	if t.typ != Int64 || t.p == nil {
		return nil
	}
	return unsafe.Slice((*int64)(t.p), t.n)
}

// Close releases the OrtValue and frees the data. It may be called more
// than once.
func (t *Tensor) Close() error {
	if t == nil || t.v == nil {
		return nil
	}
	err := t.v.Destroy()
	t.v = nil
	if t.p != nil {
		C.free(t.p)
		t.p = nil
	}
	t.n, t.shape = 0, nil
	liveTensors.Add(-1)
	return err
}

// fromValue copies a tensor ONNX Runtime allocated (and onnxruntime_go
// wrapped) into a new C-owned Tensor, and destroys v.
func fromValue(v ortgo.Value) (*Tensor, error) {
	defer v.Destroy()
	switch x := v.(type) {
	case *ortgo.Tensor[float32]:
		return NewFloat32(x.GetShape(), x.GetData())
	case *ortgo.Tensor[int64]:
		return NewInt64(x.GetShape(), x.GetData())
	}
	return nil, fmt.Errorf("ort: output of unsupported type %T", v)
}

// GraphOptLevel is ONNX Runtime's graph optimisation level. The zero value
// is OptAll, ONNX Runtime's own default (ORT_ENABLE_ALL), which the Python
// and Rust implementations also use.
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

func (l GraphOptLevel) ortgo() ortgo.GraphOptimizationLevel {
	return [...]ortgo.GraphOptimizationLevel{ortgo.GraphOptimizationLevelEnableAll,
		ortgo.GraphOptimizationLevelEnableExtended, ortgo.GraphOptimizationLevelEnableBasic,
		ortgo.GraphOptimizationLevelDisableAll}[l]
}

// SessionOptions are the knobs of a Session.
type SessionOptions struct {
	IntraOpThreads int // 0: ONNX Runtime's default (one per core)
	InterOpThreads int // 0: ONNX Runtime's default
	GraphOptLevel  GraphOptLevel
	CUDA           bool // add the CUDA execution provider (device 0)
}

// Session is an ONNX model loaded for inference, with the names of the
// inputs and outputs Run takes, in order.
type Session struct {
	s       *ortgo.DynamicAdvancedSession
	inputs  []string
	outputs []string
}

var _ io.Closer = (*Session)(nil)

// NewSession loads the model at modelPath. inputNames and outputNames fix
// the order of Run's arguments. The caller must Close the session.
func NewSession(modelPath string, inputNames, outputNames []string, opts SessionOptions) (*Session, error) {
	if !ready.Load() {
		return nil, errors.New("ort: Init has not been called")
	}
	if len(inputNames) == 0 || len(outputNames) == 0 {
		return nil, errors.New("ort: a session needs input and output names")
	}
	so, err := ortgo.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("ort: session options: %w", err)
	}
	defer so.Destroy()
	if opts.IntraOpThreads > 0 {
		if err := so.SetIntraOpNumThreads(opts.IntraOpThreads); err != nil {
			return nil, fmt.Errorf("ort: intra-op threads: %w", err)
		}
	}
	if opts.InterOpThreads > 0 {
		if err := so.SetInterOpNumThreads(opts.InterOpThreads); err != nil {
			return nil, fmt.Errorf("ort: inter-op threads: %w", err)
		}
	}
	if opts.GraphOptLevel < OptAll || opts.GraphOptLevel > OptDisabled {
		return nil, fmt.Errorf("ort: unknown graph optimisation level %d", opts.GraphOptLevel)
	}
	if err := so.SetGraphOptimizationLevel(opts.GraphOptLevel.ortgo()); err != nil {
		return nil, fmt.Errorf("ort: graph optimisation level: %w", err)
	}
	if opts.CUDA {
		if err := preloadCUDA(initPath); err != nil {
			return nil, err
		}
		co, err := ortgo.NewCUDAProviderOptions()
		if err != nil {
			return nil, fmt.Errorf("ort: CUDA provider options: %w", err)
		}
		err = so.AppendExecutionProviderCUDA(co)
		co.Destroy()
		if err != nil {
			return nil, fmt.Errorf("ort: CUDA execution provider: %w", err)
		}
	}
	s, err := ortgo.NewDynamicAdvancedSession(modelPath, inputNames, outputNames, so)
	if err != nil {
		return nil, fmt.Errorf("ort: loading %s: %w", modelPath, err)
	}
	return &Session{s: s, inputs: append([]string(nil), inputNames...), outputs: append([]string(nil), outputNames...)}, nil
}

// InputNames and OutputNames are the names given to NewSession.
func (s *Session) InputNames() []string  { return s.inputs }
func (s *Session) OutputNames() []string { return s.outputs }

// Run runs the model. inputs are in the order of InputNames; outputs in the
// order of OutputNames, each either a Tensor of the right shape, which ONNX
// Runtime fills, or nil, in which case Run stores a new Tensor there that
// the caller must Close. Wrong types or shapes come back as errors. Run
// does not take ownership of any tensor.
func (s *Session) Run(inputs, outputs []*Tensor) error {
	if s == nil || s.s == nil {
		return errors.New("ort: Run on a closed session")
	}
	if len(inputs) != len(s.inputs) || len(outputs) != len(s.outputs) {
		return fmt.Errorf("ort: Run with %d inputs and %d outputs, the session has %d and %d",
			len(inputs), len(outputs), len(s.inputs), len(s.outputs))
	}
	in := make([]ortgo.Value, len(inputs))
	for i, t := range inputs {
		if t == nil || t.v == nil {
			return fmt.Errorf("ort: input %q is nil or closed", s.inputs[i])
		}
		in[i] = t.v
	}
	out := make([]ortgo.Value, len(outputs))
	for i, t := range outputs {
		if t != nil {
			if t.v == nil {
				return fmt.Errorf("ort: output %q is closed", s.outputs[i])
			}
			out[i] = t.v
		}
	}
	if err := s.s.Run(in, out); err != nil {
		// onnxruntime_go may have converted some outputs before failing.
		for i, t := range outputs {
			if t == nil && out[i] != nil {
				out[i].Destroy()
			}
		}
		return fmt.Errorf("ort: %w", err)
	}
	for i, t := range outputs {
		if t != nil {
			continue
		}
		nt, err := fromValue(out[i])
		if err != nil {
			for j := i + 1; j < len(outputs); j++ {
				if outputs[j] == nil {
					out[j].Destroy()
				}
			}
			return fmt.Errorf("ort: output %q: %w", s.outputs[i], err)
		}
		outputs[i] = nt
	}
	return nil
}

// Close destroys the session. It may be called more than once.
func (s *Session) Close() error {
	if s == nil || s.s == nil {
		return nil
	}
	err := s.s.Destroy()
	s.s = nil
	return err
}
