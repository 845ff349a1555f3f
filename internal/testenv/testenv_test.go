package testenv

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeT records what Skip does instead of stopping the test.
type fakeT struct {
	testing.TB
	skipped, failed bool
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Skipf(string, ...any)  { f.skipped = true }
func (f *fakeT) Fatalf(string, ...any) { f.failed = true }

func TestSkipFailsUnderRequireAll(t *testing.T) {
	t.Setenv("MLBENCH_REQUIRE_ALL", "1")
	f := &fakeT{}
	Skip(f, "no %s", "thing")
	assert.True(t, f.failed)
	assert.False(t, f.skipped)

	t.Setenv("MLBENCH_REQUIRE_ALL", "")
	t.Setenv("CI", "")
	f = &fakeT{}
	Skip(f, "no %s", "thing")
	assert.True(t, f.skipped)
	assert.False(t, f.failed)

	t.Setenv("MLBENCH_REQUIRE_ALL", "1")
	f = &fakeT{}
	SkipNoGPU(f, "none here")
	assert.True(t, f.skipped, "a missing GPU may skip even in CI")
}

func TestRootAndMirror(t *testing.T) {
	root := Root(t)
	_, err := os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "MANIFEST.json"), []byte("{}"), 0o644))
	t.Setenv("MLBENCH_MIRROR", dir)
	assert.Equal(t, dir, Mirror(t))
}
