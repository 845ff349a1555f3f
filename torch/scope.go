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

// Nested runs f in a Scope of its own and hands f's result, which must be a
// tensor f's Scope made (or nil), to s; everything else f makes is closed as
// f returns, not at s's Close. Deep models want one per layer:
//
//	for i := range layers {
//		h = s.Nested(func(ls *torch.Scope) *torch.Tensor { return layer(ls, i, h) })
//	}
//
// Without it one Scope per forward pass holds every layer's activations
// until the pass ends, so each pass takes all of them from fresh memory
// instead of reusing the last layer's (mlbench's BERT-base driver ran about
// a third slower per request that way). An error in f becomes s's error,
// with f's tensors closed; when s already has one, f does not run.
func (s *Scope) Nested(f func(*Scope) *Tensor) *Tensor {
	if s.err != nil {
		return nil
	}
	inner := NewScope()
	defer inner.Close()
	t := f(inner)
	if err := inner.Err(); err != nil {
		return s.Keep(nil, err)
	}
	return s.Keep(inner.Release(t), nil)
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
