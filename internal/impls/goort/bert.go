package goort

import (
	"path/filepath"

	"github.com/mlbench/mlbench/llm"
	"github.com/mlbench/mlbench/ort"
)

// BERT-QA's ONNX inputs and outputs (docs/LLM.md).
var (
	bertInputs  = []string{"input_ids", "attention_mask", "token_type_ids"}
	bertOutputs = []string{"start_logits", "end_logits"}
)

// bertQA is an llm.QAModel on an ONNX Runtime session of
// modelDir/model.onnx. Close frees the session.
type bertQA struct{ sess *ort.Session }

func newBertQA(modelDir string, opts ort.SessionOptions) (*bertQA, error) {
	s, err := ort.NewSession(filepath.Join(modelDir, "model.onnx"), bertInputs, bertOutputs, opts)
	if err != nil {
		return nil, err
	}
	return &bertQA{sess: s}, nil
}

func (b *bertQA) Close() error { return b.sess.Close() }

// Logits runs one window (batch 1) and returns its start and end logits.
func (b *bertQA) Logits(w llm.Window) (start, end []float32, err error) {
	n := int64(len(w.IDs))
	shape := []int64{1, n}
	ones := make([]int64, n)
	for i := range ones {
		ones[i] = 1
	}
	var ts [5]*ort.Tensor
	defer func() {
		for _, t := range ts {
			t.Close()
		}
	}()
	if ts[0], err = ort.NewInt64(shape, w.IDs); err != nil {
		return nil, nil, err
	}
	if ts[1], err = ort.NewInt64(shape, ones); err != nil {
		return nil, nil, err
	}
	if ts[2], err = ort.NewInt64(shape, w.TypeIDs); err != nil {
		return nil, nil, err
	}
	if ts[3], err = ort.NewFloat32(shape, nil); err != nil {
		return nil, nil, err
	}
	if ts[4], err = ort.NewFloat32(shape, nil); err != nil {
		return nil, nil, err
	}
	if err := b.sess.Run(ts[:3], ts[3:]); err != nil {
		return nil, nil, err
	}
	return append([]float32(nil), ts[3].Float32s()...), append([]float32(nil), ts[4].Float32s()...), nil
}
