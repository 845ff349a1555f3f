package models

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mlbench/mlbench/torch"
)

// readConfig decodes dir/config.json into cfg.
func readConfig(dir string, cfg any) error {
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, cfg); err != nil {
		return fmt.Errorf("%s/config.json: %w", dir, err)
	}
	return nil
}

// weights is a checkpoint's tensors by name, on the model's device. take
// moves a tensor out (the model then owns it); what is left is closed by
// close.
type weights struct {
	path string
	m    map[string]*torch.Tensor
	err  error // the first missing or misshapen tensor
}

// loadWeights reads dir/model.safetensors and moves every tensor to dev.
func loadWeights(dir string, dev torch.Device) (*weights, error) {
	path := filepath.Join(dir, "model.safetensors")
	m, err := torch.LoadSafetensors(path)
	if err != nil {
		return nil, err
	}
	if dev != torch.CPU {
		for k, t := range m {
			d, err := t.To(dev)
			if err != nil {
				torch.CloseAll(m)
				return nil, fmt.Errorf("%s: %s to %v: %w", path, k, dev, err)
			}
			t.Close()
			m[k] = d
		}
	}
	return &weights{path: path, m: m}, nil
}

// take removes the tensor name, checks that it is float32 of the given
// shape, and returns it (nil after the first error, which err keeps).
func (w *weights) take(name string, shape ...int64) *torch.Tensor {
	if w.err != nil {
		return nil
	}
	t, ok := w.m[name]
	if !ok {
		w.err = fmt.Errorf("%s: no tensor %q", w.path, name)
		return nil
	}
	i, err := t.Info()
	if err != nil {
		w.err = err
		return nil
	}
	if i.DType != torch.Float32 || !sameShape(i.Shape, shape) {
		w.err = fmt.Errorf("%s: %s is %v %v, want float32 %v", w.path, name, i.DType, i.Shape, shape)
		return nil
	}
	delete(w.m, name)
	return t
}

// close frees the tensors nobody took.
func (w *weights) close() { torch.CloseAll(w.m) }

func sameShape(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// closeAll closes every tensor in ts (nil entries are fine).
func closeAll(ts ...*torch.Tensor) {
	for _, t := range ts {
		t.Close()
	}
}

// forward runs f with autograd off and a fresh scope, returning the scope's
// error; f releases (Scope.Release) whatever must outlive the call.
func forward(f func(s *torch.Scope)) (err error) {
	torch.NoGrad(func() {
		s := torch.NewScope()
		defer s.Close()
		f(s)
		err = s.Err()
	})
	return err
}
