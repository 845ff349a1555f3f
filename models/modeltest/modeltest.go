// Package modeltest finds what the tests of models and of the go-libtorch
// implementations need: the repository's Python environment and the tiny
// test models of docs/LLM.md (`reference/python/models.py --tiny`), made on
// first use. Tests skip (never fail) when these cannot be had.
package modeltest

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// Root is the repository root (the folder holding go.mod above the working
// directory); the test is skipped when there is none.
func Root(t testing.TB) string {
	t.Helper()
	d, err := os.Getwd()
	if err != nil {
		t.Skipf("no working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		p := filepath.Dir(d)
		if p == d {
			t.Skip("no go.mod above the working directory")
		}
		d = p
	}
}

// Python is the repository's virtual environment's interpreter
// ($MLBENCH_PYTHON overrides it); the test is skipped when it is absent.
func Python(t testing.TB) string {
	t.Helper()
	py := os.Getenv("MLBENCH_PYTHON")
	if py == "" {
		py = filepath.Join(Root(t), ".venv", "bin", "python")
	}
	if _, err := os.Stat(py); err != nil {
		t.Skipf("python %s missing (./build.sh makes .venv): %v", py, err)
	}
	return py
}

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
	tok := filepath.Join(root, "data", "processed", "tokenizers")
	if _, err := os.Stat(tok); err != nil {
		t.Skipf("%s missing (mlbench data prepare): %v", tok, err)
	}
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
