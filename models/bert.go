package models

import (
	"fmt"
	"math"

	"github.com/mlbench/mlbench/torch"
)

// BertConfig is the part of a transformers BertConfig that BertQA reads.
type BertConfig struct {
	VocabSize             int     `json:"vocab_size"`
	HiddenSize            int     `json:"hidden_size"`
	NumHiddenLayers       int     `json:"num_hidden_layers"`
	NumAttentionHeads     int     `json:"num_attention_heads"`
	IntermediateSize      int     `json:"intermediate_size"`
	MaxPositionEmbeddings int     `json:"max_position_embeddings"`
	TypeVocabSize         int     `json:"type_vocab_size"`
	LayerNormEps          float64 `json:"layer_norm_eps"`
	HiddenAct             string  `json:"hidden_act"`
	PositionEmbeddingType string  `json:"position_embedding_type"`
}

func (c BertConfig) check() error {
	if c.VocabSize <= 0 || c.HiddenSize <= 0 || c.NumHiddenLayers <= 0 || c.NumAttentionHeads <= 0 ||
		c.HiddenSize%c.NumAttentionHeads != 0 || c.IntermediateSize <= 0 || c.MaxPositionEmbeddings <= 0 ||
		c.TypeVocabSize <= 0 || c.LayerNormEps <= 0 {
		return fmt.Errorf("bad sizes %+v", c)
	}
	switch c.HiddenAct {
	case "gelu", "gelu_new", "gelu_pytorch_tanh":
	default:
		return fmt.Errorf("hidden_act %q: want gelu, gelu_new or gelu_pytorch_tanh", c.HiddenAct)
	}
	if c.PositionEmbeddingType != "" && c.PositionEmbeddingType != "absolute" {
		return fmt.Errorf("position_embedding_type %q: only absolute is supported", c.PositionEmbeddingType)
	}
	return nil
}

type bertLayer struct {
	qW, qB, kW, kB, vW, vB *torch.Tensor // attention.self.{query,key,value}
	aoW, aoB, ln1W, ln1B   *torch.Tensor // attention.output.{dense,LayerNorm}
	iW, iB                 *torch.Tensor // intermediate.dense
	oW, oB, ln2W, ln2B     *torch.Tensor // output.{dense,LayerNorm}
}

func (l *bertLayer) tensors() []*torch.Tensor {
	return []*torch.Tensor{l.qW, l.qB, l.kW, l.kB, l.vW, l.vB, l.aoW, l.aoB, l.ln1W, l.ln1B,
		l.iW, l.iB, l.oW, l.oB, l.ln2W, l.ln2B}
}

// BertQA is transformers' BertForQuestionAnswering (a BERT encoder and a
// Linear(hidden, 2) head giving start and end logits), for inference.
//
// Checkpoint names: bert.embeddings.*, bert.encoder.layer.N.*, qa_outputs.*
// (no pooler: the QA model does not use one). Attention is
// scaled_dot_product_attention, as transformers' "sdpa"; GELU is exact
// (hidden_act "gelu") or the tanh approximation ("gelu_new").
type BertQA struct {
	Config BertConfig
	Device torch.Device

	wordEmb, posEmb, typeEmb, embLNW, embLNB *torch.Tensor
	layers                                   []bertLayer
	qaW, qaB                                 *torch.Tensor
}

