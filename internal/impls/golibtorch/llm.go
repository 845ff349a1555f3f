//go:build libtorch && tokenizers

package golibtorch

import (
	"errors"
	"fmt"

	"github.com/mlbench/mlbench/bench/worker"
	"github.com/mlbench/mlbench/llm"
	"github.com/mlbench/mlbench/models"
	"github.com/mlbench/mlbench/tokenize"
	"github.com/mlbench/mlbench/torch"
)

// go-libtorch for llm/bert-qa and llm/gpt2 (docs/LLM.md): the forward
// passes of package models on libtorch, adapted to package llm's QAModel and
// CausalLM, so that the workloads — windows, post-processing, SQuAD metrics,
// the generation loop, phases and probes — are the very ones go-ort runs.

var llmTorchInfo = worker.Info{Impl: "go-libtorch", Framework: "libtorch", FrameworkVersion: torch.Version(),
	Available: llmTorchAvailable}

func init() {
	worker.Register("llm/bert-qa", llmTorchInfo, runBertQA)
	worker.Register("llm/gpt2", llmTorchInfo, runGPT2)
}

func llmTorchAvailable() error {
	if err := torch.Available(); err != nil {
		return err
	}
	if !tokenize.Built() {
		return tokenize.ErrNotBuilt
	}
	return nil
}

// llmTorchStart sets libtorch's threads and the device of the spec and
// records them (as python-transformers: torch.set_num_threads(threads),
// float32, batch 1 (the gpt2 sweep: param batch), no gradients, sdpa
// attention).
func llmTorchStart(c *worker.Context) (torch.Device, error) {
	dev := torch.CPU
	if c.Spec.Device != "" {
		d, err := torch.ParseDevice(c.Spec.Device)
		if err != nil {
			return dev, err
		}
		dev = d
	}
	if dev.IsCUDA() && int(dev)-1 >= torch.CUDADeviceCount() {
		return dev, fmt.Errorf("device %s: libtorch sees %d CUDA devices", dev, torch.CUDADeviceCount())
	}
	if err := torch.SetNumThreads(c.Spec.Threads); err != nil {
		return dev, err
	}
	c.Result.FrameworkVersion = torch.Version()
	c.Result.Params["torch_num_threads"] = torch.NumThreads()
	c.Result.Params["attn_implementation"] = "sdpa"
	c.Result.Params["dtype"] = "float32"
	c.Result.Notes = append(c.Result.Notes, fmt.Sprintf(
		"libtorch %s through package torch (cgo, one call per op), forward passes of package models "+
			"(transformers' BERT / GPT-2 op by op, attention = at::scaled_dot_product_attention as "+
			"attn_implementation=\"sdpa\"), torch.NoGrad, float32, batch 1 (the gpt2 sweep: param batch), "+
			"at::set_num_threads(%d), device %s",
		torch.Version(), torch.NumThreads(), dev))
	c.Sync = func() error { return torch.Synchronize(dev) }
	if dev.IsCUDA() {
		c.Result.Notes = append(c.Result.Notes, "CUDA: torch.Synchronize before every clock read")
		return dev, torch.AddCUDAMath(c.Result.Params)
	}
	return dev, nil
}

// runBertQA is llm/bert-qa (docs/LLM.md) on libtorch.
func runBertQA(c *worker.Context) error {
	dev, err := llmTorchStart(c)
	if err != nil {
		return err
	}
	return llm.RunBertQA(c, tokenize.Load, func(sp *llm.QASpec) (llm.QAModel, error) {
		m, err := models.LoadBertQA(sp.ModelDir, dev)
		if err != nil {
			return nil, err
		}
		return bertQA{m}, nil
	})
}

// bertQA is models.BertQA as an llm.QAModel.
type bertQA struct{ *models.BertQA }

func (b bertQA) Logits(w llm.Window) (start, end []float32, err error) {
	return b.BertQA.Logits(w.IDs, w.TypeIDs)
}

// runGPT2 is llm/gpt2 (docs/LLM.md) on libtorch.
func runGPT2(c *worker.Context) error {
	dev, err := llmTorchStart(c)
	if err != nil {
		return err
	}
	c.Result.Notes = append(c.Result.Notes, "gpt2: KV cache buffers written in place (grown by doubling; "+
		"transformers and tch concatenate with torch.cat each step); tied LM head as a contiguous "+
		"wteᵀ [n_embd, vocab] (h @ wteᵀ, not F.linear(h, wte))")
	return llm.RunGPT2(c, tokenize.Load, func(sp *llm.GenSpec) (llm.CausalLM, error) {
		m, err := models.LoadGPT2(sp.ModelDir, dev)
		if err != nil {
			return nil, err
		}
		return &gpt2{m: m, dev: dev}, nil
	})
}

// gpt2 is models.GPT2 with its KV cache as an llm.CausalLM.
type gpt2 struct {
	m     *models.GPT2
	dev   torch.Device
	cache *models.Cache
	last  *torch.Tensor // the last positions' logits [B, vocab] of the last step
	batch int
}

func (g *gpt2) VocabSize() int { return g.m.Config.VocabSize }

func (g *gpt2) Reset() error {
	g.free()
	g.cache = g.m.NewCache()
	return nil
}

// Step runs the rows of ids through the model with the cache (of their
// batch); the next ids are on the host when it returns (StepBatch reads
// them), and the device is synchronised.
func (g *gpt2) Step(ids [][]int64) ([]int64, error) {
	if g.cache == nil {
		return nil, errors.New("gpt2: Step before Reset")
	}
	g.last.Close()
	next, last, err := g.m.StepBatch(ids, g.cache)
	g.last, g.batch = last, len(next)
	if err == nil {
		err = torch.Synchronize(g.dev)
	}
	return next, err
}

// LastLogits copies the first n logits of row b of the last step to the
// host.
func (g *gpt2) LastLogits(b, n int) ([]float32, error) {
	if g.last == nil {
		return nil, errors.New("gpt2: no step yet")
	}
	if b < 0 || b >= g.batch {
		return nil, fmt.Errorf("gpt2: row %d of a batch of %d", b, g.batch)
	}
	s := torch.NewScope()
	defer s.Close()
	head := s.Narrow(s.Narrow(g.last, 0, int64(b), 1), 1, 0, int64(n))
	if err := s.Err(); err != nil {
		return nil, err
	}
	return head.Float32s()
}

func (g *gpt2) free() {
	g.last.Close()
	g.last, g.batch = nil, 0
	if g.cache != nil {
		g.cache.Close()
		g.cache = nil
	}
}

// Close frees the cache and the model.
func (g *gpt2) Close() error {
	g.free()
	return g.m.Close()
}
