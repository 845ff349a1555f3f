// Package safetensors reads and writes the safetensors tensor file format
// (https://github.com/huggingface/safetensors, format description in its
// README.md), in pure Go, for every package of mlbench that stores tensors:
// data/ (the CNN's initial weights) and torch/ (Load/SaveSafetensors).
//
// A file is an 8-byte little-endian header length N, N bytes of JSON
//
//	{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//	 "__metadata__": {"key": "value"}}
//
// and then the tensors' raw little-endian row-major bytes, offsets relative
// to the end of the header. The reader checks the header the way the
// reference implementation does (known dtypes, shapes whose byte size fits
// the file without overflow, offsets that tile the data exactly) and returns
// an error, never panics, on a malformed file. The writer sorts tensors by
// name, pads the header with spaces to a multiple of 8 bytes, and streams
// each tensor's bytes, so a writer never holds a second copy of a model.
package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
)

// DType is an element type by its safetensors name.
type DType string

// The element types this package reads and writes.
const (
	F64  DType = "F64"
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
	I64  DType = "I64"
	I32  DType = "I32"
	I16  DType = "I16"
	I8   DType = "I8"
	U8   DType = "U8"
	Bool DType = "BOOL"
)

var dtypeSizes = map[DType]int64{F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, Bool: 1}

// Size is the size of one element in bytes; 0 for a dtype this package does
// not know.
func (d DType) Size() int { return int(dtypeSizes[d]) }

// MaxHeader bounds the JSON header, as the reference implementation does
// (100 MB).
const MaxHeader = 100 << 20

// metadataKey is the header entry that holds string metadata, not a tensor.
const metadataKey = "__metadata__"

// Info describes one tensor of a file.
type Info struct {
	Name  string
	DType DType
	Shape []int64
	// Begin and End are the tensor's byte range, relative to the start of
	// the data (Header.DataOffset in the file).
	Begin, End int64
}

// Numel is the number of elements (1 for a scalar of shape []).
func (i Info) Numel() int64 {
	n := int64(1)
	for _, d := range i.Shape {
		n *= d
	}
	return n
}

// NBytes is the size of the tensor's data, End - Begin.
func (i Info) NBytes() int64 { return i.End - i.Begin }

// Header is a parsed safetensors header.
type Header struct {
	// Tensors in file order (ascending Begin).
	Tensors []Info
	// Metadata is the "__metadata__" entry (nil when absent).
	Metadata map[string]string
	// DataOffset is where the data starts in the file: 8 + header length.
	DataOffset int64
}

// Find returns the tensor called name.
func (h *Header) Find(name string) (Info, bool) {
	for _, t := range h.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Info{}, false
}

