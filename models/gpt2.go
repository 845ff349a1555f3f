package models

import (
	"fmt"
	"math"

	"github.com/mlbench/mlbench/torch"
)

// GPT2Config is the part of a transformers GPT2Config that GPT2 reads.
type GPT2Config struct {
	VocabSize                  int     `json:"vocab_size"`
	NPositions                 int     `json:"n_positions"`
	NEmbd                      int     `json:"n_embd"`
	NLayer                     int     `json:"n_layer"`
	NHead                      int     `json:"n_head"`
	NInner                     *int    `json:"n_inner"` // null: 4 * n_embd
	LayerNormEpsilon           float64 `json:"layer_norm_epsilon"`
	ActivationFunction         string  `json:"activation_function"`
	ScaleAttnWeights           *bool   `json:"scale_attn_weights"` // null: true
	ScaleAttnByInverseLayerIdx bool    `json:"scale_attn_by_inverse_layer_idx"`
	ReorderAndUpcastAttn       bool    `json:"reorder_and_upcast_attn"`
}

// Inner is the MLP width (n_inner, or 4 n_embd when it is null).
func (c GPT2Config) Inner() int {
	if c.NInner != nil && *c.NInner > 0 {
		return *c.NInner
	}
	return 4 * c.NEmbd
}

func (c GPT2Config) check() error {
	if c.VocabSize <= 0 || c.NPositions <= 0 || c.NEmbd <= 0 || c.NLayer <= 0 || c.NHead <= 0 ||
		c.NEmbd%c.NHead != 0 || c.LayerNormEpsilon <= 0 {
		return fmt.Errorf("bad sizes %+v", c)
	}
	switch c.ActivationFunction {
	case "gelu_new", "gelu_pytorch_tanh", "gelu":
	default:
		return fmt.Errorf("activation_function %q: want gelu_new, gelu_pytorch_tanh or gelu", c.ActivationFunction)
	}
	return nil
}

type gpt2Block struct {
	ln1W, ln1B     *torch.Tensor
	attnW, attnB   *torch.Tensor // c_attn as a Linear: weight [3 n_embd, n_embd] (a transposed view of the Conv1D weight)
	projW, projB   *torch.Tensor // attn.c_proj
	ln2W, ln2B     *torch.Tensor
	fcW, fcB       *torch.Tensor // mlp.c_fc
	mprojW, mprojB *torch.Tensor // mlp.c_proj
	scale          float64       // attention scale
}

func (b *gpt2Block) tensors() []*torch.Tensor {
	return []*torch.Tensor{b.ln1W, b.ln1B, b.attnW, b.attnB, b.projW, b.projB, b.ln2W, b.ln2B,
		b.fcW, b.fcB, b.mprojW, b.mprojB}
}

// GPT2 is transformers' GPT2LMHeadModel, for inference with a KV cache.
//
// Checkpoint names: transformer.{wte,wpe,h.N.*,ln_f}. The Conv1D weights
// (c_attn, c_proj, c_fc) are stored [in, out]; GPT2 keeps them as transposed
// views, so that torch's linear multiplies by the stored matrix exactly as
// Conv1D's addmm does. The LM head is tied to wte (lm_head.weight is not
// stored): logits = ln_f(h) · wteᵀ. Attention is
// scaled_dot_product_attention (causal for the prompt), as transformers'
// "sdpa"; the MLP's GELU is the tanh approximation (gelu_new).
type GPT2 struct {
	Config GPT2Config
	Device torch.Device

	wte, wpe, lnfW, lnfB *torch.Tensor
	// head is the tied LM head wteᵀ, [n_embd, vocab] contiguous; wte is
	// its transposed view (one copy of the weights). logits = h · head
	// is MKL's GEMV on a row-major [in, out] matrix, as the blocks' Conv1D
	// weights; F.linear(h, wte) streams the [vocab, n_embd] matrix
	// slower (1.7x on an AVX-512 EPYC, issue #22).
	head   *torch.Tensor
	blocks []gpt2Block
}

