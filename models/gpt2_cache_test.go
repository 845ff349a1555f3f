//go:build libtorch

package models

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlbench/mlbench/models/modeltest"
	"github.com/mlbench/mlbench/torch"
)

// The cache grows past its first capacity (twice) with the keys and values
// it holds intact: decoding token by token gives the logits of one forward
// pass over the whole sequence. A batch that does not match the cache is
// an error that leaves the cache usable.
func TestGPT2CacheGrows(t *testing.T) {
	live := torch.LiveTensors()
	m, err := LoadGPT2(filepath.Join(modeltest.TinyModels(t), "gpt2"), torch.CPU)
	require.NoError(t, err)
	defer m.Close()
	const n, prompt = 3*minCacheCapacity + 5, minCacheCapacity + 3
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = int64(i*7919) % int64(m.Config.VocabSize)
	}
	all, err := torch.FromInt64s(ids, 1, n)
	require.NoError(t, err)
	want, err := m.Forward(all, nil) // [1, n, vocab], no cache
	all.Close()
	require.NoError(t, err)
	defer want.Close()

	cache := m.NewCache()
	defer cache.Close()
	check := func(from, to int) {
		x, err := torch.FromInt64s(ids[from:to], 1, int64(to-from))
		require.NoError(t, err)
		got, err := m.Forward(x, cache)
		x.Close()
		require.NoError(t, err)
		w, err := torch.Narrow(want, 1, int64(from), int64(to-from))
		require.NoError(t, err)
		gv, err := got.Float32s()
		require.NoError(t, err)
		wv, err := w.Float32s()
		require.NoError(t, err)
		closeAll(got, w)
		require.Len(t, gv, len(wv))
		d := 0.0
		for i := range gv {
			d = math.Max(d, math.Abs(float64(gv[i]-wv[i])))
		}
		assert.Less(t, d, tol, "positions %d..%d", from, to-1)
	}
	check(0, prompt)
	assert.Equal(t, int64(prompt), cache.capacity)
	two, err := torch.FromInt64s([]int64{1, 2}, 2, 1)
	require.NoError(t, err)
	_, err = m.Forward(two, cache)
	two.Close()
	require.ErrorContains(t, err, "batch 2 after a cache of batch 1")
	assert.Equal(t, prompt, cache.Len())
	for i := prompt; i < n; i++ {
		check(i, i+1)
	}
	assert.Equal(t, int64(4*prompt), cache.capacity, "grown twice, by doubling")
	assert.Equal(t, n, cache.Len())
	require.NoError(t, cache.Close())
	require.NoError(t, want.Close())
	require.NoError(t, m.Close())
	assert.Equal(t, live, torch.LiveTensors(), "every buffer freed")
}