type entry struct {
	DType   DType    `json:"dtype"`
	Shape   []int64  `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// ReadHeader reads and checks the header of a safetensors file of size
// bytes from r.
func ReadHeader(r io.ReaderAt, size int64) (*Header, error) {
	if size < 8 {
		return nil, fmt.Errorf("safetensors: file too short (%d bytes)", size)
	}
	var lb [8]byte
	if _, err := r.ReadAt(lb[:], 0); err != nil {
		return nil, fmt.Errorf("safetensors: header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lb[:])
	if n > MaxHeader || n > uint64(size-8) {
		return nil, fmt.Errorf("safetensors: header length %d does not fit a %d-byte file", n, size)
	}
	hb := make([]byte, n)
	if _, err := r.ReadAt(hb, 8); err != nil {
		return nil, fmt.Errorf("safetensors: header: %w", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hb, &raw); err != nil {
		return nil, fmt.Errorf("safetensors: header: %v", err)
	}
	h := &Header{DataOffset: 8 + int64(n)}
	dataLen := size - h.DataOffset
	for name, msg := range raw {
		if name == metadataKey {
			if err := json.Unmarshal(msg, &h.Metadata); err != nil {
				return nil, fmt.Errorf("safetensors: %s: %v", metadataKey, err)
			}
			continue
		}
		t, err := parseEntry(name, msg, dataLen)
		if err != nil {
			return nil, err
		}
		h.Tensors = append(h.Tensors, t)
	}
	sort.Slice(h.Tensors, func(i, j int) bool {
		a, b := h.Tensors[i], h.Tensors[j]
		return a.Begin < b.Begin || a.Begin == b.Begin && a.End < b.End
	})
	// The tensors must tile the data: no gaps, no overlaps, nothing after.
	var at int64
	for _, t := range h.Tensors {
		if t.Begin != at {
			return nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d, %d] leave a gap or overlap at byte %d", t.Name, t.Begin, t.End, at)
		}
		at = t.End
	}
	if at != dataLen {
		return nil, fmt.Errorf("safetensors: tensors hold %d data bytes, the file %d", at, dataLen)
	}
	return h, nil
}

// parseEntry decodes and checks one tensor entry against the data length.
func parseEntry(name string, msg json.RawMessage, dataLen int64) (Info, error) {
	fail := func(format string, a ...any) (Info, error) {
		return Info{}, fmt.Errorf("safetensors: tensor %q: %s", name, fmt.Sprintf(format, a...))
	}
	var e entry
	if err := json.Unmarshal(msg, &e); err != nil {
		return fail("%v", err)
	}
	size := dtypeSizes[e.DType]
	if size == 0 {
		return fail("unsupported dtype %q", e.DType)
	}
	// The byte size, as the reference computes it: an overflow is an error.
	nbytes := size
	for _, d := range e.Shape {
		if d < 0 {
			return fail("negative dim in shape %v", e.Shape)
		}
		if d != 0 && nbytes > math.MaxInt64/d {
			return fail("shape %v overflows", e.Shape)
		}
		nbytes *= d
	}
	b, end := e.Offsets[0], e.Offsets[1]
	if b < 0 || end < b || end > dataLen {
		return fail("data_offsets [%d, %d] outside the %d data bytes", b, end, dataLen)
	}
	if end-b != nbytes {
		return fail("data_offsets [%d, %d] hold %d bytes, shape %v of %s needs %d", b, end, end-b, e.Shape, e.DType, nbytes)
	}
	shape := e.Shape
	if shape == nil {
		shape = []int64{}
	}
	return Info{Name: name, DType: e.DType, Shape: shape, Begin: b, End: end}, nil
}

// ReadData reads tensor t's bytes from r (a file whose header is h) into
// dst, which must be t.NBytes() long.
func (h *Header) ReadData(r io.ReaderAt, t Info, dst []byte) error {
	if int64(len(dst)) != t.NBytes() {
		return fmt.Errorf("safetensors: tensor %q: buffer of %d bytes for %d", t.Name, len(dst), t.NBytes())
	}
	if _, err := r.ReadAt(dst, h.DataOffset+t.Begin); err != nil {
		return fmt.Errorf("safetensors: tensor %q: %w", t.Name, err)
	}
	return nil
}

// Tensor is one tensor to write.
type Tensor struct {
	Name  string
	DType DType
	Shape []int64
	// Data returns the tensor's little-endian row-major bytes; Write calls
	// it once, in file order, while writing, so that the bytes of one
	// tensor at a time need to be in memory.
	Data func() ([]byte, error)
}

// Write writes tensors (sorted by name) and metadata (may be nil) to w in
// the safetensors format. Names must be unique and not "__metadata__".
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	ts := append([]Tensor(nil), tensors...)
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	hdr := map[string]any{}
	if len(metadata) > 0 {
		hdr[metadataKey] = metadata
	}
	sizes := make([]int64, len(ts))
	var off int64
	for i, t := range ts {
		if t.Name == "" || t.Name == metadataKey {
			return fmt.Errorf("safetensors: invalid tensor name %q", t.Name)
		}
		if i > 0 && ts[i-1].Name == t.Name {
			return fmt.Errorf("safetensors: duplicate tensor %q", t.Name)
		}
		size := dtypeSizes[t.DType]
		if size == 0 {
			return fmt.Errorf("safetensors: tensor %q: unsupported dtype %q", t.Name, t.DType)
		}
		n := Info{Shape: t.Shape}.Numel() * size
		shape := t.Shape
		if shape == nil {
			shape = []int64{}
		}
		hdr[t.Name] = entry{DType: t.DType, Shape: shape, Offsets: [2]int64{off, off + n}}
		sizes[i] = n
		off += n
	}
	hb, err := json.Marshal(hdr) // map keys come out sorted
	if err != nil {
		return err
	}
	for len(hb)%8 != 0 { // 8 + len(hb) is then a multiple of 8: aligned data
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
	for i, t := range ts {
		b, err := t.Data()
		if err != nil {
			return fmt.Errorf("safetensors: tensor %q: %w", t.Name, err)
		}
		if int64(len(b)) != sizes[i] {
			return fmt.Errorf("safetensors: tensor %q: shape %v of %s needs %d bytes, got %d", t.Name, t.Shape, t.DType, sizes[i], len(b))
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// EncodeFloat32s is v as little-endian bytes (F32 data).
func EncodeFloat32s(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// DecodeFloat32s is little-endian F32 data as float32s (len(b) must be a
// multiple of 4).
func DecodeFloat32s(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}
