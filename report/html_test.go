package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fontData matches an embedded font; golden files hold its hash instead
// (the font is 550 KB of base64 that the font package pins).
var fontData = regexp.MustCompile(`base64,[A-Za-z0-9+/=]{1000,}`)

func withoutFonts(t *testing.T, b []byte) []byte {
	t.Helper()
	return fontData.ReplaceAllFunc(b, func(m []byte) []byte {
		raw, err := base64.StdEncoding.DecodeString(string(m[len("base64,"):]))
		require.NoError(t, err)
		return []byte(fmt.Sprintf("base64,<font sha256=%x>", sha256.Sum256(raw)))
	})
}

func TestHTMLGolden(t *testing.T) {
	for _, run := range []string{"run1", "run2"} {
		t.Run(run, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, WriteHTML(&b, load(t, run), Page{Source: "testdata/" + run}))
			assert.Less(t, b.Len(), 5<<20)
			golden(t, run+".html.golden", withoutFonts(t, b.Bytes()))
		})
	}
}

func TestCompareHTMLGolden(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteCompareHTML(&b, load(t, "run1"), load(t, "run2"), ComparePage{Old: "testdata/run1", New: "testdata/run2"}))
	golden(t, "compare.html.golden", withoutFonts(t, b.Bytes()))
}

// TestPlotFiles writes the plots of run1 as SVG (compared with golden
// files, fonts aside) and as PNG (decoded, not blank).
func TestPlotFiles(t *testing.T) {
	rs := load(t, "run1")
	dir := t.TempDir()
	paths, err := WritePlots(dir, rs, SVG)
	require.NoError(t, err)
	var names []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.Contains(t, string(b), "@font-face", "%s: font not embedded", p)
		names = append(names, filepath.Base(p))
		golden(t, filepath.Join("plots", filepath.Base(p)+".golden"), withoutFonts(t, b))
	}
	assert.Equal(t, []string{
		"classical-svm-ratio.svg", "classical-kmeans-n1000-ratio.svg", "classical-kmeans-n10000-ratio.svg",
		"classical-kmeans-scaling.svg", "llm-bert-qa-ratio.svg", "llm-bert-qa-requests-per-s.svg", "llm-bert-qa-model-ecdf.svg",
	}, names)

	paths, err = WritePlots(dir, rs, PNG)
	require.NoError(t, err)
	require.Len(t, paths, len(names))
	for _, p := range paths {
		f, err := os.Open(p)
		require.NoError(t, err)
		img, err := png.Decode(f)
		f.Close()
		require.NoError(t, err, p)
		assert.False(t, blank(img), "%s is blank", p)
	}

	_, err = WritePlots(dir, rs, "gif")
	assert.EqualError(t, err, `unknown plot format "gif" (want svg or png)`)
}

// blank says whether every pixel of img has the colour of the first.
func blank(img image.Image) bool {
	b := img.Bounds()
	r0, g0, b0, _ := img.At(b.Min.X, b.Min.Y).RGBA()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, g, bl, _ := img.At(x, y).RGBA(); r != r0 || g != g0 || bl != b0 {
				return false
			}
		}
	}
	return true
}
