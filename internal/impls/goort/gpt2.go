package goort

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/mlbench/mlbench/llm"
	"github.com/mlbench/mlbench/ort"
)

// gpt2 is an llm.CausalLM on an ONNX Runtime session of
// modelDir/model.onnx whose KV cache is flat inputs and outputs: the
// present.* outputs of a step are fed back as the past_key_values.* inputs
// of the next, without copies. Close frees the session and the cache.
type gpt2 struct {
	sess                          *ort.Session
	layers, heads, headDim, vocab int

	past    []*ort.Tensor // key, value per layer
	pastLen int
	logits  *ort.Tensor // the last position's logits of the last step
}

// gpt2Config is the part of the model's config.json the adapter needs.
type gpt2Config struct {
	NLayer    int `json:"n_layer"`
	NHead     int `json:"n_head"`
	NEmbd     int `json:"n_embd"`
	VocabSize int `json:"vocab_size"`
}

// gpt2Names returns the ONNX input and output names for layers layers.
func gpt2Names(layers int) (inputs, outputs []string) {
	inputs = []string{"input_ids", "attention_mask", "position_ids"}
	outputs = []string{"logits"}
	for i := 0; i < layers; i++ {
		s := strconv.Itoa(i)
		inputs = append(inputs, "past_key_values."+s+".key", "past_key_values."+s+".value")
		outputs = append(outputs, "present."+s+".key", "present."+s+".value")
	}
	return inputs, outputs
}

// newGPT2 loads modelDir/model.onnx with the sizes of modelDir/config.json
// (gpt2 124M when it is absent).
func newGPT2(modelDir string, opts ort.SessionOptions) (*gpt2, error) {
	cfg := gpt2Config{NLayer: 12, NHead: 12, NEmbd: 768, VocabSize: 50257}
	if b, err := os.ReadFile(filepath.Join(modelDir, "config.json")); err == nil {
		if err := json.Unmarshal(b, &cfg); err != nil {
			return nil, fmt.Errorf("%s/config.json: %w", modelDir, err)
		}
	}
	if cfg.NLayer <= 0 || cfg.NHead <= 0 || cfg.NEmbd%cfg.NHead != 0 || cfg.VocabSize <= 0 {
		return nil, fmt.Errorf("%s/config.json: bad sizes %+v", modelDir, cfg)
	}
	in, out := gpt2Names(cfg.NLayer)
	s, err := ort.NewSession(filepath.Join(modelDir, "model.onnx"), in, out, opts)
	if err != nil {
		return nil, err
	}
	return &gpt2{sess: s, layers: cfg.NLayer, heads: cfg.NHead, headDim: cfg.NEmbd / cfg.NHead, vocab: cfg.VocabSize}, nil
}

func (g *gpt2) VocabSize() int { return g.vocab }

// Close frees the session and the cache; it may be called more than once.
func (g *gpt2) Close() error {
	g.freeCache()
	return g.sess.Close()
}

func (g *gpt2) freeCache() {
	for _, t := range g.past {
		t.Close()
	}
	g.past, g.pastLen = nil, 0
	g.logits.Close()
	g.logits = nil
}

// Reset empties the cache: one [1, heads, 0, headDim] tensor per key and value.
func (g *gpt2) Reset() error {
	g.freeCache()
	g.past = make([]*ort.Tensor, 2*g.layers)
	for i := range g.past {
		t, err := ort.NewFloat32([]int64{1, int64(g.heads), 0, int64(g.headDim)}, nil)
		if err != nil {
			return err
		}
		g.past[i] = t
	}
	return nil
}

// Step runs ids after the cached positions, replaces the cache by the
// presents, keeps the last position's logits and returns their argmax.
func (g *gpt2) Step(ids []int64) (int64, error) {
	if g.past == nil {
		return 0, errors.New("gpt2: Step before Reset")
	}
	n := int64(len(ids))
	total := int64(g.pastLen) + n
	mask := make([]int64, total)
	pos := make([]int64, n)
	for i := range mask {
		mask[i] = 1
	}
	for i := range pos {
		pos[i] = int64(g.pastLen) + int64(i)
	}
	var in [3]*ort.Tensor
	out := make([]*ort.Tensor, 1+2*g.layers)
	defer func() {
		for _, t := range in {
			t.Close()
		}
		for _, t := range out {
			t.Close() // nil for the presents moved into the cache
		}
	}()
	var err error
	if in[0], err = ort.NewInt64([]int64{1, n}, ids); err != nil {
		return 0, err
	}
	if in[1], err = ort.NewInt64([]int64{1, total}, mask); err != nil {
		return 0, err
	}
	if in[2], err = ort.NewInt64([]int64{1, n}, pos); err != nil {
		return 0, err
	}
	if out[0], err = ort.NewFloat32([]int64{1, n, int64(g.vocab)}, nil); err != nil {
		return 0, err
	}
	for i := 1; i < len(out); i++ {
		if out[i], err = ort.NewFloat32([]int64{1, int64(g.heads), total, int64(g.headDim)}, nil); err != nil {
			return 0, err
		}
	}
	if err := g.sess.Run(append(in[:], g.past...), out); err != nil {
		return 0, err
	}
	last := out[0].Float32s()[(n-1)*int64(g.vocab):]
	next := int64(llm.Argmax(last))
	for i := range g.past {
		g.past[i].Close()
		g.past[i], out[1+i] = out[1+i], nil
	}
	g.pastLen = int(total)
	g.logits.Close()
	if n == 1 {
		g.logits, out[0] = out[0], nil
		return next, nil
	}
	g.logits, err = ort.NewFloat32([]int64{int64(g.vocab)}, last)
	return next, err
}

// LastLogits copies the first n logits of the last step's last position.
func (g *gpt2) LastLogits(n int) ([]float32, error) {
	if g.logits == nil {
		return nil, errors.New("gpt2: no step yet")
	}
	return append([]float32(nil), g.logits.Float32s()[:n]...), nil
}