// LoadBertQA loads dir/config.json and dir/model.safetensors onto dev.
func LoadBertQA(dir string, dev torch.Device) (*BertQA, error) {
	var cfg BertConfig
	if err := readConfig(dir, &cfg); err != nil {
		return nil, err
	}
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("%s/config.json: %w", dir, err)
	}
	w, err := loadWeights(dir, dev)
	if err != nil {
		return nil, err
	}
	defer w.close()
	H, I := int64(cfg.HiddenSize), int64(cfg.IntermediateSize)
	m := &BertQA{Config: cfg, Device: dev}
	m.wordEmb = w.take("bert.embeddings.word_embeddings.weight", int64(cfg.VocabSize), H)
	m.posEmb = w.take("bert.embeddings.position_embeddings.weight", int64(cfg.MaxPositionEmbeddings), H)
	m.typeEmb = w.take("bert.embeddings.token_type_embeddings.weight", int64(cfg.TypeVocabSize), H)
	m.embLNW = w.take("bert.embeddings.LayerNorm.weight", H)
	m.embLNB = w.take("bert.embeddings.LayerNorm.bias", H)
	m.layers = make([]bertLayer, cfg.NumHiddenLayers)
	for i := range m.layers {
		p := fmt.Sprintf("bert.encoder.layer.%d.", i)
		l := &m.layers[i]
		l.qW, l.qB = w.take(p+"attention.self.query.weight", H, H), w.take(p+"attention.self.query.bias", H)
		l.kW, l.kB = w.take(p+"attention.self.key.weight", H, H), w.take(p+"attention.self.key.bias", H)
		l.vW, l.vB = w.take(p+"attention.self.value.weight", H, H), w.take(p+"attention.self.value.bias", H)
		l.aoW, l.aoB = w.take(p+"attention.output.dense.weight", H, H), w.take(p+"attention.output.dense.bias", H)
		l.ln1W, l.ln1B = w.take(p+"attention.output.LayerNorm.weight", H), w.take(p+"attention.output.LayerNorm.bias", H)
		l.iW, l.iB = w.take(p+"intermediate.dense.weight", I, H), w.take(p+"intermediate.dense.bias", I)
		l.oW, l.oB = w.take(p+"output.dense.weight", H, I), w.take(p+"output.dense.bias", H)
		l.ln2W, l.ln2B = w.take(p+"output.LayerNorm.weight", H), w.take(p+"output.LayerNorm.bias", H)
	}
	m.qaW, m.qaB = w.take("qa_outputs.weight", 2, H), w.take("qa_outputs.bias", 2)
	if w.err != nil {
		m.Close()
		return nil, w.err
	}
	return m, nil
}

// Close frees the weights; it may be called more than once.
func (m *BertQA) Close() error {
	closeAll(m.wordEmb, m.posEmb, m.typeEmb, m.embLNW, m.embLNB, m.qaW, m.qaB)
	for i := range m.layers {
		closeAll(m.layers[i].tensors()...)
	}
	return nil
}

func (m *BertQA) gelu(s *torch.Scope, x *torch.Tensor) *torch.Tensor {
	if m.Config.HiddenAct == "gelu" {
		return s.GELU(x)
	}
	return s.GELUTanh(x)
}

// embed is BertEmbeddings: word + token type + position embeddings, then
// LayerNorm (dropout is off at inference).
func (m *BertQA) embed(s *torch.Scope, ids, typeIDs *torch.Tensor, seq int64) *torch.Tensor {
	x := s.Add(s.Embedding(m.wordEmb, ids), s.Embedding(m.typeEmb, typeIDs))
	x = s.Add(x, s.Narrow(m.posEmb, 0, 0, seq))
	return s.LayerNorm(x, []int64{int64(m.Config.HiddenSize)}, m.embLNW, m.embLNB, m.Config.LayerNormEps)
}

// layer is BertLayer i on hidden states h [B, S, H]; mask is nil or the
// additive attention mask [B, 1, 1, S].
func (m *BertQA) layer(s *torch.Scope, i int, h, mask *torch.Tensor) *torch.Tensor {
	l := &m.layers[i]
	c := m.Config
	info, err := h.Info()
	if err != nil {
		s.Keep(nil, err)
		return nil
	}
	B, S, H := info.Shape[0], info.Shape[1], int64(c.HiddenSize)
	nh, hd := int64(c.NumAttentionHeads), H/int64(c.NumAttentionHeads)
	heads := func(w, b *torch.Tensor) *torch.Tensor { // [B, nh, S, hd]
		return s.Transpose(s.View(s.Linear(h, w, b), B, S, nh, hd), 1, 2)
	}
	q, k, v := heads(l.qW, l.qB), heads(l.kW, l.kB), heads(l.vW, l.vB)
	ctx := s.ScaledDotProductAttention(q, k, v, torch.AttentionOptions{Mask: mask})
	ctx = s.Reshape(s.Transpose(ctx, 1, 2), B, S, H)
	eps, norm := c.LayerNormEps, []int64{H}
	a := s.LayerNorm(s.Add(s.Linear(ctx, l.aoW, l.aoB), h), norm, l.ln1W, l.ln1B, eps)
	inter := m.gelu(s, s.Linear(a, l.iW, l.iB))
	return s.LayerNorm(s.Add(s.Linear(inter, l.oW, l.oB), a), norm, l.ln2W, l.ln2B, eps)
}

