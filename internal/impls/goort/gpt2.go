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
// modelDir/model.onnx (dynamic batch and sequence axes) whose KV cache is
// flat inputs and outputs: the present.* outputs of a step are fed back as
// the past_key_values.* inputs of the next, without copies. Close frees the
// session and the cache.
type gpt2 struct {
	sess                          *ort.Session
	layers, heads, headDim, vocab int

	past    []*ort.Tensor // key, value per layer, [batch, heads, pastLen, headDim]; nil after Reset
	batch   int
	pastLen int
	logits  *ort.Tensor // the logits [batch, seq, vocab] of the last step
	seq     int         // the last step's positions per row
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
	g.past, g.batch, g.pastLen = nil, 0, 0
	g.logits.Close()
	g.logits, g.seq = nil, 0
}

// Reset empties the cache; the first Step makes it, of its batch.
func (g *gpt2) Reset() error {
	g.freeCache()
	g.past = []*ort.Tensor{}
	return nil
}

// emptyPast is the cache of batch B and no positions: one
// [B, heads, 0, headDim] tensor per key and value.
func (g *gpt2) emptyPast(B int) error {
	g.past = make([]*ort.Tensor, 2*g.layers)
	for i := range g.past {
		t, err := ort.NewFloat32([]int64{int64(B), int64(g.heads), 0, int64(g.headDim)}, nil)
		if err != nil {
			return err
		}
		g.past[i] = t
	}
	g.batch = B
	return nil
}

// Step runs ids [B, n] after the cached positions (attention mask all
// ones, positions pastLen .. pastLen+n-1 in every row), replaces the cache
// by the presents, keeps the logits and returns each row's argmax of its
// last position. The inputs are written straight into C memory.
func (g *gpt2) Step(ids [][]int64) ([]int64, error) {
	if g.past == nil {
		return nil, errors.New("gpt2: Step before Reset")
	}
	B := len(ids)
	if B == 0 || len(ids[0]) == 0 {
		return nil, errors.New("gpt2: no input ids")
	}
	if g.pastLen == 0 && g.batch != B {
		if err := g.emptyPast(B); err != nil {
			return nil, err
		}
	}
	if B != g.batch {
		return nil, fmt.Errorf("gpt2: batch %d after a cache of batch %d", B, g.batch)
	}
	n := len(ids[0])
	total := g.pastLen + n
	var in [3]*ort.Tensor
	out := make([]*ort.Tensor, 1+2*g.layers)
	defer func() {
		for _, t := range in {
			t.Close()
		}
		for _, t := range out {
			t.Close() // nil for the tensors moved into g
		}
	}()
	var err error
	if in[0], err = ort.NewInt64([]int64{int64(B), int64(n)}, nil); err != nil {
		return nil, err
	}
	if in[1], err = ort.NewInt64([]int64{int64(B), int64(total)}, nil); err != nil {
		return nil, err
	}
	if in[2], err = ort.NewInt64([]int64{int64(B), int64(n)}, nil); err != nil {
		return nil, err
	}
	x, pos := in[0].Int64s(), in[2].Int64s()
	for b, row := range ids {
		if len(row) != n {
			return nil, fmt.Errorf("gpt2: row %d has %d ids, row 0 %d", b, len(row), n)
		}
		copy(x[b*n:], row)
		for i := range n {
			pos[b*n+i] = int64(g.pastLen + i)
		}
	}
	mask := in[1].Int64s()
	for i := range mask {
		mask[i] = 1
	}
	if out[0], err = ort.NewFloat32([]int64{int64(B), int64(n), int64(g.vocab)}, nil); err != nil {
		return nil, err
	}
	for i := 1; i < len(out); i++ {
		if out[i], err = ort.NewFloat32([]int64{int64(B), int64(g.heads), int64(total), int64(g.headDim)}, nil); err != nil {
			return nil, err
		}
	}
	if err := g.sess.Run(append(in[:], g.past...), out); err != nil {
		return nil, err
	}
	for i := range g.past {
		g.past[i].Close()
		g.past[i], out[1+i] = out[1+i], nil
	}
	g.pastLen = total
	g.logits.Close()
	g.logits, g.seq, out[0] = out[0], n, nil
	next := make([]int64, B)
	for b := range next {
		next[b] = int64(llm.Argmax(g.lastRow(b)))
	}
	return next, nil
}

// lastRow is row b's logits of the last position of the last step, a view
// of g.logits.
func (g *gpt2) lastRow(b int) []float32 {
	off := (b*g.seq + g.seq - 1) * g.vocab
	return g.logits.Float32s()[off : off+g.vocab]
}

// LastLogits copies the first n logits of row b's last position of the
// last step.
func (g *gpt2) LastLogits(b, n int) ([]float32, error) {
	if g.logits == nil {
		return nil, errors.New("gpt2: no step yet")
	}
	if b < 0 || b >= g.batch {
		return nil, fmt.Errorf("gpt2: row %d of a batch of %d", b, g.batch)
	}
	return append([]float32(nil), g.lastRow(b)[:n]...), nil
}
