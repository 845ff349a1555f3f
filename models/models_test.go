//go:build libtorch

package models

import (
	"math"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlbench/mlbench/internal/testenv"
	"github.com/mlbench/mlbench/models/modeltest"
	"github.com/mlbench/mlbench/torch"
)

// tol is the largest difference allowed from transformers' float32 values.
const tol = 1e-4

// fixture loads the tiny models and the activations testdata/reference.py
// exports from transformers for them.
type fixture struct {
	bertDir, gpt2Dir string
	want             map[string]*torch.Tensor
}

var shared struct {
	f    *fixture
	skip string
}

// setup makes the fixture once per test binary (python takes seconds).
func setup(t *testing.T) *fixture {
	t.Helper()
	if shared.skip != "" {
		testenv.Skip(t, "%s", shared.skip)
	}
	if shared.f == nil {
		ok := false
		defer func() {
			if !ok && t.Skipped() {
				shared.skip = "fixture skipped in an earlier test"
			}
		}()
		shared.f = newFixture(t)
		ok = true
	}
	require.NoError(t, torch.SetNumThreads(2))
	return shared.f
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := modeltest.TinyModels(t)
	f := &fixture{bertDir: filepath.Join(dir, "bert-qa"), gpt2Dir: filepath.Join(dir, "gpt2")}
	out := filepath.Join(t.TempDir(), "expected.safetensors")
	cmd := exec.Command(modeltest.Python(t), filepath.Join("testdata", "reference.py"),
		"--bert", f.bertDir, "--gpt2", f.gpt2Dir, "--out", out)
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", b)
	f.want, err = torch.LoadSafetensors(out) // kept open until the test binary exits
	require.NoError(t, err)
	return f
}

func (f *fixture) get(t *testing.T, name string) *torch.Tensor {
	t.Helper()
	x, ok := f.want[name]
	require.True(t, ok, "reference.py wrote no %q", name)
	return x
}

// assertClose checks got against the expected tensor name: same shape,
// max abs diff <= tol.
func (f *fixture) assertClose(t *testing.T, name string, got *torch.Tensor) {
	t.Helper()
	want := f.get(t, name)
	require.NotNil(t, got, name)
	require.Equal(t, want.Shape(), got.Shape(), name)
	w, err := want.Float32s()
	require.NoError(t, err)
	g, err := got.Float32s()
	require.NoError(t, err)
	d := 0.0
	for i := range w {
		d = math.Max(d, math.Abs(float64(w[i])-float64(g[i])))
	}
	t.Logf("%s: max abs diff %.3g", name, d)
	assert.LessOrEqual(t, d, tol, name)
}

func TestBertQAMatchesTransformers(t *testing.T) {
	f := setup(t)
	live := torch.LiveTensors()
	m, err := LoadBertQA(f.bertDir, torch.CPU)
	require.NoError(t, err)
	assert.Equal(t, 2, m.Config.NumHiddenLayers)
	assert.Equal(t, 64, m.Config.HiddenSize)

	ids, tt := f.get(t, "bert.input_ids"), f.get(t, "bert.token_type_ids")
	// Layer by layer.
	require.NoError(t, forward(func(s *torch.Scope) {
		h := m.embed(s, ids, tt, ids.Shape()[1])
		f.assertClose(t, "bert.hidden.0", h)
		for i := range m.layers {
			h = m.layer(s, i, h, nil)
			f.assertClose(t, "bert.hidden."+string(rune('1'+i)), h)
		}
	}))
	start, end, err := m.Forward(ids, tt, nil)
	require.NoError(t, err)
	f.assertClose(t, "bert.start_logits", start)
	f.assertClose(t, "bert.end_logits", end)
	closeAll(start, end)

	// From Go slices (the benchmark's path).
	idv, _ := ids.Int64s()
	ttv, _ := tt.Int64s()
	sv, ev, err := m.Logits(idv, ttv)
	require.NoError(t, err)
	s2, _ := torch.FromFloat32s(sv, 1, int64(len(sv)))
	e2, _ := torch.FromFloat32s(ev, 1, int64(len(ev)))
	f.assertClose(t, "bert.start_logits", s2)
	f.assertClose(t, "bert.end_logits", e2)
	closeAll(s2, e2)

	// Batch 2 with a padding mask.
	start, end, err = m.Forward(f.get(t, "bert.pad.input_ids"), f.get(t, "bert.pad.token_type_ids"),
		f.get(t, "bert.pad.attention_mask"))
	require.NoError(t, err)
	f.assertClose(t, "bert.pad.start_logits", start)
	f.assertClose(t, "bert.pad.end_logits", end)
	closeAll(start, end)

	require.NoError(t, m.Close())
	require.NoError(t, m.Close())
	assert.Equal(t, live, torch.LiveTensors(), "every weight and temporary freed")
}

