//go:build libtorch

package models_test

import (
	"encoding/json"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/mlbench/mlbench/models"
	"github.com/mlbench/mlbench/safetensors"
	"github.com/mlbench/mlbench/torch"
)

// GPT-2 greedy generation with a KV cache from a Hugging Face style
// checkpoint folder (config.json + model.safetensors, e.g. what `mlbench
// models prepare` or transformers' save_pretrained writes). The example makes
// a tiny random checkpoint first, so that it runs anywhere.
func ExampleLoadGPT2() {
	dir, err := os.MkdirTemp("", "gpt2")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	const vocab = 64
	if err := writeTinyGPT2(dir, vocab); err != nil {
		log.Fatal(err)
	}

	dev := torch.CPU
	if torch.CUDAAvailable() {
		dev = torch.CUDA
	}
	m, err := models.LoadGPT2(dir, dev)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	cache := m.NewCache()
	defer cache.Close()

	ids := []int64{5, 17, 42} // a prompt's token ids
	var out []int64
	for len(out) < 8 {
		next, logits, err := m.Step(ids, cache) // runs ids after the cached positions
		if err != nil {
			log.Fatal(err)
		}
		logits.Close()
		out = append(out, next)
		ids = []int64{next} // the next step runs only the new token
	}
	inVocab := true
	for _, id := range out {
		inVocab = inVocab && id >= 0 && id < vocab
	}
	fmt.Println(len(out), "new tokens, all in the vocabulary:", inVocab, "; cached positions:", cache.Len())
	// Output: 8 new tokens, all in the vocabulary: true ; cached positions: 10
}

// writeTinyGPT2 writes a 2-layer GPT-2 with random weights (transformers'
// parameter names and Conv1D layouts) to dir.
func writeTinyGPT2(dir string, vocab int64) error {
	const E, P, L, H = 16, 32, 2, 2
	cfg := map[string]any{"vocab_size": vocab, "n_positions": P, "n_embd": E, "n_layer": L, "n_head": H,
		"layer_norm_epsilon": 1e-5, "activation_function": "gelu_new"}
	b, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var ts []safetensors.Tensor
	add := func(name string, scale float64, shape ...int64) {
		n := int64(1)
		for _, d := range shape {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * scale)
			if scale == 0 { // a LayerNorm weight
				v[i] = 1
			}
		}
		ts = append(ts, safetensors.Tensor{Name: name, DType: safetensors.F32, Shape: shape,
			Data: func() ([]byte, error) { return safetensors.EncodeFloat32s(v), nil }})
	}
	add("transformer.wte.weight", 0.1, vocab, E)
	add("transformer.wpe.weight", 0.01, P, E)
	add("transformer.ln_f.weight", 0, E)
	add("transformer.ln_f.bias", 0.01, E)
	for i := range L {
		p := fmt.Sprintf("transformer.h.%d.", i)
		add(p+"ln_1.weight", 0, E)
		add(p+"ln_1.bias", 0.01, E)
		add(p+"attn.c_attn.weight", 0.1, E, 3*E)
		add(p+"attn.c_attn.bias", 0.01, 3*E)
		add(p+"attn.c_proj.weight", 0.1, E, E)
		add(p+"attn.c_proj.bias", 0.01, E)
		add(p+"ln_2.weight", 0, E)
		add(p+"ln_2.bias", 0.01, E)
		add(p+"mlp.c_fc.weight", 0.1, E, 4*E)
		add(p+"mlp.c_fc.bias", 0.01, 4*E)
		add(p+"mlp.c_proj.weight", 0.1, 4*E, E)
		add(p+"mlp.c_proj.bias", 0.01, E)
	}
	f, err := os.Create(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		return err
	}
	if err := safetensors.Write(f, ts, map[string]string{"format": "pt"}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