// LoadGPT2 loads dir/config.json and dir/model.safetensors onto dev.
func LoadGPT2(dir string, dev torch.Device) (*GPT2, error) {
	var cfg GPT2Config
	if err := readConfig(dir, &cfg); err != nil {
		return nil, err
	}
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("%s/config.json: %w", dir, err)
	}
	if cfg.ReorderAndUpcastAttn {
		return nil, fmt.Errorf("%s/config.json: reorder_and_upcast_attn is not supported", dir)
	}
	w, err := loadWeights(dir, dev)
	if err != nil {
		return nil, err
	}
	defer w.close()
	E, I := int64(cfg.NEmbd), int64(cfg.Inner())
	m := &GPT2{Config: cfg, Device: dev}
	m.head, m.wte = tiedHead(w, w.take("transformer.wte.weight", int64(cfg.VocabSize), E))
	m.wpe = w.take("transformer.wpe.weight", int64(cfg.NPositions), E)
	m.lnfW, m.lnfB = w.take("transformer.ln_f.weight", E), w.take("transformer.ln_f.bias", E)
	m.blocks = make([]gpt2Block, cfg.NLayer)
	// conv1d takes a Conv1D weight [in, out] and returns it as a Linear
	// weight [out, in] (a view; the stored tensor is freed with the view).
	conv1d := func(name string, in, out int64) *torch.Tensor {
		t := w.take(name, in, out)
		if t == nil {
			return nil
		}
		defer t.Close()
		v, err := torch.Transpose(t, 0, 1)
		if err != nil && w.err == nil {
			w.err = err
		}
		return v
	}
	for i := range m.blocks {
		p := fmt.Sprintf("transformer.h.%d.", i)
		b := &m.blocks[i]
		b.ln1W, b.ln1B = w.take(p+"ln_1.weight", E), w.take(p+"ln_1.bias", E)
		b.attnW, b.attnB = conv1d(p+"attn.c_attn.weight", E, 3*E), w.take(p+"attn.c_attn.bias", 3*E)
		b.projW, b.projB = conv1d(p+"attn.c_proj.weight", E, E), w.take(p+"attn.c_proj.bias", E)
		b.ln2W, b.ln2B = w.take(p+"ln_2.weight", E), w.take(p+"ln_2.bias", E)
		b.fcW, b.fcB = conv1d(p+"mlp.c_fc.weight", E, I), w.take(p+"mlp.c_fc.bias", I)
		b.mprojW, b.mprojB = conv1d(p+"mlp.c_proj.weight", I, E), w.take(p+"mlp.c_proj.bias", E)
		b.scale = 1
		if cfg.ScaleAttnWeights == nil || *cfg.ScaleAttnWeights {
			b.scale /= math.Sqrt(float64(cfg.NEmbd / cfg.NHead))
		}
		if cfg.ScaleAttnByInverseLayerIdx {
			b.scale /= float64(i + 1)
		}
	}
	if w.err != nil {
		m.Close()
		return nil, w.err
	}
	return m, nil
}

// Close frees the weights; it may be called more than once.
func (m *GPT2) Close() error {
	closeAll(m.head, m.wte, m.wpe, m.lnfW, m.lnfB)
	for i := range m.blocks {
		closeAll(m.blocks[i].tensors()...)
	}
	return nil
}

// Forward runs int64 ids [B, S] (on the model's device) after the cache's
// positions (positions cache.Len() .. cache.Len()+S-1), appends their keys
// and values to cache, and returns the logits of every input position,
// float32 [B, S, vocab], which the caller closes. Every position attends to
// itself and to all earlier ones (no padding). cache may be nil: a run
// without past that keeps nothing.
func (m *GPT2) Forward(ids *torch.Tensor, cache *Cache) (*torch.Tensor, error) {
	info, err := ids.Info()
	if err != nil {
		return nil, err
	}
	if len(info.Shape) != 2 || info.Shape[1] == 0 {
		return nil, fmt.Errorf("gpt2: input_ids shape %v: want [batch, seq>0]", info.Shape)
	}
	if cache != nil && len(cache.keys) != len(m.blocks) {
		return nil, fmt.Errorf("gpt2: cache for %d layers, model has %d", len(cache.keys), len(m.blocks))
	}
	B, S := info.Shape[0], info.Shape[1]
	past := int64(0)
	if cache != nil {
		past = int64(cache.n)
	}
	if past+S > int64(m.Config.NPositions) {
		return nil, fmt.Errorf("gpt2: %d positions exceed n_positions %d", past+S, m.Config.NPositions)
	}
	if cache != nil {
		if err := cache.reserve(m, B, past+S); err != nil {
			return nil, err
		}
	}
	E := int64(m.Config.NEmbd)
	var logits *torch.Tensor
	err = forward(func(s *torch.Scope) {
		// The attention pattern: causal over the new positions, all of the past.
		att := torch.AttentionOptions{}
		if S > 1 {
			if past == 0 {
				att.Causal = true
			} else {
				att.Mask = s.Keep(causalMask(S, past, m.Device))
			}
		}
		h := s.Add(s.Embedding(m.wte, ids), s.Narrow(m.wpe, 0, past, S))
		for i := range m.blocks {
			var kc, vc *torch.Tensor
			if cache != nil {
				kc, vc = cache.keys[i], cache.values[i]
			}
			h = s.Nested(func(bs *torch.Scope) *torch.Tensor { return m.block(bs, i, h, kc, vc, past, att) })
		}
		h = s.LayerNorm(h, []int64{E}, m.lnfW, m.lnfB, m.Config.LayerNormEpsilon)
		logits = s.MatMul(h, m.head) // the tied LM head
		if s.Err() == nil {
			s.Release(logits)
		}
	})
	if err != nil {
		return nil, err
	}
	if cache != nil {
		cache.n += int(S)
	}
	return logits, nil
}

