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
	for _, run := range []string{"run1", "run2", "run3"} {
		t.Run(run, func(t *testing.T) {
			ri, err := LoadRunInfo(filepath.Join("testdata", run))
			require.NoError(t, err)
			var b bytes.Buffer
			require.NoError(t, WriteHTML(&b, load(t, run), Page{Source: "testdata/" + run, Run: ri}))
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

// TestPlotFiles writes the plots of run1 and run3 as SVG (compared with
// golden files, fonts aside) and as PNG (decoded, not blank).
func TestPlotFiles(t *testing.T) {
	rs := append(load(t, "run1"), load(t, "run3")...)
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
		"classical-kmeans-scaling.svg", "classical-kmeans-scaling-ratio.svg",
		"dl-cnn-ratio.svg", "dl-cnn-images-per-s.svg", "dl-cnn-test-accuracy.svg", "dl-cnn-epoch-loss.svg",
		"dl-cnn-epoch-test-accuracy.svg", "dl-cnn-memory.svg",
		"llm-bert-qa-ratio.svg", "llm-bert-qa-requests-per-s.svg", "llm-bert-qa-request-ecdf.svg", "llm-bert-qa-model-ecdf.svg",
		"llm-gpt2-ratio.svg", "llm-gpt2-tokens-per-s.svg", "llm-gpt2-ttft-ecdf.svg", "llm-gpt2-per-token-ecdf.svg",
		"llm-gpt2-memory.svg",
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

func TestLogTicks(t *testing.T) {
	label := func(min, max float64) []string {
		var out []string
		for _, tk := range (logTicks{unit: "x"}).Ticks(min, max) {
			if tk.Label != "" {
				out = append(out, tk.Label)
			}
		}
		return out
	}
	// Within a decade every multiple is labelled, without float noise.
	assert.Equal(t, []string{"0.4x", "0.5x", "0.6x", "0.7x", "0.8x", "0.9x", "1x"}, label(0.33, 1.2))
	// Up to three decades: 1, 2, 5.
	assert.Equal(t, []string{"0.2x", "0.5x", "1x", "2x", "5x", "10x", "20x"}, label(0.15, 30))
	// Wider: powers of ten only.
	assert.Equal(t, []string{"0.01x", "0.1x", "1x", "10x", "100x"}, label(0.01, 500))
	assert.Empty(t, label(0, 1), "no log ticks at 0")
}
