package torch

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
)

// Safetensors (https://github.com/huggingface/safetensors, format doc
// "safetensors/README.md"): an 8-byte little-endian header length N, N bytes
// of JSON {"name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]},
// "__metadata__": {..}}, then the raw little-endian row-major element bytes,
// offsets relative to the end of the header. libtorch's C++ API cannot read
// or write it, so this file implements the format; tensors are built from the
// bytes with one copy into libtorch memory.

type stEntry struct {
	DType   string   `json:"dtype"`
	Shape   []int64  `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

func stDType(name string) (DType, bool) {
	for d, i := range dtypeInfo {
		if i.st == name {
			return d, true
		}
	}
	return 0, false
}

// maxHeader bounds the JSON header (the reference implementation uses 100 MB).
const maxHeader = 100 << 20

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
	fail := func(format string, a ...any) error {
		return fmt.Errorf("torch: safetensors %s: %s", path, fmt.Sprintf(format, a...))
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	var head [8]byte
	if _, err := io.ReadFull(f, head[:]); err != nil {
		return nil, fail("file too short")
	}
	n := binary.LittleEndian.Uint64(head[:])
	if n > maxHeader || n > uint64(size-8) {
		return nil, fail("header length %d does not fit a %d-byte file", n, size)
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(f, hdr); err != nil {
		return nil, fail("header: %v", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &raw); err != nil {
		return nil, fail("header: %v", err)
	}
	dataStart, dataLen := 8+int64(n), size-8-int64(n)
	type entry struct {
		name string
		dt   DType
		e    stEntry
	}
	entries := make([]entry, 0, len(raw))
	var largest int64
	for name, msg := range raw {
		if name == "__metadata__" {
			continue
		}
		var e stEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fail("tensor %q: %v", name, err)
		}
		dt, ok := stDType(e.DType)
		if !ok {
			return nil, fail("tensor %q: unsupported dtype %q", name, e.DType)
		}
		numel := int64(1)
		for _, d := range e.Shape {
			if d < 0 {
				return nil, fail("tensor %q: negative dim in %v", name, e.Shape)
			}
			numel *= d
		}
		b, end := e.Offsets[0], e.Offsets[1]
		if b < 0 || end < b || end > dataLen || end-b != numel*int64(dt.Size()) {
			return nil, fail("tensor %q: offsets %v do not hold %v %v in %d data bytes", name, e.Offsets, e.Shape, dt, dataLen)
		}
		largest = max(largest, end-b)
		entries = append(entries, entry{name, dt, e})
	}
	// In file order: one sequential pass.
	sort.Slice(entries, func(i, j int) bool { return entries[i].e.Offsets[0] < entries[j].e.Offsets[0] })
	buf := make([]byte, largest)
	out := make(map[string]*Tensor, len(entries))
	for _, en := range entries {
		b := buf[:en.e.Offsets[1]-en.e.Offsets[0]]
		if _, err := f.ReadAt(b, dataStart+en.e.Offsets[0]); err != nil {
			CloseAll(out)
			return nil, fail("tensor %q: %v", en.name, err)
		}
		t, err := FromBytes(b, en.dt, en.e.Shape)
		if err != nil {
			CloseAll(out)
			return nil, err
		}
		out[en.name] = t
	}
	return out, nil
}

// SaveSafetensors writes tensors (from any device; not closed, not modified)
// to path in the safetensors format, names in sorted order, with no metadata.
// The file is written to path+".tmp" and renamed into place.
func SaveSafetensors(path string, tensors map[string]*Tensor) error {
	names := make([]string, 0, len(tensors))
	for k := range tensors {
		if k == "__metadata__" {
			return fmt.Errorf("torch: safetensors: %q is a reserved name", k)
		}
		names = append(names, k)
	}
	sort.Strings(names)
	header := make(map[string]stEntry, len(names))
	var off int64
	for _, name := range names {
		i, err := tensors[name].Info()
		if err != nil {
			return fmt.Errorf("torch: safetensors: tensor %q: %w", name, err)
		}
		st := dtypeInfo[i.DType].st
		if st == "" {
			return fmt.Errorf("torch: safetensors: tensor %q: unsupported dtype %v", name, i.DType)
		}
		n := i.Numel() * int64(i.DType.Size())
		shape := i.Shape
		if shape == nil {
			shape = []int64{}
		}
		header[name] = stEntry{DType: st, Shape: shape, Offsets: [2]int64{off, off + n}}
		off += n
	}
	hj, err := json.Marshal(header) // map keys come out sorted
	if err != nil {
		return err
	}
	for len(hj)%8 != 0 { // align the data to 8 bytes, as the reference writer does
		hj = append(hj, ' ')
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = func() error {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(hj)))
		if _, err := w.Write(n[:]); err != nil {
			return err
		}
		if _, err := w.Write(hj); err != nil {
			return err
		}
		for _, name := range names {
			b, err := tensors[name].Bytes()
			if err != nil {
				return fmt.Errorf("torch: safetensors: tensor %q: %w", name, err)
			}
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
		return f.Close()
	}()
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// CloseAll closes every tensor of m (e.g. LoadSafetensors' result).
func CloseAll(m map[string]*Tensor) {
	for _, t := range m {
		t.Close()
	}
}
