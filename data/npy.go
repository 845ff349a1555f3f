package data

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"unsafe"
)

// Array is a dense array read from a .npy file. Data holds every element
// converted to float64 (exact for the integer and uint8 data we store);
// Shape is the array's shape in C order.
type Array struct {
	Shape []int
	DType string // "<f8", "<f4", "<i8", "<i4", "|u1"
	Data  []float64
}

// Rows and Cols of a 2-D array (Cols is 1 for a 1-D array).
func (a *Array) Rows() int { return a.Shape[0] }
func (a *Array) Cols() int {
	c := 1
	for _, d := range a.Shape[1:] {
		c *= d
	}
	return c
}

// Ints returns the data as ints (for label and index arrays).
func (a *Array) Ints() []int {
	out := make([]int, len(a.Data))
	for i, v := range a.Data {
		out[i] = int(v)
	}
	return out
}

var npyMagic = []byte("\x93NUMPY")

// npyElemSize is the element size of each dtype the readers accept.
var npyElemSize = map[string]int{"<f8": 8, "<i8": 8, "<f4": 4, "<i4": 4, "|u1": 1}

// NPYHeader is a parsed .npy header: the dtype ("<f8", "<f4", "<i8", "<i4"
// or "|u1"), the shape in C order, and where the data starts.
type NPYHeader struct {
	DType      string
	Shape      []int
	DataOffset int64
}

// Numel is the number of elements.
func (h NPYHeader) Numel() int {
	n := 1
	for _, d := range h.Shape {
		n *= d
	}
	return n
}

// DataBytes is the size of the data.
func (h NPYHeader) DataBytes() int64 { return int64(h.Numel()) * int64(npyElemSize[h.DType]) }

// NPYFile is an open .npy file positioned at its data, whose size was
// checked against the header. Close closes the file.
type NPYFile struct {
	*os.File
	NPYHeader
}

