package data

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
)

// Tensor is one float32 tensor of a safetensors file.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

type stEntry struct {
	DType       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// WriteSafetensors writes F32 tensors in the safetensors format: an 8-byte
// little-endian header length, a JSON header (names sorted, with dtype,
// shape and data_offsets; optional "__metadata__" of strings) padded with
// spaces to a multiple of 8 bytes, then the tensors' data in name order.
func WriteSafetensors(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	ts := append([]Tensor(nil), tensors...)
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	hdr := map[string]any{}
	if len(metadata) > 0 {
		hdr["__metadata__"] = metadata
	}
	var off int64
	for i, t := range ts {
		if t.Name == "" || t.Name == "__metadata__" {
			return fmt.Errorf("safetensors: invalid tensor name %q", t.Name)
		}
		if i > 0 && ts[i-1].Name == t.Name {
			return fmt.Errorf("safetensors: duplicate tensor %q", t.Name)
		}
		n := 1
		for _, d := range t.Shape {
			n *= d
		}
		if n != len(t.Data) {
			return fmt.Errorf("safetensors: %s: shape %v holds %d elements, got %d", t.Name, t.Shape, n, len(t.Data))
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		hdr[t.Name] = stEntry{DType: "F32", Shape: shape, DataOffsets: [2]int64{off, off + int64(4*n)}}
		off += int64(4 * n)
	}
	hb, err := json.Marshal(hdr)
	if err != nil {
		return err
	}
	for (8+len(hb))%8 != 0 {
		hb = append(hb, ' ')
	}
	var lb [8]byte
	binary.LittleEndian.PutUint64(lb[:], uint64(len(hb)))
	if _, err := w.Write(lb[:]); err != nil {
		return err
	}
	if _, err := w.Write(hb); err != nil {
		return err
	}
	for _, t := range ts {
		buf := make([]byte, 4*len(t.Data))
		for i, v := range t.Data {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
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
	if len(b) < 8 {
		return nil, nil, fmt.Errorf("truncated safetensors file")
	}
	hl := binary.LittleEndian.Uint64(b[:8])
	if hl > uint64(len(b)-8) || hl > 100<<20 {
		return nil, nil, fmt.Errorf("bad safetensors header length %d", hl)
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b[8 : 8+hl]))
	if err := dec.Decode(&raw); err != nil {
		return nil, nil, fmt.Errorf("safetensors header: %v", err)
	}
	body := b[8+hl:]
	var md map[string]string
	var ts []Tensor
	for name, v := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(v, &md); err != nil {
				return nil, nil, fmt.Errorf("safetensors __metadata__: %v", err)
			}
			continue
		}
		var e stEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, nil, fmt.Errorf("safetensors %s: %v", name, err)
		}
		if e.DType != "F32" {
			return nil, nil, fmt.Errorf("safetensors %s: dtype %s, only F32 is supported", name, e.DType)
		}
		n := 1
		for _, d := range e.Shape {
			if d < 0 {
				return nil, nil, fmt.Errorf("safetensors %s: bad shape %v", name, e.Shape)
			}
			n *= d
		}
		s, t := e.DataOffsets[0], e.DataOffsets[1]
		if s < 0 || t < s || t > int64(len(body)) || t-s != int64(4*n) {
			return nil, nil, fmt.Errorf("safetensors %s: data_offsets %v do not fit shape %v in %d data bytes", name, e.DataOffsets, e.Shape, len(body))
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[s+int64(4*i):]))
		}
		ts = append(ts, Tensor{Name: name, Shape: e.Shape, Data: data})
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	return ts, md, nil
}
