// Package modeltest finds what the tests of models and of the go-libtorch
// implementations need: the repository's Python environment and the tiny
// test models of docs/LLM.md (`reference/python/models.py --tiny`), made on
// first use. Tests skip when these cannot be had, and fail instead under
// MLBENCH_REQUIRE_ALL=1 (package testenv).
package modeltest

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/mlbench/mlbench/internal/testenv"
)

// Root is the repository root (testenv.Root).
func Root(t testing.TB) string { return testenv.Root(t) }

// Python is the project's interpreter (testenv.Python).
func Python(t testing.TB) string { return testenv.Python(t) }

// TinyModels returns a folder holding bert-qa/ and gpt2/ of the tiny test
// configuration (2 layers, hidden 64, 2 heads; full vocabularies), with
// config.json, model.safetensors, model.onnx and tokenizer.json. The folder
// is $MLBENCH_TINY_MODELS, or mlbench-tiny-models in the temporary
// directory; models.py makes it on first use (about a minute) and skips
// models that are up to date (seconds). A file lock keeps test processes
// that run at once from writing it together.
func TinyModels(t testing.TB) string {
	t.Helper()
	root := Root(t)
	py := Python(t)
	tok := testenv.Prepared(t, "tokenizers")
	out := os.Getenv("MLBENCH_TINY_MODELS")
	if out == "" {
		out = filepath.Join(os.TempDir(), "mlbench-tiny-models")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(out+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck
	cmd := exec.Command(py, filepath.Join(root, "reference", "python", "models.py"),
		"--tiny", "--out", out, "--tokenizers", tok)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("models.py --tiny: %v\n%s", err, b)
	}
	return out
}
