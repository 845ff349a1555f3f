package torch

import "io"

// AdamOptions are torch.optim.Adam's hyper-parameters.
type AdamOptions struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64
}

// DefaultAdam is PyTorch's default Adam at learning rate lr: betas (0.9,
// 0.999), eps 1e-8, weight decay 0.
func DefaultAdam(lr float64) AdamOptions {
	return AdamOptions{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// Optimizer is a handle to a libtorch optimizer (torch::optim::Adam).
//
// Ownership: the caller Closes it (idempotent). It holds its own references
// to the parameters it was given, so closing the parameters' Go handles does
// not invalidate it, and closing it does not close them. Not safe for
// concurrent use.
type Optimizer struct {
	h handle // nil once closed
}

var _ io.Closer = (*Optimizer)(nil)

// NewAdam returns Adam over params (leaf tensors with requires_grad), as
// torch.optim.Adam(params, lr, betas, eps, weight_decay).
func NewAdam(params []*Tensor, o AdamOptions) (*Optimizer, error) {
	hs := make([]handle, len(params))
	for i, p := range params {
		h, err := p.ptr("adam")
		if err != nil {
			return nil, err
		}
		hs[i] = h
	}
	h, err := nAdam(hs, o.LR, o.Beta1, o.Beta2, o.Eps, o.WeightDecay)
	if err != nil {
		return nil, err
	}
	return &Optimizer{h: h}, nil
}

func (o *Optimizer) ptr(op string) (handle, error) {
	if o == nil {
		return nil, &Error{Op: op, Err: ErrNil}
	}
	if o.h == nil {
		return nil, &Error{Op: op, Err: ErrClosed}
	}
	return o.h, nil
}

// Step updates the parameters from their gradients (optimizer.step()).
func (o *Optimizer) Step() error {
	h, err := o.ptr("step")
	if err != nil {
		return err
	}
	return nOptStep(h)
}

// ZeroGrad drops the parameters' gradients (zero_grad(set_to_none=True),
// PyTorch's default).
func (o *Optimizer) ZeroGrad() error {
	h, err := o.ptr("zero_grad")
	if err != nil {
		return err
	}
	return nOptZeroGrad(h)
}

// SetLR sets the learning rate of every parameter group.
func (o *Optimizer) SetLR(lr float64) error {
	h, err := o.ptr("set_lr")
	if err != nil {
		return err
	}
	return nOptSetLR(h, lr)
}

// Close frees the optimizer and its state. Idempotent; returns nil.
func (o *Optimizer) Close() error {
	if o == nil || o.h == nil {
		return nil
	}
	h := o.h
	o.h = nil
	nOptFree(h)
	return nil
}
