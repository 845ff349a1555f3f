package report

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlbench/mlbench/bench"
)

// largeRun is the shape of a full llm/bert-qa run: 11,873 requests for
// each of 7 implementations, and an hour of memory samples each. The values
// are random, not measurements; only the sizes matter here.
var largeN = 11873

func largeRun() []*bench.Result {
	rnd := rand.New(rand.NewPCG(1, 2))
	impls := []string{"python-transformers", "python-ort", "go-ort", "go-libtorch", "rust-ort", "rust-tch", "rust-candle"}
	var rs []*bench.Result
	for i, id := range impls {
		n := largeN
		r := &bench.Result{SchemaVersion: bench.SchemaVersion, Task: "llm/bert-qa", Impl: id, Language: "x", Framework: "x",
			Status: bench.StatusOK, Threads: 2, Device: "cpu", Phases: map[string][]float64{"load": {1.5}},
			Metrics: map[string]float64{"requests_per_s": 10 + float64(i)}}
		for _, p := range []string{"tokenize", "model", "postprocess"} {
			v := make([]float64, n)
			for j := range v {
				v[j] = 0.05 * (1 + 0.1*float64(i)) * (1 + rnd.ExpFloat64()/4)
			}
			r.Phases[p] = v
		}
		for j := range 36000 {
			r.Samples = append(r.Samples, bench.Sample{T: float64(j) / 10, RSS: int64(500+rnd.IntN(100)) << 20})
		}
		rs = append(rs, r)
	}
	return rs
}

// A full-size run gives a page far under 5 MB: the plots are drawn from
// quantiles and bucket maxima, not from every sample.
func TestHTMLOfALargeRun(t *testing.T) {
	rs := largeRun()
	var b bytes.Buffer
	start := time.Now()
	require.NoError(t, WriteHTML(&b, rs, Page{}))
	t.Logf("7 x 11873 requests: %.1f MB of HTML in %v", float64(b.Len())/1e6, time.Since(start).Round(time.Millisecond))
	assert.Less(t, b.Len(), 5<<20)
}
