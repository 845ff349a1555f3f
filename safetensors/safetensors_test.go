package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func bytesOf(b []byte) func() ([]byte, error) { return func() ([]byte, error) { return b, nil } }

// file builds a safetensors file from a raw JSON header and data.
func file(header string, data []byte) []byte {
	var b bytes.Buffer
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	b.Write(n[:])
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

func read(b []byte) (*Header, error) { return ReadHeader(bytes.NewReader(b), int64(len(b))) }

func TestRoundTrip(t *testing.T) {
	w := []float32{1, -2.5, 3, 4, 5, 6}
	ids := make([]byte, 16)
	binary.LittleEndian.PutUint64(ids, 7)
	binary.LittleEndian.PutUint64(ids[8:], 1<<40)
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, []Tensor{
		{Name: "w", DType: F32, Shape: []int64{2, 3}, Data: bytesOf(EncodeFloat32s(w))},
		{Name: "ids", DType: I64, Shape: []int64{2}, Data: bytesOf(ids)},
		{Name: "scalar", DType: U8, Data: bytesOf([]byte{9})},
		{Name: "empty", DType: BF16, Shape: []int64{0, 4}, Data: bytesOf(nil)},
	}, map[string]string{"format": "pt"}))
	b := buf.Bytes()
	hl := binary.LittleEndian.Uint64(b[:8])
	assert.Zero(t, (8+hl)%8, "data aligned to 8 bytes")
	// The layout the reference writer uses: names sorted, offsets in that order.
	assert.Contains(t, string(b[8:8+hl]), `"ids":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}`)
	assert.Contains(t, string(b[8:8+hl]), `"__metadata__":{"format":"pt"}`)

	h, err := read(b)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"format": "pt"}, h.Metadata)
	assert.Equal(t, int64(8+hl), h.DataOffset)
	var names []string
	for _, x := range h.Tensors {
		names = append(names, x.Name)
	}
	assert.Equal(t, []string{"empty", "ids", "scalar", "w"}, names, "file order")
	wi, ok := h.Find("w")
	require.True(t, ok)
	assert.Equal(t, []int64{2, 3}, wi.Shape)
	assert.Equal(t, int64(6), wi.Numel())
	got := make([]byte, wi.NBytes())
	require.NoError(t, h.ReadData(bytes.NewReader(b), wi, got))
	assert.Equal(t, w, DecodeFloat32s(got))
	si, _ := h.Find("scalar")
	assert.Equal(t, []int64{}, si.Shape)
	assert.Equal(t, int64(1), si.Numel())
	require.Error(t, h.ReadData(bytes.NewReader(b), wi, got[:4]), "wrong buffer size")
	_, ok = h.Find("missing")
	assert.False(t, ok)
}

func TestWriteErrors(t *testing.T) {
	var buf bytes.Buffer
	for name, ts := range map[string][]Tensor{
		"short data":     {{Name: "a", DType: F32, Shape: []int64{2}, Data: bytesOf(make([]byte, 4))}},
		"unknown dtype":  {{Name: "a", DType: "F8", Shape: []int64{1}, Data: bytesOf([]byte{1})}},
		"reserved name":  {{Name: "__metadata__", DType: U8, Data: bytesOf([]byte{1})}},
		"empty name":     {{Name: "", DType: U8, Data: bytesOf([]byte{1})}},
		"duplicate name": {{Name: "a", DType: U8, Data: bytesOf([]byte{1})}, {Name: "a", DType: U8, Data: bytesOf([]byte{1})}},
		"data error":     {{Name: "a", DType: U8, Data: func() ([]byte, error) { return nil, errors.New("boom") }}},
	} {
		buf.Reset()
		assert.Error(t, Write(&buf, ts, nil), name)
	}
}

// Malformed files are errors, never panics: each case names what the
// reader must reject.
func TestReadHeaderRejects(t *testing.T) {
	huge := []byte{0, 0, 0, 0, 0, 0, 0, 0x7f}
	for name, b := range map[string][]byte{
		"too short":           {1, 2, 3},
		"header past the end": file(`{}`, nil)[:9],
		"huge header length":  append(huge, `{}`...),
		"not JSON":            file(`{"a":`, nil),
		"unknown dtype":       file(`{"a":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}`, []byte{0}),
		"negative dim":        file(`{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}`, []byte{0}),
		"shape overflows":     file(`{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}`, make([]byte, 4)),
		"shape wraps to fit":  file(`{"a":{"dtype":"U8","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,0]}}`, nil),
		"shape vs offsets":    file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4)),
		"offsets past data":   file(`{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}}`, make([]byte, 4)),
		"negative offset":     file(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}}`, make([]byte, 1)),
		"offset overflow":     file(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,99999999999999999999]}}`, make([]byte, 1)),
		"overlap":             file(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}`, make([]byte, 3)),
		"gap":                 file(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, make([]byte, 2)),
		"trailing bytes":      file(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 2)),
		"bad metadata":        file(`{"__metadata__":{"a":1}}`, nil),
	} {
		_, err := read(b)
		assert.Error(t, err, name)
	}
}

func TestReadHeaderEmptyFile(t *testing.T) {
	h, err := read(file(`{}`, nil))
	require.NoError(t, err)
	assert.Empty(t, h.Tensors)
	assert.Nil(t, h.Metadata)
}

func TestDTypeSize(t *testing.T) {
	assert.Equal(t, 2, BF16.Size())
	assert.Equal(t, 8, I64.Size())
	assert.Equal(t, 1, Bool.Size())
	assert.Equal(t, 0, DType("F8").Size())
}

// FuzzReadHeader: no input makes the reader panic, and what it accepts
// tiles the data exactly (go test -fuzz=FuzzReadHeader ./safetensors/).
func FuzzReadHeader(f *testing.F) {
	f.Add(file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)))
	f.Add(file(`{"__metadata__":{"k":"v"}}`, nil))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := read(b)
		if err != nil {
			return
		}
		var n int64
		for _, x := range h.Tensors {
			n += x.NBytes()
		}
		if h.DataOffset+n != int64(len(b)) {
			t.Fatalf("accepted tensors hold %d bytes of %d", n, int64(len(b))-h.DataOffset)
		}
	})
}