func TestGPT2MatchesTransformers(t *testing.T) {
	f := setup(t)
	live := torch.LiveTensors()
	m, err := LoadGPT2(f.gpt2Dir, torch.CPU)
	require.NoError(t, err)
	assert.Equal(t, 2, m.Config.NLayer)
	assert.Equal(t, 256, m.Config.Inner())

	prompt := f.get(t, "gpt2.prompt")
	// Embeddings and the first block.
	require.NoError(t, forward(func(s *torch.Scope) {
		h := s.Add(s.Embedding(m.wte, prompt), s.Narrow(m.wpe, 0, 0, 7))
		f.assertClose(t, "gpt2.hidden.0", h)
		h = m.block(s, 0, h, nil, nil, 0, torch.AttentionOptions{Causal: true})
		f.assertClose(t, "gpt2.hidden.1", h)
	}))

	// The prompt, then two greedy steps with the cache.
	cache := m.NewCache()
	logits, err := m.Forward(prompt, cache)
	require.NoError(t, err)
	f.assertClose(t, "gpt2.logits.0", logits)
	logits.Close()
	assert.Equal(t, 7, cache.Len())

	cache.Close()
	pv, _ := prompt.Int64s()
	next, last, err := m.Step(pv, cache)
	require.NoError(t, err)
	last.Close()
	steps, _ := f.get(t, "gpt2.steps").Int64s()
	for k, want := range steps {
		assert.Equal(t, want, next, "greedy token %d", k+1)
		x, _ := torch.FromInt64s([]int64{next}, 1, 1)
		logits, err := m.Forward(x, cache)
		x.Close()
		require.NoError(t, err)
		f.assertClose(t, "gpt2.logits."+string(rune('1'+k)), logits)
		am, _ := torch.ArgMax(logits, -1, false)
		v, _ := am.Item()
		next = int64(v)
		closeAll(am, logits)
	}
	assert.Equal(t, 9, cache.Len())

	// Three tokens at once after the cached prompt (the causal mask with a past).
	cache.Close()
	logits, err = m.Forward(prompt, cache)
	require.NoError(t, err)
	logits.Close()
	logits, err = m.Forward(f.get(t, "gpt2.chunk"), cache)
	require.NoError(t, err)
	f.assertClose(t, "gpt2.chunk_logits", logits)
	logits.Close()
	assert.Equal(t, 10, cache.Len())

	require.NoError(t, cache.Close())
	require.NoError(t, m.Close())
	assert.Equal(t, live, torch.LiveTensors(), "every weight, cache entry and temporary freed")
}

func TestLoadErrors(t *testing.T) {
	_, err := LoadBertQA(t.TempDir(), torch.CPU)
	assert.Error(t, err)
	_, err = LoadGPT2(t.TempDir(), torch.CPU)
	assert.Error(t, err)
	f := setup(t)
	_, err = LoadGPT2(f.bertDir, torch.CPU) // a BERT config is no GPT-2 config
	assert.Error(t, err)
}
