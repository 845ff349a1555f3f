package torch

// Ops. Each is one cgo crossing to one libtorch function and returns a new
// Tensor the caller owns (see Tensor), or an error: a *Error carrying
// libtorch's message (shape mismatches, bad dims, ...) or wrapping ErrNil /
// ErrClosed for a bad input handle. Inputs are never consumed or closed.
// Semantics (broadcasting, type promotion, negative dims) are libtorch's.

func unaryOp(op string, x *Tensor, f func(handle) (handle, error)) (*Tensor, error) {
	hx, err := x.ptr(op)
	if err != nil {
		return nil, err
	}
	return wrap(f(hx))
}

// Conv2dOptions are torch.nn.functional.conv2d's arguments; zero values mean
// PyTorch's defaults (stride 1, padding 0, dilation 1, groups 1).
type Conv2dOptions struct {
	Stride, Padding, Dilation [2]int64
	Groups                    int64
}

// Conv2d is a 2-D convolution of x [N,C,H,W] with w [O,C/groups,kH,kW] and
// bias b ([O], may be nil), with the same stride and padding on both axes.
func Conv2d(x, w, b *Tensor, stride, padding int64) (*Tensor, error) {
	return Conv2dWith(x, w, b, Conv2dOptions{Stride: [2]int64{stride, stride}, Padding: [2]int64{padding, padding}})
}

// Conv2dWith is Conv2d with every option.
func Conv2dWith(x, w, b *Tensor, o Conv2dOptions) (*Tensor, error) {
	hx, err := x.ptr("conv2d")
	if err != nil {
		return nil, err
	}
	hw, err := w.ptr("conv2d")
	if err != nil {
		return nil, err
	}
	hb, err := b.optPtr("conv2d")
	if err != nil {
		return nil, err
	}
	if o.Stride == [2]int64{} {
		o.Stride = [2]int64{1, 1}
	}
	if o.Dilation == [2]int64{} {
		o.Dilation = [2]int64{1, 1}
	}
	if o.Groups == 0 {
		o.Groups = 1
	}
	return wrap(nConv2d(hx, hw, hb, o.Stride, o.Padding, o.Dilation, o.Groups))
}

// MaxPool2d is a 2-D max pooling with a square kernel; stride 0 means the
// kernel size (PyTorch's default); no padding.
func MaxPool2d(x *Tensor, kernel, stride int64) (*Tensor, error) {
	hx, err := x.ptr("max_pool2d")
	if err != nil {
		return nil, err
	}
	if stride == 0 {
		stride = kernel
	}
	return wrap(nMaxPool2d(hx, [2]int64{kernel, kernel}, [2]int64{stride, stride}, [2]int64{}))
}

// Cat concatenates ts along dim.
func Cat(ts []*Tensor, dim int64) (*Tensor, error) {
	hs := make([]handle, len(ts))
	for i, t := range ts {
		h, err := t.ptr("cat")
		if err != nil {
			return nil, err
		}
		hs[i] = h
	}
	return wrap(nCat(hs, dim))
}

// Flatten is x with dims 1.. merged, [N, -1], as nn.Flatten() (a view when
// possible).
func Flatten(x *Tensor) (*Tensor, error) { return FlattenDims(x, 1, -1) }

// AttentionOptions are the optional arguments of ScaledDotProductAttention.
type AttentionOptions struct {
	// Mask, when not nil, broadcasts to [..., Lq, Lk]: a Bool mask (true:
	// may attend) or a float mask added to the scores (e.g. 0 and -Inf, or
	// BERT's (1 - attention_mask) * float32 min).
	Mask *Tensor
	// Causal masks every key after its query (Lq == Lk; position i attends
	// to 0..i), as is_causal=True. Not together with Mask.
	Causal bool
	// Scale multiplies q kᵀ; 0 means 1/sqrt(head dim).
	Scale float64
}

// ScaledDotProductAttention is softmax(q kᵀ · scale + mask) v, as
// torch.nn.functional.scaled_dot_product_attention (no dropout), on q
// [..., Lq, E], k [..., Lk, E], v [..., Lk, Ev]: libtorch picks the fused
// kernel (flash / memory-efficient / math) for the device, as PyTorch does.
func ScaledDotProductAttention(q, k, v *Tensor, o AttentionOptions) (*Tensor, error) {
	const op = "scaled_dot_product_attention"
	hq, err := q.ptr(op)
	if err != nil {
		return nil, err
	}
	hk, err := k.ptr(op)
	if err != nil {
		return nil, err
	}
	hv, err := v.ptr(op)
	if err != nil {
		return nil, err
	}
	hm, err := o.Mask.optPtr(op)
	if err != nil {
		return nil, err
	}
	return wrap(nSDPA(hq, hk, hv, hm, o.Causal, o.Scale))
}
