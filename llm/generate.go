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
// KV cache, as a backend runs it (batch 1).
type CausalLM interface {
	// Reset starts a new sequence: the cache is emptied.
	Reset() error
	// Step feeds ids after the cached positions, appends them to the cache,
	// and returns the greedy next id: the argmax of the last position's
	// logits, ties to the lowest id. It returns once that id is on the host.
	Step(ids []int64) (int64, error)
	// LastLogits is the first n logits of the last position of the last Step.
	LastLogits(n int) ([]float32, error)
	// VocabSize is the number of logits per position.
	VocabSize() int
	Close() error
}

// Generation is the outcome of one prompt.
type Generation struct {
	Tokens   []int64     // the generated ids
	TTFT     float64     // seconds from the start of the prompt call to the first id
	PerToken []float64   // seconds per later token, from feeding the previous one to the next id
	Logits   [][]float32 // the first ProbeSteps positions' logits, ids 0..ProbeVocab-1
}

// Generate is greedy generation of exactly newTokens ids after prompt
// (end-of-text does not stop it, docs/LLM.md). Each step's clock covers the
// model's Step, from feeding the ids to the next id on the host; copying the
// probe logits happens after the clock is read. sync, when not nil, is
// called before each clock starts (a device synchronisation, so that no
// earlier asynchronous work is counted).
func Generate(m CausalLM, prompt []int64, newTokens int, sync func() error) (*Generation, error) {
	if len(prompt) == 0 {
		return nil, errors.New("gpt2: empty prompt")
	}
	if newTokens <= 0 {
		return nil, fmt.Errorf("gpt2: new_tokens %d: want >= 1", newTokens)
	}
	if err := m.Reset(); err != nil {
		return nil, err
	}
	gen := &Generation{Tokens: make([]int64, 0, newTokens)}
	feed := prompt
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
		if step == 0 {
			gen.TTFT = d
		} else {
			gen.PerToken = append(gen.PerToken, d)
		}
		if step < ProbeSteps {
			row, err := m.LastLogits(min(ProbeVocab, m.VocabSize()))
			if err != nil {
				return nil, fmt.Errorf("gpt2 step %d: logits: %w", step, err)
			}
			gen.Logits = append(gen.Logits, row)
		}
		gen.Tokens = append(gen.Tokens, next)
		feed = []int64{next}
	}
	return gen, nil
}
