package data

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
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

// ReadNPY reads a .npy file (format 1.0-3.0, little-endian, C order) of
// f8, f4, i8, i4 or u1 elements. Truncated or malformed files are errors.
func ReadNPY(path string) (*Array, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	a, err := parseNPY(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

func parseNPY(b []byte) (*Array, error) {
	if len(b) < 10 || string(b[:6]) != string(npyMagic) {
		return nil, fmt.Errorf("not a .npy file")
	}
	var hlen, start int
	switch b[6] {
	case 1:
		hlen, start = int(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		if len(b) < 12 {
			return nil, fmt.Errorf("truncated .npy header")
		}
		hlen, start = int(binary.LittleEndian.Uint32(b[8:12])), 12
	default:
		return nil, fmt.Errorf("unsupported .npy version %d", b[6])
	}
	if len(b) < start+hlen {
		return nil, fmt.Errorf("truncated .npy header")
	}
	h := string(b[start : start+hlen])
	descr, err := headerField(h, "descr")
	if err != nil {
		return nil, err
	}
	descr = strings.Trim(strings.SplitN(strings.TrimPrefix(descr, "'"), "'", 2)[0], " ")
	fo, err := headerField(h, "fortran_order")
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(fo, "True") {
		return nil, fmt.Errorf("Fortran-order arrays are not supported")
	}
	sh, err := headerField(h, "shape")
	if err != nil {
		return nil, err
	}
	end := strings.IndexByte(sh, ')')
	if !strings.HasPrefix(sh, "(") || end < 0 {
		return nil, fmt.Errorf("bad shape in .npy header")
	}
	var shape []int
	for _, f := range strings.Split(sh[1:end], ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("bad shape %q in .npy header", sh[:end+1])
		}
		shape = append(shape, d)
	}
	size := map[string]int{"<f8": 8, "<i8": 8, "<f4": 4, "<i4": 4, "|u1": 1, "<u1": 1}[descr]
	if size == 0 {
		return nil, fmt.Errorf("unsupported dtype %q", descr)
	}
	body := b[start+hlen:]
	n, ok := npyElements(shape, size, len(body))
	if !ok || len(body) != n*size {
		return nil, fmt.Errorf("truncated or oversized: %d data bytes for shape %v of %s", len(body), shape, descr)
	}
	data := make([]float64, n)
	for i := range data {
		c := body[i*size:]
		switch descr {
		case "<f8":
			data[i] = math.Float64frombits(binary.LittleEndian.Uint64(c))
		case "<i8":
			data[i] = float64(int64(binary.LittleEndian.Uint64(c)))
		case "<f4":
			data[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(c)))
		case "<i4":
			data[i] = float64(int32(binary.LittleEndian.Uint32(c)))
		default:
			data[i] = float64(c[0])
		}
	}
	if descr == "<u1" {
		descr = "|u1"
	}
	return &Array{Shape: shape, DType: descr, Data: data}, nil
}

// npyElements is the element count of shape, or false when the product or
// its byte count (size bytes each) overflows or exceeds the body's bytes: a
// header must not make the reader allocate more than the file holds.
func npyElements(shape []int, size, body int) (int, bool) {
	n := 1
	for _, d := range shape {
		if d != 0 && n > body/d {
			return 0, false
		}
		n *= d
	}
	return n, n <= body/size
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
