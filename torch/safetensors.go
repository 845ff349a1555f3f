package torch

import (
	"bufio"
	"fmt"
	"os"

	"github.com/mlbench/mlbench/safetensors"
)

// Safetensors files (https://github.com/huggingface/safetensors) are read
// and written by package safetensors, the one codec of this module; this
// file moves their bytes in and out of libtorch with one copy each way.

func stDType(name safetensors.DType) (DType, bool) {
	for d, i := range dtypeInfo {
		if i.st == string(name) {
			return d, true
		}
	}
	return 0, false
}

// LoadSafetensors reads every tensor of a safetensors file onto the CPU.
// The caller owns the returned tensors (close each, or use CloseAll). Dtypes:
// F32, F64, F16, BF16, I64, I32, I16, I8, U8, BOOL. On error nothing is
// returned and nothing leaks. The file is read tensor by tensor through one
// buffer the size of the largest tensor, so loading needs the tensors'
// memory plus that buffer, not a second copy of the whole file.
func LoadSafetensors(path string) (map[string]*Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	h, err := safetensors.ReadHeader(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("torch: %s: %w", path, err)
	}
	var largest int64
	for _, t := range h.Tensors {
		if _, ok := stDType(t.DType); !ok {
			return nil, fmt.Errorf("torch: %s: tensor %q: unsupported dtype %q", path, t.Name, t.DType)
		}
		largest = max(largest, t.NBytes())
	}
	buf := make([]byte, largest)
	out := make(map[string]*Tensor, len(h.Tensors))
	for _, info := range h.Tensors { // in file order: one sequential pass
		b := buf[:info.NBytes()]
		if err := h.ReadData(f, info, b); err != nil {
			CloseAll(out)
			return nil, fmt.Errorf("torch: %s: %w", path, err)
		}
		dt, _ := stDType(info.DType)
		t, err := FromBytes(b, dt, info.Shape)
		if err != nil {
			CloseAll(out)
			return nil, err
		}
		out[info.Name] = t
	}
	return out, nil
}

// SaveSafetensors writes tensors (from any device; not closed, not modified)
// to path in the safetensors format, names in sorted order, with no metadata.
// The file is written to path+".tmp" and renamed into place, so path is
// never left half-written.
func SaveSafetensors(path string, tensors map[string]*Tensor) error {
	ts := make([]safetensors.Tensor, 0, len(tensors))
	for name, t := range tensors {
		i, err := t.Info()
		if err != nil {
			return fmt.Errorf("torch: safetensors: tensor %q: %w", name, err)
		}
		st := dtypeInfo[i.DType].st
		if st == "" {
			return fmt.Errorf("torch: safetensors: tensor %q: unsupported dtype %v", name, i.DType)
		}
		ts = append(ts, safetensors.Tensor{Name: name, DType: safetensors.DType(st), Shape: i.Shape, Data: t.Bytes})
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = safetensors.Write(w, ts, nil)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Close()
	} else {
		f.Close()
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("torch: %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

// CloseAll closes every tensor of m (e.g. LoadSafetensors' result).
func CloseAll(m map[string]*Tensor) {
	for _, t := range m {
		t.Close()
	}
}
