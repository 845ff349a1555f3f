//go:build cgo

package ort

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPreloadCUDALibraries checks the preloading of the wheels' CUDA
// libraries without CUDA: a real shared library (zlib) stands in for one of
// them, a missing one is skipped, and a broken one is an error that names it.
func TestPreloadCUDALibraries(t *testing.T) {
	zlib := "/lib/x86_64-linux-gnu/libz.so.1"
	b, err := os.ReadFile(zlib)
	if err != nil {
		t.Fatalf("this test loads %s as a stand-in library: %v", zlib, err)
	}
	site := t.TempDir()
	cu := filepath.Join(site, "nvidia", "cu13", "lib")
	require.NoError(t, os.MkdirAll(cu, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(cu, "libcudart.so.13"), b, 0o755))
	assert.NoError(t, preloadFrom(site), "one library present, the others left to the system loader")

	require.NoError(t, os.WriteFile(filepath.Join(cu, "libcublasLt.so.13"), []byte("not an ELF file"), 0o755))
	err = preloadFrom(site)
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(cu, "libcublasLt.so.13"))
}
