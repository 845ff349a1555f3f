package data

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The fuzz targets below run on their seed corpus with every `go test`, and
// for a while each in CI (build.sh: go test -fuzz=^Name$ -fuzztime=10s);
// run them longer by hand, e.g. go test ./data -fuzz=^FuzzParseNPY$ -fuzztime=10m.
// Each checks the reader's contract on any input: an error or a result
// consistent with the bytes, never a panic or an allocation the file does
// not justify.

// npyFile is a .npy file with the given header dict and body.
func npyFile(dict string, body []byte) []byte {
	h := dict
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
	return append(append(b, h...), body...)
}

func TestNPYShapeOverflowIsAnError(t *testing.T) {
	// Shapes whose element count, or its byte count, wraps around to the
	// body's length: without the check, makeslice panicked.
	for shape, body := range map[string]int{
		"(3074457345618258603, 3)": 8, // n wraps to -2^63+1; n*8 wraps to 8
		"(2305843009213693953,)":   8, // n*8 wraps to 8
		"(4294967296, 4294967296)": 0, // n wraps to 0: an "empty" array claiming 2^64 elements
		"(9223372036854775807, 2)": 16,
	} {
		a, err := parseNPY(npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': "+shape+", }", make([]byte, body)))
		require.ErrorContains(t, err, "too many elements", "%s: %v", shape, a)
	}
}

func FuzzParseNPY(f *testing.F) {
	var buf bytes.Buffer
	require.NoError(f, WriteNPY(&buf, "<f8", []int{2, 2}, []float64{1, 2, 3, 4}))
	f.Add(buf.Bytes())
	f.Add(npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (3074457345618258603, 3), }", make([]byte, 8)))
	f.Add(npyFile("{'descr': '<i8', 'fortran_order': False, 'shape': (9223372036854775807, 2), }", nil))
	f.Add(npyFile("{'descr': '|u1', 'fortran_order': False, 'shape': (), }", []byte{7}))
	f.Add(npyFile("{'descr': '", nil))
	f.Add(npyFile("{'shape': (", nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := parseNPY(b)
		if err != nil {
			return
		}
		n := 1
		for _, d := range a.Shape {
			n *= d
		}
		if n != len(a.Data) || len(a.Data) > len(b) {
			t.Fatalf("shape %v, %d elements from %d bytes", a.Shape, len(a.Data), len(b))
		}
	})
}

func FuzzWalkTarGz(f *testing.F) {
	f.Add(makeTarGz(f, []tarEntry{{name: "d/a", body: []byte("abc")}}))
	f.Add(makeTarGz(f, []tarEntry{{name: "../evil", body: []byte("x")}}))
	f.Add(makeTarGz(f, []tarEntry{{name: "d/a", typeflag: '2', link: "/etc/passwd"}}))
	f.Add(makeTarGz(f, []tarEntry{{name: "d/", typeflag: '5'}, {name: "d/b", body: bytes.Repeat([]byte("y"), 2000)}}))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	const maxSize = 1024
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = walkTarGz(bytes.NewReader(b), map[string]bool{"d/a": true, "d/b": true}, map[string]bool{"d": true}, maxSize,
			func(m tarMember) error {
				if m.Size > maxSize || strings.Contains(m.Name, "..") || strings.HasPrefix(m.Name, "/") {
					t.Fatalf("member %q of %d bytes let through", m.Name, m.Size)
				}
				_, err := readExactly(m)
				return err
			})
	})
}

func FuzzParseCalHousing(f *testing.F) {
	f.Add(calRows(3))
	f.Add([]byte("1,2,3\n"))
	f.Add([]byte("-122.23,37.88,41.0,880.0,129.0,322.0,126.0,8.3252,452600.0\nNaN,1,1,1,1,1,1,1,1\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		X, y, err := parseCalHousing(b)
		if err == nil && len(X) != 8*len(y) {
			t.Fatalf("%d features for %d targets", len(X), len(y))
		}
	})
}

func FuzzParseSQuAD(f *testing.F) {
	f.Add([]byte(`{"version": "v2.0", "data": [{"title": "t", "paragraphs": [{"context": "abc", "qas": [{"id": "1", "question": "q?", "answers": [{"text": "b", "answer_start": 1}], "is_impossible": false}]}]}]}`))
	f.Add([]byte(`{"data": [{"paragraphs": [{"context": "abc", "qas": [{"id": "1", "answers": [{"text": "b", "answer_start": 99}]}]}]}]}`))
	f.Add([]byte(`{"data": null}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _, _, _, _ = ParseSQuAD(b)
	})
}

func FuzzReadManifest(f *testing.F) {
	f.Add([]byte(`{"datasets": {"california_housing": {"files": [{"name": "cal_housing.tgz", "sha256": "00"}]}}}`))
	f.Add([]byte(`{"datasets": null}`))
	f.Add([]byte(`{`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "MANIFEST.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := ReadManifest(dir)
		if err == nil && m == nil {
			t.Fatal("no manifest and no error")
		}
	})
}

func FuzzParseCIFARBatch(f *testing.F) {
	rec := make([]byte, cifarRecord)
	rec[0] = 3
	f.Add(append(bytes.Clone(rec), rec...), 2)
	f.Add(append([]byte{10}, make([]byte, cifarRecord-1)...), 1) // label out of range
	f.Add(rec[:100], 1)                                          // short
	f.Fuzz(func(t *testing.T, buf []byte, n int) {
		if n < 0 || n > 4 {
			return
		}
		labels, pix := make([]float64, n), make([]byte, n*cifarPixels)
		if err := parseCIFARBatch(buf, labels, pix); err != nil {
			return
		}
		for i, l := range labels {
			if l < 0 || l >= cifarClasses || float64(buf[i*cifarRecord]) != l {
				t.Fatalf("record %d: label %v", i, l)
			}
		}
	})
}
