package torch

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buildWith runs `go build -tags libtorch` on this package with cgo's
// preprocessor flags set to cppflags, and returns its output.
func buildWith(t *testing.T, cppflags string) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	require.NoError(t, err, "the go command is needed to test the compile-time checks")
	cmd := exec.Command(gobin, "build", "-tags", "libtorch", ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "CGO_CPPFLAGS="+cppflags, "CGO_LDFLAGS=")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "the build must fail: %s", out)
	return string(out)
}

// A build without libtorch's headers stops with the fix in the message.
func TestBuildWithoutHeadersSaysHow(t *testing.T) {
	out := buildWith(t, "-I"+t.TempDir())
	assert.Contains(t, out, "libtorch headers not found")
	assert.Contains(t, out, `export CGO_CPPFLAGS="-I$LIBTORCH/include -I$LIBTORCH/include/torch/csrc/api/include" CGO_LDFLAGS="-L$LIBTORCH/lib -Wl,-rpath,$LIBTORCH/lib"`)
	assert.NotContains(t, out, "torch/types.h: No such file", "the check must come before libtorch's own includes")
}

// A libtorch other than 2.11 is a compile error naming both versions.
func TestBuildWithOtherVersionNamesBoth(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "torch"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "torch", "version.h"), []byte(
		"#define TORCH_VERSION_MAJOR 2\n#define TORCH_VERSION_MINOR 10\n#define TORCH_VERSION_PATCH 1\n"), 0o644))
	out := buildWith(t, "-I"+dir)
	assert.Contains(t, out, "needs libtorch 2.11 but torch/version.h of the libtorch on the include path says 2.10.1")
}