// OpenNPY opens a .npy file (format 1.0-3.0, little-endian, C order) of f8,
// f4, i8, i4 or u1 elements and positions it at the data; a malformed
// header, or a file whose data is not exactly what the header says, is an
// error naming the file. Use it to stream large arrays.
func OpenNPY(path string) (*NPYFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	h, err := readNPYHeader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := f.Seek(h.DataOffset, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return &NPYFile{File: f, NPYHeader: h}, nil
}

// readNPYHeader parses the header of f and checks the file's size.
func readNPYHeader(f *os.File) (NPYHeader, error) {
	fi, err := f.Stat()
	if err != nil {
		return NPYHeader{}, err
	}
	pre := make([]byte, 12)
	n, _ := io.ReadFull(f, pre)
	hlen, start, err := npyPreamble(pre[:n])
	if err != nil {
		return NPYHeader{}, err
	}
	if int64(start+hlen) > fi.Size() {
		return NPYHeader{}, errors.New("truncated .npy header")
	}
	hb := make([]byte, hlen)
	if _, err := f.ReadAt(hb, int64(start)); err != nil {
		return NPYHeader{}, errors.New("truncated .npy header")
	}
	h, err := parseNPYDict(string(hb))
	if err != nil {
		return NPYHeader{}, err
	}
	h.DataOffset = int64(start + hlen)
	return h, checkNPYSize(h, fi.Size()-h.DataOffset)
}

// npyPreamble reads the magic, the version and the header length from the
// first bytes of a file.
func npyPreamble(b []byte) (hlen, start int, err error) {
	if len(b) < 10 || string(b[:6]) != string(npyMagic) {
		return 0, 0, errors.New("not a .npy file")
	}
	switch b[6] {
	case 1:
		return int(binary.LittleEndian.Uint16(b[8:10])), 10, nil
	case 2, 3:
		if len(b) < 12 {
			return 0, 0, errors.New("truncated .npy header")
		}
		return int(binary.LittleEndian.Uint32(b[8:12])), 12, nil
	}
	return 0, 0, fmt.Errorf("unsupported .npy version %d", b[6])
}

// parseNPYDict parses the header's Python dict: descr, fortran_order and
// shape. A shape whose element count overflows is an error.
func parseNPYDict(h string) (NPYHeader, error) {
	descr, err := headerField(h, "descr")
	if err != nil {
		return NPYHeader{}, err
	}
	descr = strings.Trim(strings.SplitN(strings.TrimPrefix(descr, "'"), "'", 2)[0], " ")
	if descr == "<u1" {
		descr = "|u1"
	}
	if npyElemSize[descr] == 0 {
		return NPYHeader{}, fmt.Errorf("unsupported dtype %q", descr)
	}
	fo, err := headerField(h, "fortran_order")
	if err != nil {
		return NPYHeader{}, err
	}
	if strings.HasPrefix(fo, "True") {
		return NPYHeader{}, errors.New("Fortran-order arrays are not supported")
	}
	sh, err := headerField(h, "shape")
	if err != nil {
		return NPYHeader{}, err
	}
	end := strings.IndexByte(sh, ')')
	if !strings.HasPrefix(sh, "(") || end < 0 {
		return NPYHeader{}, errors.New("bad shape in .npy header")
	}
	shape := []int{}
	n := 1
	for _, f := range strings.Split(sh[1:end], ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil || d < 0 {
			return NPYHeader{}, fmt.Errorf("bad shape %q in .npy header", sh[:end+1])
		}
		if d != 0 && n > math.MaxInt/npyElemSize[descr]/d {
			return NPYHeader{}, fmt.Errorf("shape %s in .npy header: too many elements", sh[:end+1])
		}
		shape = append(shape, d)
		n *= d
	}
	return NPYHeader{DType: descr, Shape: shape}, nil
}

func checkNPYSize(h NPYHeader, dataBytes int64) error {
	if dataBytes != h.DataBytes() {
		return fmt.Errorf("truncated or oversized: %d data bytes for shape %v of %s", dataBytes, h.Shape, h.DType)
	}
	return nil
}

// ReadNPY reads a whole .npy file (OpenNPY's formats) as float64s.
// Truncated or malformed files are errors naming the file.
func ReadNPY(path string) (*Array, error) {
	f, err := OpenNPY(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := f.Float64s()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &Array{Shape: f.Shape, DType: f.DType, Data: d}, nil
}

// Float64s reads all of the file's data, converted to float64 (exact for
// the integer and uint8 data we store). "<f8" data is read straight into
// the result, with no intermediate copy: the load phase of the classical
// tasks reads this way, as NumPy's np.load does.
func (f *NPYFile) Float64s() ([]float64, error) {
	n := f.Numel()
	out := make([]float64, n)
	if f.DType == "<f8" && littleEndian {
		if n > 0 {
			if _, err := io.ReadFull(f.File, unsafe.Slice((*byte)(unsafe.Pointer(&out[0])), 8*n)); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	size := npyElemSize[f.DType]
	buf := make([]byte, 1<<16-(1<<16)%size)
	for i := 0; i < n; {
		m := min(len(buf)/size, n-i)
		if _, err := io.ReadFull(f.File, buf[:m*size]); err != nil {
			return nil, err
		}
		decodeNPY(f.DType, buf[:m*size], out[i:i+m])
		i += m
	}
	return out, nil
}

// ReadNPYInts reads a whole .npy file (OpenNPY's formats) as ints, with its
// shape: index and label arrays. "<i8" data is read straight into the
// result on a 64-bit little-endian machine, with no float64 copy; float
// data is truncated, as Array.Ints does.
func ReadNPYInts(path string) (data, shape []int, err error) {
	f, err := OpenNPY(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	d, err := f.Ints()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, f.Shape, nil
}

// Ints reads all of the file's data as ints (see ReadNPYInts).
func (f *NPYFile) Ints() ([]int, error) {
	n := f.Numel()
	if f.DType == "<i8" && littleEndian && unsafe.Sizeof(int(0)) == 8 {
		out := make([]int, n)
		if n > 0 {
			if _, err := io.ReadFull(f.File, unsafe.Slice((*byte)(unsafe.Pointer(&out[0])), 8*n)); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	d, err := f.Float64s()
	if err != nil {
		return nil, err
	}
	out := make([]int, n)
	for i, v := range d {
		out[i] = int(v)
	}
	return out, nil
}

// decodeNPY converts the little-endian elements of b into dst.
func decodeNPY(dtype string, b []byte, dst []float64) {
	switch dtype {
	case "<f8":
		for i := range dst {
			dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
	case "<i8":
		for i := range dst {
			dst[i] = float64(int64(binary.LittleEndian.Uint64(b[8*i:])))
		}
	case "<f4":
		for i := range dst {
			dst[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
		}
	case "<i4":
		for i := range dst {
			dst[i] = float64(int32(binary.LittleEndian.Uint32(b[4*i:])))
		}
	default:
		for i := range dst {
			dst[i] = float64(b[i])
		}
	}
}

// littleEndian reports whether this machine stores numbers as .npy's "<"
// dtypes do.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// parseNPY parses a whole .npy file held in memory (for tests and fuzzing).
func parseNPY(b []byte) (*Array, error) {
	hlen, start, err := npyPreamble(b)
	if err != nil {
		return nil, err
	}
	if len(b) < start+hlen {
		return nil, errors.New("truncated .npy header")
	}
	h, err := parseNPYDict(string(b[start : start+hlen]))
	if err != nil {
		return nil, err
	}
	body := b[start+hlen:]
	if err := checkNPYSize(h, int64(len(body))); err != nil {
		return nil, err
	}
	data := make([]float64, h.Numel())
	decodeNPY(h.DType, body, data)
	return &Array{Shape: h.Shape, DType: h.DType, Data: data}, nil
}

func headerField(h, key string) (string, error) {
	i := strings.Index(h, "'"+key+"'")
	if i < 0 {
		return "", fmt.Errorf(".npy header lacks %s", key)
	}
	return strings.TrimLeft(h[i+len(key)+2:], ": "), nil
}

// WriteNPY writes data with the given shape as a .npy file of dtype
// "<f8", "<i8" or "|u1" (values are converted; integers must be exact).
func WriteNPY(w io.Writer, dtype string, shape []int, data []float64) error {
	n := 1
	for _, d := range shape {
		n *= d
	}
	if n != len(data) {
		return fmt.Errorf("WriteNPY: shape %v holds %d elements, got %d", shape, n, len(data))
	}
	hdr := npyHeader(dtype, shape)
	var size int
	switch dtype {
	case "<f8", "<i8":
		size = 8
	case "|u1":
		size = 1
	default:
		return fmt.Errorf("WriteNPY: unsupported dtype %q", dtype)
	}
	body := make([]byte, n*size)
	for i, v := range data {
		switch dtype {
		case "<f8":
			binary.LittleEndian.PutUint64(body[i*8:], math.Float64bits(v))
		case "<i8":
			binary.LittleEndian.PutUint64(body[i*8:], uint64(int64(v)))
		case "|u1":
			body[i] = byte(v)
		}
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	_, err := w.Write(body)
	return err
}

// npyHeader returns the .npy (format 1.0) header for dtype and shape; the
// data follows it directly.
func npyHeader(dtype string, shape []int) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	st := strings.Join(dims, ", ")
	if len(shape) == 1 {
		st += ","
	}
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", dtype, st)
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	hdr := make([]byte, 10, 10+len(h))
	copy(hdr, npyMagic)
	hdr[6], hdr[7] = 1, 0
	binary.LittleEndian.PutUint16(hdr[8:], uint16(len(h)))
	hdr = append(hdr, h...)
	return hdr
}
