package llm

import (
	"errors"
	"fmt"
	"time"
)

// ProbeSteps is how many generated positions' logits Generate keeps
// (docs/LLM.md: gen_logits), and ProbeVocab how many vocabulary ids of each.
const (
	ProbeSteps = 5
	ProbeVocab = 256
)

// CausalLM is one greedy decoding step of a causal language model with a
// KV cache, as a backend runs it, for a batch of B sequences of equal
// length (no padding).
type CausalLM interface {
	// Reset starts new sequences: the cache is emptied (its batch is set by
	// the next Step).
	Reset() error
	// Step feeds ids, one row per sequence (B rows of equal length, B the
	// same as the cache's), after the cached positions, appends them to the
	// cache, and returns each row's greedy next id: the argmax of that
	// row's last-position logits, ties to the lowest id. It returns once
	// those ids are on the host; it does not keep ids.
	Step(ids [][]int64) ([]int64, error)
	// LastLogits is the first n logits of row b's last position of the last
	// Step.
	LastLogits(b, n int) ([]float32, error)
	// VocabSize is the number of logits per position.
	VocabSize() int
	Close() error
}

// Generation is the outcome of one batch of prompts.
type Generation struct {
	Tokens   [][]int64     // per row, the generated ids
	TTFT     float64       // seconds from the start of the prompt call to the first ids
	PerToken []float64     // seconds per later step, from feeding the previous ids to the next ones
	Logits   [][][]float32 // per row, the first ProbeSteps positions' logits, ids 0..ProbeVocab-1
}

// Generate is GenerateBatch of one prompt.
func Generate(m CausalLM, prompt []int64, newTokens int, sync func() error) (*Generation, error) {
	return GenerateBatch(m, [][]int64{prompt}, newTokens, sync)
}

// GenerateBatch is greedy generation of exactly newTokens ids after each of
// prompts, as one batch (end-of-text does not stop it, docs/LLM.md); the
// prompts must have the same length. Each step's clock covers the model's
// Step, from feeding the ids to all rows' next ids on the host; copying the
// probe logits happens after the clock is read. sync, when not nil, is
// called before each clock starts (a device synchronisation, so that no
// earlier asynchronous work is counted).
func GenerateBatch(m CausalLM, prompts [][]int64, newTokens int, sync func() error) (*Generation, error) {
	if len(prompts) == 0 {
		return nil, errors.New("gpt2: no prompts")
	}
	for b, p := range prompts {
		if len(p) == 0 {
			return nil, errors.New("gpt2: empty prompt")
		}
		if len(p) != len(prompts[0]) {
			return nil, fmt.Errorf("gpt2: prompt %d has %d ids, prompt 0 %d: a batch needs equal lengths", b, len(p), len(prompts[0]))
		}
	}
	if newTokens <= 0 {
		return nil, fmt.Errorf("gpt2: new_tokens %d: want >= 1", newTokens)
	}
	if err := m.Reset(); err != nil {
		return nil, err
	}
	B := len(prompts)
	gen := &Generation{Tokens: make([][]int64, B), Logits: make([][][]float32, B)}
	for b := range gen.Tokens {
		gen.Tokens[b] = make([]int64, 0, newTokens)
	}
	// The later steps feed the last ids as B rows of one id, views of last.
	last := make([]int64, B)
	fed := make([][]int64, B)
	for b := range fed {
		fed[b] = last[b : b+1 : b+1]
	}
	feed := prompts
	for step := 0; step < newTokens; step++ {
		if sync != nil {
			if err := sync(); err != nil {
				return nil, err
			}
		}
		t0 := time.Now()
		next, err := m.Step(feed)
		d := time.Since(t0).Seconds()
		if err != nil {
			return nil, fmt.Errorf("gpt2 step %d: %w", step, err)
		}
		if len(next) != B {
			return nil, fmt.Errorf("gpt2 step %d: %d next ids for a batch of %d", step, len(next), B)
		}
		if step == 0 {
			gen.TTFT = d
		} else {
			gen.PerToken = append(gen.PerToken, d)
		}
		if step < ProbeSteps {
			if err := probeLogits(m, gen); err != nil {
				return nil, fmt.Errorf("gpt2 step %d: logits: %w", step, err)
			}
		}
		for b, id := range next {
			gen.Tokens[b] = append(gen.Tokens[b], id)
		}
		copy(last, next)
		feed = fed
	}
	return gen, nil
}

// probeLogits appends each row's first ProbeVocab logits of the last step
// to gen.Logits.
func probeLogits(m CausalLM, gen *Generation) error {
	n := min(ProbeVocab, m.VocabSize())
	for b := range gen.Logits {
		row, err := m.LastLogits(b, n)
		if err != nil {
			return err
		}
		gen.Logits[b] = append(gen.Logits[b], row)
	}
	return nil
}
