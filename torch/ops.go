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

func binaryOp(op string, a, b *Tensor, f func(handle, handle) (handle, error)) (*Tensor, error) {
	ha, err := a.ptr(op)
	if err != nil {
		return nil, err
	}
	hb, err := b.ptr(op)
	if err != nil {
		return nil, err
	}
	return wrap(f(ha, hb))
}

// Add is a + b (broadcasting).
func Add(a, b *Tensor) (*Tensor, error) { return binaryOp("add", a, b, nAdd) }

// Sub is a - b (broadcasting).
func Sub(a, b *Tensor) (*Tensor, error) { return binaryOp("sub", a, b, nSub) }

// Mul is the elementwise a * b (broadcasting).
func Mul(a, b *Tensor) (*Tensor, error) { return binaryOp("mul", a, b, nMul) }

// Div is the elementwise a / b (broadcasting; true division).
func Div(a, b *Tensor) (*Tensor, error) { return binaryOp("div", a, b, nDiv) }

// Eq is the elementwise a == b, a Bool tensor.
func Eq(a, b *Tensor) (*Tensor, error) { return binaryOp("eq", a, b, nEq) }

// MatMul is torch.matmul(a, b) (batched, broadcasting batch dims).
func MatMul(a, b *Tensor) (*Tensor, error) { return binaryOp("matmul", a, b, nMatMul) }

// AddScalar is x + s.
func AddScalar(x *Tensor, s float64) (*Tensor, error) {
	hx, err := x.ptr("add_scalar")
	if err != nil {
		return nil, err
	}
	return wrap(nAddScalar(hx, s))
}

// Scale is x * s.
func Scale(x *Tensor, s float64) (*Tensor, error) {
	hx, err := x.ptr("mul_scalar")
	if err != nil {
		return nil, err
	}
	return wrap(nMulScalar(hx, s))
}

// DivScalar is x / s.
func DivScalar(x *Tensor, s float64) (*Tensor, error) {
	hx, err := x.ptr("div_scalar")
	if err != nil {
		return nil, err
	}
	return wrap(nDivScalar(hx, s))
}

