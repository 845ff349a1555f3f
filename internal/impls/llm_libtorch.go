//go:build libtorch && tokenizers

package impls

import (
	"errors"
	"fmt"
	"time"

	"github.com/mlbench/mlbench/bench/worker"
	"github.com/mlbench/mlbench/models"
	"github.com/mlbench/mlbench/ort"
	"github.com/mlbench/mlbench/tokenize"
	"github.com/mlbench/mlbench/torch"
)

// go-libtorch for llm/bert-qa and llm/gpt2 (docs/LLM.md): the forward
// passes of package models on libtorch, the same workload as go-ort — the
// windows, post-processing, SQuAD metrics and argmax are ort's pure-Go
// functions — and the same phases, metrics and probes.

var llmTorchInfo = worker.Info{Impl: "go-libtorch", Framework: "libtorch", FrameworkVersion: torch.Version(),
	Available: llmTorchAvailable}

func init() {
	worker.Register("llm/bert-qa", llmTorchInfo, runBertQATorch)
	worker.Register("llm/gpt2", llmTorchInfo, runGPT2Torch)
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
// float32, batch 1, no gradients, sdpa attention).
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
			"attn_implementation=\"sdpa\"), torch.NoGrad, float32, batch 1, at::set_num_threads(%d), device %s",
		torch.Version(), torch.NumThreads(), dev))
	if dev.IsCUDA() {
		c.Result.Notes = append(c.Result.Notes, "CUDA: torch.Synchronize before every clock read")
		return dev, torch.AddCUDAMath(c.Result.Params)
	}
	return dev, nil
}

// llmTorchTime is c.Time with the device synchronised before the clock
// starts and before it is read (a no-op on the CPU).
func llmTorchTime(c *worker.Context, dev torch.Device, timed bool, phase string, fn func() error) error {
	if err := torch.Synchronize(dev); err != nil {
		return err
	}
	return c.Time(timed, phase, func() error {
		if err := fn(); err != nil {
			return err
		}
		return torch.Synchronize(dev)
	})
}

// runBertQATorch is llm/bert-qa (docs/LLM.md) on libtorch.
func runBertQATorch(c *worker.Context) error {
	sp, err := readQASpec(c)
	if err != nil {
		return err
	}
	dev, err := llmTorchStart(c)
	if err != nil {
		return err
	}

	var tok *tokenize.Tokenizer
	var m *models.BertQA
	if err := llmTorchTime(c, dev, true, "load", func() (err error) {
		if tok, err = tokenize.Load(sp.tokenizer); err != nil {
			return err
		}
		m, err = models.LoadBertQA(sp.modelDir, dev)
		return err
	}); err != nil {
		tok.Close()
		return err
	}
	defer tok.Close()
	defer m.Close()

	request := func(q squadQuestion, timed bool) (*qaOutcome, error) {
		var ws []ort.Window
		var offs [][2]int
		if err := llmTorchTime(c, dev, timed, "tokenize", func() error {
			qids, _, err := tok.Encode(q.question, false)
			if err != nil {
				return err
			}
			cids, o, err := tok.Encode(q.context, false)
			if err != nil {
				return err
			}
			offs = o
			ws, err = ort.Windows(qids, cids, sp.maxLength, sp.stride)
			return err
		}); err != nil {
			return nil, err
		}
		o := qaOutcome{start: make([][]float32, len(ws)), end: make([][]float32, len(ws)), windows: len(ws)}
		if err := llmTorchTime(c, dev, timed, "model", func() (err error) {
			for i, w := range ws {
				if o.start[i], o.end[i], err = m.Logits(w.IDs, w.TypeIDs); err != nil {
					return fmt.Errorf("window %d: %w", i, err)
				}
			}
			return nil
		}); err != nil {
			return nil, err
		}
		if err := llmTorchTime(c, dev, timed, "postprocess", func() error {
			a, err := ort.Postprocess(ws, o.start, o.end, q.context, offs, sp.nBest, sp.maxAnswerLength)
			o.answer = a.Text
			return err
		}); err != nil {
			return nil, err
		}
		return &o, nil
	}

	return runQARequests(c, sp.questions, request)
}

// runGPT2Torch is llm/gpt2 (docs/LLM.md) on libtorch.
func runGPT2Torch(c *worker.Context) error {
	sp, err := readGenSpec(c)
	if err != nil {
		return err
	}
	dev, err := llmTorchStart(c)
	if err != nil {
		return err
	}

	var tok *tokenize.Tokenizer
	var m *models.GPT2
	if err := llmTorchTime(c, dev, true, "load", func() (err error) {
		if tok, err = tokenize.Load(sp.tokenizer); err != nil {
			return err
		}
		m, err = models.LoadGPT2(sp.modelDir, dev)
		return err
	}); err != nil {
		tok.Close()
		return err
	}
	defer tok.Close()
	defer m.Close()

	request := func(prompt string, timed bool) (*ort.Generation, error) {
		var ids []int64
		if err := llmTorchTime(c, dev, timed, "tokenize", func() (err error) {
			ids, _, err = tok.Encode(prompt, false)
			return err
		}); err != nil {
			return nil, err
		}
		gen, err := llmTorchGenerate(m, dev, ids, sp.newTokens)
		if err != nil {
			return nil, err
		}
		if timed {
			c.Add("ttft", gen.TTFT)
			for _, d := range gen.PerToken {
				c.Add("per_token", d)
			}
		}
		return gen, nil
	}
	return runGenRequests(c, sp.prompts, request)
}

// llmTorchGenerate is greedy generation of exactly newTokens ids after
// prompt with the KV cache (docs/LLM.md): each step's clock covers the
// input tensor, the forward pass and the argmax (ties: lowest id) up to the
// next id on the host; the probe logits are copied after the clock is read.
func llmTorchGenerate(m *models.GPT2, dev torch.Device, prompt []int64, newTokens int) (*ort.Generation, error) {
	if len(prompt) == 0 {
		return nil, errors.New("gpt2: empty prompt")
	}
	cache := m.NewCache()
	defer cache.Close()
	gen := &ort.Generation{Tokens: make([]int64, 0, newTokens)}
	feed := prompt
	for step := 0; step < newTokens; step++ {
		if err := torch.Synchronize(dev); err != nil {
			return nil, err
		}
		t0 := time.Now()
		next, last, err := m.Step(feed, cache)
		if err == nil {
			err = torch.Synchronize(dev)
		}
		d := time.Since(t0).Seconds()
		if err != nil {
			last.Close()
			return nil, fmt.Errorf("gpt2 step %d: %w", step, err)
		}
		if step == 0 {
			gen.TTFT = d
		} else {
			gen.PerToken = append(gen.PerToken, d)
		}
		if step < ort.ProbeSteps {
			row, err := llmTorchProbe(last, min(ort.ProbeVocab, m.Config.VocabSize))
			if err != nil {
				last.Close()
				return nil, err
			}
			gen.Logits = append(gen.Logits, row)
		}
		last.Close()
		gen.Tokens = append(gen.Tokens, next)
		feed = []int64{next}
	}
	return gen, nil
}

// llmTorchProbe copies the first n values of logits [vocab] to the host.
func llmTorchProbe(logits *torch.Tensor, n int) ([]float32, error) {
	head, err := torch.Narrow(logits, 0, 0, int64(n))
	if err != nil {
		return nil, err
	}
	defer head.Close()
	return head.Float32s()
}
