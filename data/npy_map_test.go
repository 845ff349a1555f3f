package data

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// MapNPY and ReadNPYInts give what ReadNPY gives, for every dtype we write,
// for an empty array, and for a truncated file (an error naming it).
func TestMapNPYMatchesReadNPY(t *testing.T) {
	dir := t.TempDir()
	in := []float64{1, -2, 3, 4, 250, 6}
	for i, dt := range []string{"<f8", "<i8", "|u1"} {
		v := in
		if dt == "|u1" {
			v = []float64{1, 2, 3, 4, 250, 6}
		}
		p := filepath.Join(dir, string(rune('a'+i))+".npy")
		require.NoError(t, WriteNPYFile(p, dt, []int{2, 3}, v))
		want, err := ReadNPY(p)
		require.NoError(t, err)
		m, err := MapNPY(p)
		require.NoError(t, err, dt)
		assert.Equal(t, []int{2, 3}, m.Shape, dt)
		assert.Equal(t, want.Data, m.Float64s(), dt)
		assert.Equal(t, want.Ints(), m.Ints(), dt)
		ints, shape, err := ReadNPYInts(p)
		require.NoError(t, err, dt)
		assert.Equal(t, want.Ints(), ints, dt)
		assert.Equal(t, []int{2, 3}, shape, dt)
		require.NoError(t, m.Close())
		require.NoError(t, m.Close(), "a second Close is harmless")
	}

	empty := filepath.Join(dir, "empty.npy")
	require.NoError(t, WriteNPYFile(empty, "<f8", []int{0}, nil))
	m, err := MapNPY(empty)
	require.NoError(t, err)
	assert.Empty(t, m.Float64s())
	assert.Empty(t, m.Ints())
	require.NoError(t, m.Close())

	b, err := os.ReadFile(filepath.Join(dir, "a.npy"))
	require.NoError(t, err)
	bad := filepath.Join(dir, "truncated.npy")
	require.NoError(t, os.WriteFile(bad, b[:len(b)-3], 0o644))
	_, err = MapNPY(bad)
	require.ErrorContains(t, err, bad)
	_, _, err = ReadNPYInts(bad)
	require.ErrorContains(t, err, bad)
}
