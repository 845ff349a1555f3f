package torch

import "io"

// Scope owns the temporaries of one step and closes them all at Close. It
// also offers every op as a method with a sticky error: the first failure is
// kept, every later op returns nil without calling libtorch, and Err reports
// it. A forward pass reads as straight-line code with one error check:
//
//	s := torch.NewScope()
//	defer s.Close()
//	h := s.ReLU(s.Conv2d(x, w1, b1, 1, 1))
//	h = s.MaxPool2d(h, 2, 0)
//	logits := s.Linear(s.Flatten(h), w2, b2)
//	loss := s.CrossEntropy(logits, y)
//	if err := s.Err(); err != nil {
//		return err
//	}
//	if err := loss.Backward(); err != nil { ... }
//
// Tensors made by a Scope method belong to the Scope: do not Close them
// yourself (harmless, but pointless) and do not use them after the Scope's
// Close. Release takes one out of the Scope to outlive it; Keep adopts a
// tensor made elsewhere. Inputs passed to Scope methods are not adopted.
//
// A Scope is not safe for concurrent use.
type Scope struct {
	ts  []*Tensor
	err error
}

var _ io.Closer = (*Scope)(nil)

// NewScope returns an empty Scope.
func NewScope() *Scope { return &Scope{} }

// Err is the first error of any op run through the Scope (or given to Keep).
func (s *Scope) Err() error { return s.err }

// Keep adopts t (closing it at the Scope's Close) and returns it; when err is
// not nil it records err (if it is the first) and returns nil. It takes an
// op's two results directly: y := s.Keep(torch.ReLU(x)).
func (s *Scope) Keep(t *Tensor, err error) *Tensor {
	if err != nil {
		if s.err == nil {
			s.err = err
		}
		return nil
	}
	if t != nil {
		s.ts = append(s.ts, t)
	}
	return t
}

// Release takes t out of the Scope, so that it survives Close; the caller
// owns it again. Release of a tensor the Scope does not hold is a no-op.
func (s *Scope) Release(t *Tensor) *Tensor {
	for i := len(s.ts) - 1; i >= 0; i-- {
		if s.ts[i] == t {
			s.ts = append(s.ts[:i], s.ts[i+1:]...)
			break
		}
	}
	return t
}

// Len is the number of tensors the Scope holds.
func (s *Scope) Len() int { return len(s.ts) }

// Close closes every tensor the Scope holds, newest first, and empties it
// (the Scope can be reused; Err is kept). It is idempotent and returns nil.
func (s *Scope) Close() error {
	for i := len(s.ts) - 1; i >= 0; i-- {
		s.ts[i].Close()
		s.ts[i] = nil
	}
	s.ts = s.ts[:0]
	return nil
}

// ---- sticky-error ops: see the package functions of the same names ----

func (s *Scope) Add(a, b *Tensor) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(Add(a, b))
}

func (s *Scope) Sub(a, b *Tensor) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(Sub(a, b))
}

func (s *Scope) Mul(a, b *Tensor) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(Mul(a, b))
}

func (s *Scope) Div(a, b *Tensor) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(Div(a, b))
}

func (s *Scope) Eq(a, b *Tensor) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(Eq(a, b))
}

func (s *Scope) MatMul(a, b *Tensor) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(MatMul(a, b))
}

func (s *Scope) AddScalar(x *Tensor, v float64) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(AddScalar(x, v))
}

func (s *Scope) Scale(x *Tensor, v float64) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(Scale(x, v))
}

func (s *Scope) DivScalar(x *Tensor, v float64) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(DivScalar(x, v))
}

func (s *Scope) Linear(x, w, b *Tensor) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(Linear(x, w, b))
}

func (s *Scope) Conv2d(x, w, b *Tensor, stride, padding int64) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(Conv2d(x, w, b, stride, padding))
}

func (s *Scope) Conv2dWith(x, w, b *Tensor, o Conv2dOptions) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(Conv2dWith(x, w, b, o))
}

func (s *Scope) MaxPool2d(x *Tensor, kernel, stride int64) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(MaxPool2d(x, kernel, stride))
}

func (s *Scope) ReLU(x *Tensor) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(ReLU(x))
}

func (s *Scope) Tanh(x *Tensor) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(Tanh(x))
}

func (s *Scope) GELU(x *Tensor) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(GELU(x))
}

func (s *Scope) GELUTanh(x *Tensor) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(GELUTanh(x))
}

func (s *Scope) Softmax(x *Tensor, dim int64) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(Softmax(x, dim))
}

func (s *Scope) LogSoftmax(x *Tensor, dim int64) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(LogSoftmax(x, dim))
}

func (s *Scope) CrossEntropy(logits, targets *Tensor) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(CrossEntropy(logits, targets))
}

func (s *Scope) LayerNorm(x *Tensor, normalizedShape []int64, w, b *Tensor, eps float64) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(LayerNorm(x, normalizedShape, w, b, eps))
}

func (s *Scope) Embedding(weight, indices *Tensor) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(Embedding(weight, indices))
}

func (s *Scope) IndexSelect(x *Tensor, dim int64, index *Tensor) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(IndexSelect(x, dim, index))
}

func (s *Scope) MaskedFill(x, mask *Tensor, v float64) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(MaskedFill(x, mask, v))
}

func (s *Scope) Cat(ts []*Tensor, dim int64) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(Cat(ts, dim))
}

func (s *Scope) Narrow(x *Tensor, dim, start, length int64) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(Narrow(x, dim, start, length))
}

func (s *Scope) Reshape(x *Tensor, shape ...int64) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(Reshape(x, shape...))
}

func (s *Scope) View(x *Tensor, shape ...int64) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(View(x, shape...))
}

func (s *Scope) Flatten(x *Tensor) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(Flatten(x))
}

func (s *Scope) Transpose(x *Tensor, d0, d1 int64) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(Transpose(x, d0, d1))
}

func (s *Scope) Permute(x *Tensor, dims ...int64) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(Permute(x, dims...))
}

func (s *Scope) Contiguous(x *Tensor) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(Contiguous(x))
}

func (s *Scope) ArgMax(x *Tensor, dim int64, keepdim bool) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(ArgMax(x, dim, keepdim))
}

func (s *Scope) Sum(x *Tensor) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(Sum(x))
}

func (s *Scope) SumDims(x *Tensor, dims []int64, keepdim bool) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(SumDims(x, dims, keepdim))
}

func (s *Scope) Mean(x *Tensor) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(Mean(x))
}

func (s *Scope) MeanDims(x *Tensor, dims []int64, keepdim bool) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(MeanDims(x, dims, keepdim))
}

func (s *Scope) ScaledDotProductAttention(q, k, v *Tensor, o AttentionOptions) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(ScaledDotProductAttention(q, k, v, o))
}

// To is t.To(d), kept by the Scope.
func (s *Scope) To(t *Tensor, d Device) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(t.To(d))
}

// Detach is t.Detach(), kept by the Scope.
func (s *Scope) Detach(t *Tensor) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.Keep(t.Detach())
}
