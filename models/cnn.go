package models

import (
	"fmt"
	"slices"

	"github.com/mlbench/mlbench/torch"
)

// CNNParams are the parameters of the seed CNN of dl/cnn (DESIGN.md;
// reference/python/cnn.py's Net): PyTorch names and shapes, in the order
// Net.parameters() gives them to Adam.
var CNNParams = []struct {
	Name  string
	Shape []int64
}{
	{"conv1.weight", []int64{32, 3, 3, 3}}, {"conv1.bias", []int64{32}},
	{"conv2.weight", []int64{64, 32, 3, 3}}, {"conv2.bias", []int64{64}},
	{"fc1.weight", []int64{512, 4096}}, {"fc1.bias", []int64{512}},
	{"fc2.weight", []int64{10, 512}}, {"fc2.bias", []int64{10}},
}

// CNN is the seed CNN for training: Conv2d(3,32,3,pad 1)-ReLU-MaxPool2-
// Conv2d(32,64,3,pad 1)-ReLU-MaxPool2-Flatten-Linear(4096,512)-ReLU-
// Linear(512,10). Params are its trainable leaves, in CNNParams order;
// Close frees them.
type CNN struct{ Params []*torch.Tensor }

// NewCNN makes the model's parameters on dev from the initial weights:
// fresh leaf copies that require grad (the weights stay as they are).
func NewCNN(init map[string]*torch.Tensor, dev torch.Device) (*CNN, error) {
	n := &CNN{}
	for _, p := range CNNParams {
		t, err := leafCopy(init[p.Name], dev)
		if err != nil {
			n.Close()
			return nil, fmt.Errorf("cnn %s: %w", p.Name, err)
		}
		n.Params = append(n.Params, t)
	}
	return n, nil
}

func leafCopy(w *torch.Tensor, dev torch.Device) (*torch.Tensor, error) {
	on, err := w.To(dev)
	if err != nil {
		return nil, err
	}
	t, err := on.Clone() // on the CPU, To is the same tensor: the weights must stay as read
	on.Close()
	if err == nil {
		err = t.SetRequiresGrad(true)
	}
	if err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// Forward is Net.forward of cnn.py, giving the logits [N,10] of images
// [N,3,32,32]. Each intermediate handle is closed as soon as the next op has
// used it, as Python's reference counting frees it (autograd keeps what
// backward needs), so the memory held at once is the same; the Scope keeps
// the result.
func (n *CNN) Forward(s *torch.Scope, x *torch.Tensor) *torch.Tensor {
	p, h := n.Params, x
	then := func(next *torch.Tensor) {
		if h != x {
			h.Close()
		}
		h = next
	}
	then(s.Conv2d(h, p[0], p[1], 1, 1))
	then(s.ReLU(h))
	then(s.MaxPool2d(h, 2, 0))
	then(s.Conv2d(h, p[2], p[3], 1, 1))
	then(s.ReLU(h))
	then(s.MaxPool2d(h, 2, 0))
	then(s.Flatten(h))
	then(s.Linear(h, p[4], p[5]))
	then(s.ReLU(h))
	then(s.Linear(h, p[6], p[7]))
	return h
}

// Close frees the parameters; it may be called more than once.
func (n *CNN) Close() error {
	for _, t := range n.Params {
		t.Close()
	}
	n.Params = nil
	return nil
}

// CheckCNNInit requires exactly the model's names, shapes and float32, as
// cnn.py's load_state_dict(strict=True); path names the file in errors.
func CheckCNNInit(path string, init map[string]*torch.Tensor) error {
	if len(init) != len(CNNParams) {
		return fmt.Errorf("%s: %d tensors, want the %d of the model", path, len(init), len(CNNParams))
	}
	for _, p := range CNNParams {
		t, ok := init[p.Name]
		if !ok {
			return fmt.Errorf("%s: missing %s", path, p.Name)
		}
		i, err := t.Info()
		if err != nil {
			return err
		}
		if !slices.Equal(i.Shape, p.Shape) || i.DType != torch.Float32 {
			return fmt.Errorf("%s: %s is %v %v, want %v float32", path, p.Name, i.DType, i.Shape, p.Shape)
		}
	}
	return nil
}
