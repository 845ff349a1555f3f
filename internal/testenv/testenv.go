// Package testenv finds what tests need from outside the Go module — the
// repository root, the project's Python, the offline mirror — and decides
// what a test does when something is missing. Under MLBENCH_REQUIRE_ALL=1
// (set by `./build.sh test`, so in CI) a test that cannot run its check
// fails with the reason instead of skipping: a skip there would hide a check.
// Elsewhere (a developer's `go test`) it skips with the same reason.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RequireAll reports whether every test must run: MLBENCH_REQUIRE_ALL=1,
// or CI set to anything but "", "0" or "false" (the rule of the pytest
// conftest and the Rust test kit too).
func RequireAll() bool {
	if os.Getenv("MLBENCH_REQUIRE_ALL") == "1" {
		return true
	}
	ci := os.Getenv("CI")
	return ci != "" && ci != "0" && ci != "false"
}

// Skip skips the test with the reason, or fails it under RequireAll.
func Skip(t testing.TB, format string, args ...any) {
	t.Helper()
	if RequireAll() {
		t.Fatalf("MLBENCH_REQUIRE_ALL=1 and this test cannot run its check: "+format, args...)
	} else {
		t.Skipf(format, args...)
	}
}

// SkipNoGPU skips a test that needs a GPU, even under RequireAll: the
// machines tests run on need not have one.
func SkipNoGPU(t testing.TB, format string, args ...any) {
	t.Helper()
	t.Skipf("no GPU: "+format, args...)
}

// Root is the repository root: the folder holding go.mod at or above the
// working directory.
func Root(t testing.TB) string {
	t.Helper()
	d, err := os.Getwd()
	if err != nil {
		t.Fatalf("no working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		p := filepath.Dir(d)
		if p == d {
			t.Fatalf("no go.mod above the working directory")
		}
		d = p
	}
}

// Python is the project's interpreter: $MLBENCH_PYTHON, or the venv that
// ./build.sh links at .venv. It skips (fails under RequireAll) when there
// is none or when it cannot import the modules named.
func Python(t testing.TB, modules ...string) string {
	t.Helper()
	py := os.Getenv("MLBENCH_PYTHON")
	if py == "" {
		py = filepath.Join(Root(t), ".venv", "bin", "python")
	}
	if _, err := os.Stat(py); err != nil {
		Skip(t, "python %s missing (./build.sh makes .venv, or set MLBENCH_PYTHON): %v", py, err)
	}
	for _, m := range modules {
		if out, err := exec.Command(py, "-c", "import "+m).CombinedOutput(); err != nil {
			Skip(t, "%s cannot import %s: %v %s", py, m, err, out)
		}
	}
	return py
}

// Mirror is the offline mirror ($MLBENCH_MIRROR, else ../shared/mirror
// beside the checkout, as on the project's machines); it skips (fails under
// RequireAll) when the folder has no MANIFEST.json.
func Mirror(t testing.TB) string {
	t.Helper()
	m := os.Getenv("MLBENCH_MIRROR")
	if m == "" {
		m = filepath.Join(filepath.Dir(Root(t)), "shared", "mirror")
	}
	if _, err := os.Stat(filepath.Join(m, "MANIFEST.json")); err != nil {
		Skip(t, "no offline mirror at %s (set MLBENCH_MIRROR): %v", m, err)
	}
	return m
}

// MirrorFile is path rel in the mirror; it skips (fails under RequireAll)
// when the file is absent.
func MirrorFile(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Mirror(t), rel)
	if _, err := os.Stat(p); err != nil {
		Skip(t, "mirror file %s absent: %v", p, err)
	}
	return p
}

// Prepared is path rel under the repository's data/processed; it skips
// (fails under RequireAll) when `mlbench data prepare` has not made it.
func Prepared(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Root(t), "data", "processed", rel)
	if _, err := os.Stat(p); err != nil {
		Skip(t, "%s missing (mlbench data prepare): %v", p, err)
	}
	return p
}