// additiveMask turns an attention mask [B, S] (1 attend, 0 padding; any
// integer or float dtype) into transformers' additive mask [B, 1, 1, S]:
// 0 where attended, the float32 minimum where not.
func additiveMask(s *torch.Scope, mask *torch.Tensor) *torch.Tensor {
	info, err := mask.Info()
	if err != nil {
		s.Keep(nil, err)
		return nil
	}
	f := s.Keep(mask.ToDType(torch.Float32))
	f = s.Scale(s.AddScalar(s.Scale(f, -1), 1), -math.MaxFloat32) // (1 - mask) * min
	return s.View(f, info.Shape[0], 1, 1, info.Shape[1])
}

// Forward runs the model on int64 inputIDs and tokenTypeIDs [B, S] (on the
// model's device) and returns the start and end logits, float32 [B, S],
// which the caller closes. attentionMask [B, S] (1: a token, 0: padding)
// may be nil: every position attends to every other, as with a mask of
// ones.
func (m *BertQA) Forward(inputIDs, tokenTypeIDs, attentionMask *torch.Tensor) (start, end *torch.Tensor, err error) {
	info, err := inputIDs.Info()
	if err != nil {
		return nil, nil, err
	}
	if len(info.Shape) != 2 {
		return nil, nil, fmt.Errorf("bert: input_ids shape %v: want [batch, seq]", info.Shape)
	}
	B, S := info.Shape[0], info.Shape[1]
	if S > int64(m.Config.MaxPositionEmbeddings) {
		return nil, nil, fmt.Errorf("bert: %d tokens exceed max_position_embeddings %d", S, m.Config.MaxPositionEmbeddings)
	}
	err = forward(func(s *torch.Scope) {
		var mask *torch.Tensor
		if attentionMask != nil {
			mask = additiveMask(s, attentionMask)
		}
		h := m.embed(s, inputIDs, tokenTypeIDs, S)
		for i := range m.layers {
			h = s.Nested(func(ls *torch.Scope) *torch.Tensor { return m.layer(ls, i, h, mask) })
		}
		logits := s.Linear(h, m.qaW, m.qaB) // [B, S, 2]
		start = s.Reshape(s.Narrow(logits, 2, 0, 1), B, S)
		end = s.Reshape(s.Narrow(logits, 2, 1, 1), B, S)
		if s.Err() == nil {
			start, end = s.Keep(torch.Contiguous(start)), s.Keep(torch.Contiguous(end))
		}
		if s.Err() == nil {
			s.Release(start)
			s.Release(end)
		}
	})
	if err != nil {
		return nil, nil, err
	}
	return start, end, nil
}

// Logits runs one sequence (batch 1, no padding) from Go slices and returns
// its start and end logits: the whole call (inputs to the device, the
// forward pass, logits back) as the llm/bert-qa "model" phase times it.
func (m *BertQA) Logits(ids, typeIDs []int64) (start, end []float32, err error) {
	if len(ids) == 0 || len(typeIDs) != len(ids) {
		return nil, nil, fmt.Errorf("bert: %d input ids and %d token type ids", len(ids), len(typeIDs))
	}
	n := int64(len(ids))
	x, err := toDevice(m.Device, ids, 1, n)
	if err != nil {
		return nil, nil, err
	}
	defer x.Close()
	tt, err := toDevice(m.Device, typeIDs, 1, n)
	if err != nil {
		return nil, nil, err
	}
	defer tt.Close()
	st, et, err := m.Forward(x, tt, nil)
	if err != nil {
		return nil, nil, err
	}
	defer closeAll(st, et)
	if start, err = st.Float32s(); err != nil {
		return nil, nil, err
	}
	if end, err = et.Float32s(); err != nil {
		return nil, nil, err
	}
	return start, end, nil
}

// toDevice is an int64 tensor of the given shape on dev.
func toDevice(dev torch.Device, v []int64, shape ...int64) (*torch.Tensor, error) {
	t, err := torch.FromInt64s(v, shape...)
	if err != nil || dev == torch.CPU {
		return t, err
	}
	defer t.Close()
	return t.To(dev)
}