// block is transformer block i on hidden states h [B, S, E] at positions
// past .. past+S-1. With a cache (kc, vc: the layer's key and value buffers
// [B, n_head, capacity, head_dim], nil without one) it writes the new keys
// and values at positions past .. past+S-1 and attends to positions
// 0 .. past+S-1 of the buffers. It returns the new hidden states.
func (m *GPT2) block(s *torch.Scope, i int, h, kc, vc *torch.Tensor, past int64, att torch.AttentionOptions) *torch.Tensor {
	info, err := h.Info()
	if err != nil {
		s.Keep(nil, err)
		return nil
	}
	B, S := info.Shape[0], info.Shape[1]
	E, nh := int64(m.Config.NEmbd), int64(m.Config.NHead)
	eps := m.Config.LayerNormEpsilon
	b := &m.blocks[i]
	att.Scale = b.scale
	a := s.LayerNorm(h, []int64{E}, b.ln1W, b.ln1B, eps)
	qkv := s.Linear(a, b.attnW, b.attnB)   // [B, S, 3E]
	split := func(j int64) *torch.Tensor { // [B, nh, S, hd]
		return s.Transpose(s.View(s.Narrow(qkv, 2, j*E, E), B, S, nh, E/nh), 1, 2)
	}
	q, k, v := split(0), split(1), split(2)
	if kc != nil {
		k, v = appendKV(s, kc, k, past, S), appendKV(s, vc, v, past, S)
	}
	o := s.ScaledDotProductAttention(q, k, v, att)
	o = s.Linear(s.Reshape(s.Transpose(o, 1, 2), B, S, E), b.projW, b.projB)
	h = s.Add(h, o)
	f := s.Linear(s.LayerNorm(h, []int64{E}, b.ln2W, b.ln2B, eps), b.fcW, b.fcB)
	if m.Config.ActivationFunction == "gelu" {
		f = s.GELU(f)
	} else {
		f = s.GELUTanh(f)
	}
	return s.Add(h, s.Linear(f, b.mprojW, b.mprojB))
}

// causalMask is the Bool mask [S, past+S] of S new positions after past
// cached ones: query i may attend to keys 0 .. past+i.
func causalMask(S, past int64, dev torch.Device) (*torch.Tensor, error) {
	T := past + S
	b := make([]byte, S*T)
	for i := int64(0); i < S; i++ {
		for j := int64(0); j <= past+i; j++ {
			b[i*T+j] = 1
		}
	}
	t, err := torch.FromBytes(b, torch.Bool, []int64{S, T})
	if err != nil || dev == torch.CPU {
		return t, err
	}
	defer t.Close()
	return t.To(dev)
}

// Step runs ids (batch 1) from Go after the cache's positions and returns
// the greedy next token (argmax of the last position's logits, the lowest id
// on ties) and that position's logits [vocab] (the caller closes them; on
// the model's device). It is StepBatch of one row.
func (m *GPT2) Step(ids []int64, cache *Cache) (next int64, last *torch.Tensor, err error) {
	nexts, rows, err := m.StepBatch([][]int64{ids}, cache)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	last, err = torch.Reshape(rows, int64(m.Config.VocabSize))
	if err != nil {
		return 0, nil, err
	}
	return nexts[0], last, nil
}

// StepBatch runs ids, B rows of equal length, from Go after the cache's
// positions (a cache of batch B) and returns each row's greedy next token
// (argmax of its last position's logits, the lowest id on ties), on the
// host, and those positions' logits [B, vocab] (the caller closes them; on
// the model's device).
func (m *GPT2) StepBatch(ids [][]int64, cache *Cache) (next []int64, last *torch.Tensor, err error) {
	if len(ids) == 0 || len(ids[0]) == 0 {
		return nil, nil, fmt.Errorf("gpt2: no input ids")
	}
	B, S := int64(len(ids)), int64(len(ids[0]))
	flat := ids[0]
	if B > 1 {
		flat = make([]int64, 0, B*S)
		for b, row := range ids {
			if int64(len(row)) != S {
				return nil, nil, fmt.Errorf("gpt2: row %d has %d ids, row 0 %d", b, len(row), S)
			}
			flat = append(flat, row...)
		}
	}
	x, err := toDevice(m.Device, flat, B, S)
	if err != nil {
		return nil, nil, err
	}
	defer x.Close()
	logits, err := m.Forward(x, cache)
	if err != nil {
		return nil, nil, err
	}
	defer logits.Close()
	s := torch.NewScope()
	defer s.Close()
	last = s.Reshape(s.Narrow(logits, 1, S-1, 1), B, int64(m.Config.VocabSize))
	am := s.ArgMax(last, 1, false)
	if err := s.Err(); err != nil {
		return nil, nil, err
	}
	if next, err = am.Int64s(); err != nil {
		return nil, nil, err
	}
	return next, s.Release(last), nil
}
