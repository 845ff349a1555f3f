package ort

import (
	"fmt"
	"path/filepath"

	"github.com/mlbench/mlbench/tokenize"
)

// BertQA is the go-ort llm/bert-qa pipeline over a model directory of
// docs/LLM.md (model.onnx; the tokenizer is given separately). Close frees
// the session and the tokenizer.
type BertQA struct {
	Sess *Session
	Tok  *tokenize.Tokenizer

	MaxLength, Stride, NBest, MaxAnswerLength int
}

// BertQA's ONNX inputs and outputs.
var (
	BertInputs  = []string{"input_ids", "attention_mask", "token_type_ids"}
	BertOutputs = []string{"start_logits", "end_logits"}
)

// NewBertQA loads modelDir/model.onnx and the tokenizer, with the defaults
// of docs/LLM.md (max_length 384, stride 128, n_best 20, max answer 30).
func NewBertQA(modelDir, tokenizerPath string, opts SessionOptions) (*BertQA, error) {
	tok, err := tokenize.Load(tokenizerPath)
	if err != nil {
		return nil, err
	}
	s, err := NewSession(filepath.Join(modelDir, "model.onnx"), BertInputs, BertOutputs, opts)
	if err != nil {
		tok.Close()
		return nil, err
	}
	return &BertQA{Sess: s, Tok: tok, MaxLength: 384, Stride: 128, NBest: 20, MaxAnswerLength: 30}, nil
}

// Close frees the session and the tokenizer; it may be called more than once.
func (b *BertQA) Close() error {
	err := b.Sess.Close()
	b.Tok.Close()
	return err
}

// Encoded is a question ready for the model.
type Encoded struct {
	Context string
	Offsets [][2]int // byte ranges of the context tokens in Context
	Windows []Window
}

// Tokenize encodes the question and the context separately, without
// special tokens, and cuts the windows (the "tokenize" phase).
func (b *BertQA) Tokenize(question, context string) (*Encoded, error) {
	q, _, err := b.Tok.Encode(question, false)
	if err != nil {
		return nil, err
	}
	c, offs, err := b.Tok.Encode(context, false)
	if err != nil {
		return nil, err
	}
	ws, err := Windows(q, c, b.MaxLength, b.Stride)
	if err != nil {
		return nil, err
	}
	return &Encoded{Context: context, Offsets: offs, Windows: ws}, nil
}

// Logits runs one window (batch 1) and returns its start and end logits.
func (b *BertQA) Logits(w Window) (start, end []float32, err error) {
	n := int64(len(w.IDs))
	shape := []int64{1, n}
	ones := make([]int64, n)
	for i := range ones {
		ones[i] = 1
	}
	var ts [5]*Tensor
	defer func() {
		for _, t := range ts {
			t.Close()
		}
	}()
	if ts[0], err = NewInt64(shape, w.IDs); err != nil {
		return nil, nil, err
	}
	if ts[1], err = NewInt64(shape, ones); err != nil {
		return nil, nil, err
	}
	if ts[2], err = NewInt64(shape, w.TypeIDs); err != nil {
		return nil, nil, err
	}
	if ts[3], err = NewFloat32(shape, nil); err != nil {
		return nil, nil, err
	}
	if ts[4], err = NewFloat32(shape, nil); err != nil {
		return nil, nil, err
	}
	if err := b.Sess.Run(ts[:3], ts[3:]); err != nil {
		return nil, nil, err
	}
	return append([]float32(nil), ts[3].Float32s()...), append([]float32(nil), ts[4].Float32s()...), nil
}

// Model runs every window of e (the "model" phase).
func (b *BertQA) Model(e *Encoded) (start, end [][]float32, err error) {
	start, end = make([][]float32, len(e.Windows)), make([][]float32, len(e.Windows))
	for i, w := range e.Windows {
		if start[i], end[i], err = b.Logits(w); err != nil {
			return nil, nil, fmt.Errorf("window %d: %w", i, err)
		}
	}
	return start, end, nil
}

// Postprocess picks the answer (the "postprocess" phase).
func (b *BertQA) Postprocess(e *Encoded, start, end [][]float32) (Answer, error) {
	return Postprocess(e.Windows, start, end, e.Context, e.Offsets, b.NBest, b.MaxAnswerLength)
}
