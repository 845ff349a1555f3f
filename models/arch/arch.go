// Package arch counts what the benchmark's models ask of a machine: the
// parameters, the bytes of weights read per generated token and the FLOPs
// per forward (and backward) pass, from each model's configuration. The
// report divides an implementation's rate by the machine's measured limits
// with these counts. Only matrix products count (2 FLOP per multiply-add);
// embedding lookups, norms, activations, softmax and pooling are left out,
// as in the usual transformer FLOP counts (Kaplan et al. 2020, table 1).
package arch

// GPT2 is the part of a transformers GPT2Config that sizes the model.
type GPT2 struct {
	VocabSize  int  `json:"vocab_size"`
	NPositions int  `json:"n_positions"`
	NEmbd      int  `json:"n_embd"`
	NLayer     int  `json:"n_layer"`
	NInner     *int `json:"n_inner"` // null: 4 n_embd
}

// GPT2Small is transformers' GPT2Config() default, the 124M gpt2 that
// `mlbench models prepare` builds (reference/python/models.py).
var GPT2Small = GPT2{VocabSize: 50257, NPositions: 1024, NEmbd: 768, NLayer: 12}

func (g GPT2) inner() int64 {
	if g.NInner != nil && *g.NInner > 0 {
		return int64(*g.NInner)
	}
	return 4 * int64(g.NEmbd)
}

// Params counts GPT2LMHeadModel's parameters (the LM head is tied to the
// token embedding, so counted once).
func (g GPT2) Params() int64 {
	e, in := int64(g.NEmbd), g.inner()
	layer := 2*e + (3*e*e + 3*e) + (e*e + e) + 2*e + (e*in + in) + (in*e + e) // ln_1, c_attn, attn c_proj, ln_2, c_fc, mlp c_proj
	return int64(g.VocabSize)*e + int64(g.NPositions)*e + int64(g.NLayer)*layer + 2*e
}

// WeightBytesPerToken is what one decoding step with a KV cache reads of
// the weights at bytesPerParam: every parameter once (the token embedding
// as the tied LM head) except the position embedding, of which it reads
// one row. The KV cache and activations are left out.
func (g GPT2) WeightBytesPerToken(bytesPerParam int) float64 {
	return float64((g.Params() - int64(g.NPositions)*int64(g.NEmbd)) * int64(bytesPerParam))
}

// Bert is the part of a transformers BertConfig that sizes the model.
type Bert struct {
	VocabSize             int `json:"vocab_size"`
	MaxPositionEmbeddings int `json:"max_position_embeddings"`
	TypeVocabSize         int `json:"type_vocab_size"`
	HiddenSize            int `json:"hidden_size"`
	NumHiddenLayers       int `json:"num_hidden_layers"`
	IntermediateSize      int `json:"intermediate_size"`
}

// BertBase is transformers' BertConfig() default, bert-base-uncased, that
// `mlbench models prepare` builds for llm/bert-qa.
var BertBase = Bert{VocabSize: 30522, MaxPositionEmbeddings: 512, TypeVocabSize: 2, HiddenSize: 768,
	NumHiddenLayers: 12, IntermediateSize: 3072}

// QAParams counts BertForQuestionAnswering's parameters (no pooler; a
// 2-way span head).
func (b Bert) QAParams() int64 {
	h, in := int64(b.HiddenSize), int64(b.IntermediateSize)
	emb := int64(b.VocabSize+b.MaxPositionEmbeddings+b.TypeVocabSize)*h + 2*h
	layer := 4*(h*h+h) + 2*h + (h*in + in) + (in*h + h) + 2*h // Q K V O, LN, intermediate, output, LN
	return emb + int64(b.NumHiddenLayers)*layer + 2*h + 2
}

// QAForwardFLOP counts one forward pass of BertForQuestionAnswering over a
// window of seq tokens: per layer the Q, K, V and output projections
// (4 seq h^2 multiply-adds), the feed-forward (2 seq h i), the attention
// scores and the weighted sum (2 seq^2 h); then the span head (2 seq h).
func (b Bert) QAForwardFLOP(seq int) float64 {
	s, h, in := float64(seq), float64(b.HiddenSize), float64(b.IntermediateSize)
	layer := 4*s*h*h + 2*s*h*in + 2*s*s*h
	return 2 * (float64(b.NumHiddenLayers)*layer + 2*s*h)
}
