package llm

import "fmt"

// Tokenizer is what the workloads need of a tokenizer (tokenize.Tokenizer
// is one): ids and, for each id, its byte range in text.
type Tokenizer interface {
	Encode(text string, addSpecial bool) (ids []int64, offsets [][2]int, err error)
	Close() error
}

// QAModel is an extractive question-answering model as a backend runs it:
// the start and end logits of one window (batch 1).
type QAModel interface {
	Logits(w Window) (start, end []float32, err error)
	Close() error
}

// QAParams are the windowing and answer parameters of docs/LLM.md.
type QAParams struct {
	MaxLength, Stride, NBest, MaxAnswerLength int
}

// DefaultQAParams are docs/LLM.md's defaults.
var DefaultQAParams = QAParams{MaxLength: 384, Stride: 128, NBest: 20, MaxAnswerLength: 30}

// Timer runs fn as the phase of a request and records its duration when
// timed (worker.Context.Time is one).
type Timer func(timed bool, phase string, fn func() error) error

// QAOutcome is what one llm/bert-qa request gave: the logits of each
// window and the answer.
type QAOutcome struct {
	Start, End [][]float32
	Answer     Answer
	Windows    int
}

// Ask answers one question in the three phases of docs/LLM.md, each timed
// by time: "tokenize" (the question and the context encoded apart, without
// special tokens, and cut into windows), "model" (every window) and
// "postprocess" (the best span, or no answer).
func Ask(tok Tokenizer, m QAModel, p QAParams, time Timer, timed bool, question, context string) (*QAOutcome, error) {
	var ws []Window
	var offs [][2]int
	if err := time(timed, "tokenize", func() error {
		q, _, err := tok.Encode(question, false)
		if err != nil {
			return err
		}
		c, o, err := tok.Encode(context, false)
		if err != nil {
			return err
		}
		offs = o
		ws, err = Windows(q, c, p.MaxLength, p.Stride)
		return err
	}); err != nil {
		return nil, err
	}
	o := &QAOutcome{Start: make([][]float32, len(ws)), End: make([][]float32, len(ws)), Windows: len(ws)}
	if err := time(timed, "model", func() (err error) {
		for i, w := range ws {
			if o.Start[i], o.End[i], err = m.Logits(w); err != nil {
				return fmt.Errorf("window %d: %w", i, err)
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := time(timed, "postprocess", func() (err error) {
		o.Answer, err = Postprocess(ws, o.Start, o.End, context, offs, p.NBest, p.MaxAnswerLength)
		return err
	}); err != nil {
		return nil, err
	}
	return o, nil
}
