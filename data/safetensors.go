package data

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/mlbench/mlbench/safetensors"
)

// Tensor is one float32 tensor of a safetensors file.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// WriteSafetensors writes F32 tensors in the safetensors format (package
// safetensors: names sorted, header padded to 8 bytes, optional metadata).
func WriteSafetensors(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	ts := make([]safetensors.Tensor, len(tensors))
	for i, t := range tensors {
		shape := make([]int64, len(t.Shape))
		n := 1
		for j, d := range t.Shape {
			shape[j] = int64(d)
			n *= d
		}
		if n != len(t.Data) {
			return fmt.Errorf("safetensors: %s: shape %v holds %d elements, got %d", t.Name, t.Shape, n, len(t.Data))
		}
		data := t.Data
		ts[i] = safetensors.Tensor{Name: t.Name, DType: safetensors.F32, Shape: shape,
			Data: func() ([]byte, error) { return safetensors.EncodeFloat32s(data), nil }}
	}
	return safetensors.Write(w, ts, metadata)
}

// ReadSafetensors reads a safetensors file of F32 tensors; it returns them
// sorted by name, and the metadata.
func ReadSafetensors(path string) ([]Tensor, map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	ts, md, err := parseSafetensors(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", path, err)
	}
	return ts, md, nil
}

func parseSafetensors(b []byte) ([]Tensor, map[string]string, error) {
	r := bytes.NewReader(b)
	h, err := safetensors.ReadHeader(r, int64(len(b)))
	if err != nil {
		return nil, nil, err
	}
	ts := make([]Tensor, 0, len(h.Tensors))
	for _, info := range h.Tensors {
		if info.DType != safetensors.F32 {
			return nil, nil, fmt.Errorf("safetensors %s: dtype %s, only F32 is supported", info.Name, info.DType)
		}
		buf := make([]byte, info.NBytes())
		if err := h.ReadData(r, info, buf); err != nil {
			return nil, nil, err
		}
		shape := make([]int, len(info.Shape))
		for i, d := range info.Shape {
			shape[i] = int(d)
		}
		ts = append(ts, Tensor{Name: info.Name, Shape: shape, Data: safetensors.DecodeFloat32s(buf)})
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	return ts, h.Metadata, nil
}