// Linear is x Wᵀ + b, as torch.nn.functional.linear; w is [out, in]; b
// ([out]) may be nil.
func Linear(x, w, b *Tensor) (*Tensor, error) {
	hx, err := x.ptr("linear")
	if err != nil {
		return nil, err
	}
	hw, err := w.ptr("linear")
	if err != nil {
		return nil, err
	}
	hb, err := b.optPtr("linear")
	if err != nil {
		return nil, err
	}
	return wrap(nLinear(hx, hw, hb))
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

// ReLU is max(x, 0).
func ReLU(x *Tensor) (*Tensor, error) { return unaryOp("relu", x, nReLU) }

// Tanh is tanh(x).
func Tanh(x *Tensor) (*Tensor, error) { return unaryOp("tanh", x, nTanh) }

// GELU is the exact GELU, x Φ(x) (approximate="none", BERT).
func GELU(x *Tensor) (*Tensor, error) {
	hx, err := x.ptr("gelu")
	if err != nil {
		return nil, err
	}
	return wrap(nGELU(hx, false))
}

// GELUTanh is GELU's tanh approximation (approximate="tanh", GPT-2's gelu_new).
func GELUTanh(x *Tensor) (*Tensor, error) {
	hx, err := x.ptr("gelu")
	if err != nil {
		return nil, err
	}
	return wrap(nGELU(hx, true))
}

// Softmax along dim.
func Softmax(x *Tensor, dim int64) (*Tensor, error) {
	hx, err := x.ptr("softmax")
	if err != nil {
		return nil, err
	}
	return wrap(nSoftmax(hx, dim))
}

// LogSoftmax along dim.
func LogSoftmax(x *Tensor, dim int64) (*Tensor, error) {
	hx, err := x.ptr("log_softmax")
	if err != nil {
		return nil, err
	}
	return wrap(nLogSoftmax(hx, dim))
}

// CrossEntropy is the mean cross-entropy of logits [N,C] against int64 class
// targets [N], as torch.nn.functional.cross_entropy with its defaults.
func CrossEntropy(logits, targets *Tensor) (*Tensor, error) {
	return binaryOp("cross_entropy", logits, targets, nCrossEntropy)
}

// LayerNorm normalizes over the trailing dims given by normalizedShape, then
// scales by w and shifts by b (either may be nil), as F.layer_norm.
func LayerNorm(x *Tensor, normalizedShape []int64, w, b *Tensor, eps float64) (*Tensor, error) {
	hx, err := x.ptr("layer_norm")
	if err != nil {
		return nil, err
	}
	hw, err := w.optPtr("layer_norm")
	if err != nil {
		return nil, err
	}
	hb, err := b.optPtr("layer_norm")
	if err != nil {
		return nil, err
	}
	return wrap(nLayerNorm(hx, normalizedShape, hw, hb, eps))
}

// Embedding looks up the rows of weight [V,D] at int64 indices (any shape),
// giving [indices..., D], as F.embedding.
func Embedding(weight, indices *Tensor) (*Tensor, error) {
	return binaryOp("embedding", weight, indices, nEmbedding)
}

// IndexSelect picks the entries of x at the int64 1-D index along dim.
func IndexSelect(x *Tensor, dim int64, index *Tensor) (*Tensor, error) {
	hx, err := x.ptr("index_select")
	if err != nil {
		return nil, err
	}
	hi, err := index.ptr("index_select")
	if err != nil {
		return nil, err
	}
	return wrap(nIndexSelect(hx, dim, hi))
}

// MaskedFill is x with v where the Bool mask (broadcast) is true, e.g. -Inf
// above the diagonal of causal attention scores.
func MaskedFill(x, mask *Tensor, v float64) (*Tensor, error) {
	hx, err := x.ptr("masked_fill")
	if err != nil {
		return nil, err
	}
	hm, err := mask.ptr("masked_fill")
	if err != nil {
		return nil, err
	}
	return wrap(nMaskedFill(hx, hm, v))
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

// Narrow is the view x[..., start:start+length, ...] along dim.
func Narrow(x *Tensor, dim, start, length int64) (*Tensor, error) {
	hx, err := x.ptr("narrow")
	if err != nil {
		return nil, err
	}
	return wrap(nNarrow(hx, dim, start, length))
}

// Reshape is x with a new shape (one dim may be -1); a view when possible.
func Reshape(x *Tensor, shape ...int64) (*Tensor, error) {
	hx, err := x.ptr("reshape")
	if err != nil {
		return nil, err
	}
	return wrap(nReshape(hx, shape))
}

// View is x seen with a new shape; an error when x's strides do not allow it
// (use Reshape or Contiguous).
func View(x *Tensor, shape ...int64) (*Tensor, error) {
	hx, err := x.ptr("view")
	if err != nil {
		return nil, err
	}
	return wrap(nView(hx, shape))
}

// Flatten is x with dims 1.. merged, [N, -1], as nn.Flatten() (a view when
// possible).
func Flatten(x *Tensor) (*Tensor, error) { return FlattenDims(x, 1, -1) }

// FlattenDims merges dims start..end (inclusive), as torch.flatten.
func FlattenDims(x *Tensor, start, end int64) (*Tensor, error) {
	hx, err := x.ptr("flatten")
	if err != nil {
		return nil, err
	}
	return wrap(nFlatten(hx, start, end))
}

// Transpose swaps dims d0 and d1 (a view).
func Transpose(x *Tensor, d0, d1 int64) (*Tensor, error) {
	hx, err := x.ptr("transpose")
	if err != nil {
		return nil, err
	}
	return wrap(nTranspose(hx, d0, d1))
}

// Permute reorders x's dims (a view).
func Permute(x *Tensor, dims ...int64) (*Tensor, error) {
	hx, err := x.ptr("permute")
	if err != nil {
		return nil, err
	}
	return wrap(nPermute(hx, dims))
}

// Contiguous is x laid out row-major (a new handle to x when already so).
func Contiguous(x *Tensor) (*Tensor, error) { return unaryOp("contiguous", x, nContiguous) }

// ArgMax is the int64 index of the maximum along dim.
func ArgMax(x *Tensor, dim int64, keepdim bool) (*Tensor, error) {
	hx, err := x.ptr("argmax")
	if err != nil {
		return nil, err
	}
	return wrap(nArgMax(hx, dim, keepdim))
}

// Sum of all elements, a 0-dim tensor (integers and bools sum to int64).
func Sum(x *Tensor) (*Tensor, error) {
	hx, err := x.ptr("sum")
	if err != nil {
		return nil, err
	}
	return wrap(nSum(hx, -1))
}

// SumDims sums over dims.
func SumDims(x *Tensor, dims []int64, keepdim bool) (*Tensor, error) {
	hx, err := x.ptr("sum")
	if err != nil {
		return nil, err
	}
	return wrap(nSumDims(hx, dims, keepdim))
}

// Mean of all elements (floating dtypes), a 0-dim tensor.
func Mean(x *Tensor) (*Tensor, error) { return unaryOp("mean", x, nMean) }

// MeanDims averages over dims.
func MeanDims(x *Tensor, dims []int64, keepdim bool) (*Tensor, error) {
	hx, err := x.ptr("mean")
	if err != nil {
		return nil, err
	}
	return wrap(nMeanDims(hx, dims, keepdim))
}

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
