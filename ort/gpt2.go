package ort

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/mlbench/mlbench/tokenize"
)

// GPT2 is the go-ort llm/gpt2 pipeline: greedy generation with the KV
// cache as flat ONNX inputs and outputs (docs/LLM.md). Close frees the
// session and the tokenizer.
type GPT2 struct {
	Sess *Session
	Tok  *tokenize.Tokenizer

	Layers, Heads, HeadDim, Vocab int
}

// GPT2Config is the part of the model's config.json the pipeline needs.
type GPT2Config struct {
	NLayer    int `json:"n_layer"`
	NHead     int `json:"n_head"`
	NEmbd     int `json:"n_embd"`
	VocabSize int `json:"vocab_size"`
}

// GPT2Names returns the ONNX input and output names for layers layers.
func GPT2Names(layers int) (inputs, outputs []string) {
	inputs = []string{"input_ids", "attention_mask", "position_ids"}
	outputs = []string{"logits"}
	for i := 0; i < layers; i++ {
		s := strconv.Itoa(i)
		inputs = append(inputs, "past_key_values."+s+".key", "past_key_values."+s+".value")
		outputs = append(outputs, "present."+s+".key", "present."+s+".value")
	}
	return inputs, outputs
}

// NewGPT2 loads modelDir/model.onnx, the sizes from modelDir/config.json
// (gpt2 124M when it is absent) and the tokenizer.
func NewGPT2(modelDir, tokenizerPath string, opts SessionOptions) (*GPT2, error) {
	cfg := GPT2Config{NLayer: 12, NHead: 12, NEmbd: 768, VocabSize: 50257}
	if b, err := os.ReadFile(filepath.Join(modelDir, "config.json")); err == nil {
		if err := json.Unmarshal(b, &cfg); err != nil {
			return nil, fmt.Errorf("%s/config.json: %w", modelDir, err)
		}
	}
	if cfg.NLayer <= 0 || cfg.NHead <= 0 || cfg.NEmbd%cfg.NHead != 0 || cfg.VocabSize <= 0 {
		return nil, fmt.Errorf("%s/config.json: bad sizes %+v", modelDir, cfg)
	}
	tok, err := tokenize.Load(tokenizerPath)
	if err != nil {
		return nil, err
	}
	in, out := GPT2Names(cfg.NLayer)
	s, err := NewSession(filepath.Join(modelDir, "model.onnx"), in, out, opts)
	if err != nil {
		tok.Close()
		return nil, err
	}
	return &GPT2{Sess: s, Tok: tok, Layers: cfg.NLayer, Heads: cfg.NHead, HeadDim: cfg.NEmbd / cfg.NHead, Vocab: cfg.VocabSize}, nil
}

// Close frees the session and the tokenizer; it may be called more than once.
func (g *GPT2) Close() error {
	err := g.Sess.Close()
	g.Tok.Close()
	return err
}

// ProbeSteps is how many generated positions' logits Generate keeps
// (docs/LLM.md: gen_logits), and ProbeVocab how many vocabulary ids of each.
const (
	ProbeSteps = 5
	ProbeVocab = 256
)

// Generation is the outcome of one prompt.
type Generation struct {
	Tokens   []int64     // the generated ids
	TTFT     float64     // seconds from the start of the prompt call to the first id
	PerToken []float64   // seconds per later token, from feeding the previous one to the next id
	Logits   [][]float32 // the first ProbeSteps positions' logits, ids 0..ProbeVocab-1
}

// Generate runs greedy generation of exactly newTokens tokens after prompt
// (end-of-text does not stop it), feeding the presents back as the pasts.
// Each step's clock covers building the inputs, the model and the argmax;
// copying the probe logits happens after it.
func (g *GPT2) Generate(prompt []int64, newTokens int) (*Generation, error) {
	if len(prompt) == 0 {
		return nil, fmt.Errorf("gpt2: empty prompt")
	}
	if newTokens <= 0 {
		return nil, fmt.Errorf("gpt2: new_tokens %d: want >= 1", newTokens)
	}
	past := make([]*Tensor, 2*g.Layers) // key, value per layer
	defer func() {
		for _, t := range past {
			t.Close()
		}
	}()
	for i := range past {
		t, err := NewFloat32([]int64{1, int64(g.Heads), 0, int64(g.HeadDim)}, nil)
		if err != nil {
			return nil, err
		}
		past[i] = t
	}
	gen := &Generation{Tokens: make([]int64, 0, newTokens)}
	feed := prompt
	pastLen := 0
	for step := 0; step < newTokens; step++ {
		t0 := time.Now()
		next, logits, err := g.step(feed, pastLen, past)
		d := time.Since(t0).Seconds()
		if err != nil {
			return nil, fmt.Errorf("gpt2 step %d: %w", step, err)
		}
		if step == 0 {
			gen.TTFT = d
		} else {
			gen.PerToken = append(gen.PerToken, d)
		}
		if step < ProbeSteps {
			gen.Logits = append(gen.Logits, append([]float32(nil), logits.Float32s()[:min(ProbeVocab, g.Vocab)]...))
		}
		logits.Close()
		gen.Tokens = append(gen.Tokens, next)
		pastLen += len(feed)
		feed = []int64{next}
	}
	return gen, nil
}

// step runs ids after pastLen cached positions, replaces the tensors in
// past by the presents, and returns the argmax of the last position and a
// tensor holding that position's logits (the caller closes it).
func (g *GPT2) step(ids []int64, pastLen int, past []*Tensor) (int64, *Tensor, error) {
	n := int64(len(ids))
	total := int64(pastLen) + n
	mask := make([]int64, total)
	pos := make([]int64, n)
	for i := range mask {
		mask[i] = 1
	}
	for i := range pos {
		pos[i] = int64(pastLen) + int64(i)
	}
	var in [3]*Tensor
	out := make([]*Tensor, 1+2*g.Layers)
	defer func() {
		for _, t := range in {
			t.Close()
		}
		for _, t := range out {
			t.Close() // nil for the presents moved into past
		}
	}()
	var err error
	if in[0], err = NewInt64([]int64{1, n}, ids); err != nil {
		return 0, nil, err
	}
	if in[1], err = NewInt64([]int64{1, total}, mask); err != nil {
		return 0, nil, err
	}
	if in[2], err = NewInt64([]int64{1, n}, pos); err != nil {
		return 0, nil, err
	}
	if out[0], err = NewFloat32([]int64{1, n, int64(g.Vocab)}, nil); err != nil {
		return 0, nil, err
	}
	for i := 1; i < len(out); i++ {
		if out[i], err = NewFloat32([]int64{1, int64(g.Heads), total, int64(g.HeadDim)}, nil); err != nil {
			return 0, nil, err
		}
	}
	if err := g.Sess.Run(append(in[:], past...), out); err != nil {
		return 0, nil, err
	}
	last := out[0].Float32s()[(n-1)*int64(g.Vocab):]
	next := int64(Argmax(last))
	for i := range past {
		past[i].Close()
		past[i], out[1+i] = out[1+i], nil
	}
	if n == 1 {
		logits := out[0]
		out[0] = nil
		return next, logits, nil
	}
	logits, err := NewFloat32([]int64{int64(g.Vocab)}, last)
	return next, logits, err
}
