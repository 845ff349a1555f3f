package data

import (
	"fmt"
	"unsafe"
)

// MappedNPY is a .npy file mapped into memory read-only (OpenNPY's formats
// and checks): reading it costs no copy and no heap allocation, only the
// page cache's pages. Float64s and Ints are views of the mapping for "<f8"
// and "<i8" data (converted copies for other dtypes); they are valid until
// Close, and must not be written.
type MappedNPY struct {
	NPYHeader
	mem  []byte // the whole file; nil when it was read instead (see mapFile)
	data []byte // its data
}

// MapNPY maps the .npy file at path. Where mapping is not available (or
// the file is empty), the data is read into memory instead, with the same
// result.
func MapNPY(path string) (*MappedNPY, error) {
	f, err := OpenNPY(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := &MappedNPY{NPYHeader: f.NPYHeader}
	size := f.DataOffset + f.DataBytes()
	if m.mem, err = mapFile(f.File, size); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if m.mem != nil {
		m.data = m.mem[f.DataOffset:size]
		return m, nil
	}
	m.data = make([]byte, f.DataBytes())
	if _, err := f.ReadAt(m.data, f.DataOffset); err != nil && f.DataBytes() > 0 {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Close unmaps the file; the views are invalid afterwards.
func (m *MappedNPY) Close() error {
	mem := m.mem
	m.mem, m.data = nil, nil
	if mem == nil {
		return nil
	}
	return unmapFile(mem)
}

// direct reports whether the data can be viewed as 8-byte elements in
// place: a little-endian machine, 64-bit ints and an aligned start.
func (m *MappedNPY) direct() bool {
	return littleEndian && unsafe.Sizeof(int(0)) == 8 && len(m.data) > 0 &&
		uintptr(unsafe.Pointer(&m.data[0]))%8 == 0
}

// Float64s is the data as float64s: a view of the mapping for "<f8",
// otherwise a converted copy.
func (m *MappedNPY) Float64s() []float64 {
	if m.DType == "<f8" && m.direct() {
		return unsafe.Slice((*float64)(unsafe.Pointer(&m.data[0])), m.Numel())
	}
	out := make([]float64, m.Numel())
	decodeNPY(m.DType, m.data, out)
	return out
}

// Ints is the data as ints: a view of the mapping for "<i8", otherwise a
// converted copy (floats truncated, as Array.Ints does).
func (m *MappedNPY) Ints() []int {
	if m.DType == "<i8" && m.direct() {
		return unsafe.Slice((*int)(unsafe.Pointer(&m.data[0])), m.Numel())
	}
	out := make([]int, m.Numel())
	for i, v := range m.Float64s() {
		out[i] = int(v)
	}
	return out
}
