package atomicfile

import (
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteLeavesNothingOnError(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	require.NoError(t, WriteJSON(p, map[string]int{"x": 1}))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "{\n  \"x\": 1\n}\n", string(b))
	fi, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm())

	// A failing writer and an unencodable value leave the old file as it
	// was and no temporary file.
	err = Write(p, func(w io.Writer) error {
		_, _ = w.Write([]byte("partial"))
		return errors.New("disk on fire")
	})
	require.ErrorContains(t, err, "disk on fire")
	require.ErrorContains(t, WriteJSON(p, math.Inf(1)), "encode a.json")
	b, err = os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "{\n  \"x\": 1\n}\n", string(b))
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, ents, 1, "no temporary file left")

	require.Error(t, WriteFile(filepath.Join(dir, "missing", "b"), []byte("x")))
}
