package data

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVerifyFilesCachesByMtime(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a")
	require.NoError(t, os.WriteFile(p, []byte("abc"), 0o644))
	n, sum, err := HashFile(p)
	require.NoError(t, err)
	want := []FileHash{{Path: "a", Size: n, SHA256: sum}}
	require.NoError(t, VerifyFiles(dir, want))
	_, err = os.Stat(filepath.Join(dir, verifiedCache))
	require.NoError(t, err, "the hash is remembered")
	// A change that keeps size and mtime is not seen (the documented limit
	// of the cache); one that moves the mtime is.
	st, _ := os.Stat(p)
	require.NoError(t, os.WriteFile(p, []byte("abd"), 0o644))
	require.NoError(t, os.Chtimes(p, st.ModTime(), st.ModTime()))
	assert.NoError(t, VerifyFiles(dir, want))
	require.NoError(t, os.Chtimes(p, st.ModTime(), st.ModTime().Add(time.Second)))
	assert.ErrorContains(t, VerifyFiles(dir, want), "changed since")
}
