package cli

import (
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlbench/mlbench/bench"
)

// Every command's documented form, with flags after the arguments, is
// reordered so that urfave/cli parses the flags (it stops at the first
// argument).
func TestInterspersedEveryCommand(t *testing.T) {
	app := New(io.Discard, io.Discard)
	for _, c := range []struct{ in, want string }{
		{"report DIR --format csv", "report --format csv DIR"},
		{"report DIR --format=json", "report --format=json DIR"},
		{"compare OLD NEW --format json", "compare --format json OLD NEW"},
		{"compare OLD --format json NEW", "compare --format json OLD NEW"},
		{"--root R report DIR --format csv", "--root R report --format csv DIR"},
		{"run --task classical/* --resume --out O", "run --task classical/* --resume --out O"},
		{"run extra --threads 2", "run --threads 2 extra"},
		{"list --help", "list --help"},
		{"env x --help", "env --help x"},
		{"data prepare --dataset digits", "data prepare --dataset digits"},
		{"data list x --mirror M", "data list --mirror M x"},
		{"models prepare x --model gpt2", "models prepare --model gpt2 x"},
		{"worker x --spec S", "worker --spec S x"},
		{"report -- --odd-dir --format csv", "report -- --odd-dir --format csv"},
		{"--version", "--version"},
	} {
		got := interspersed(app, append([]string{"mlbench"}, strings.Fields(c.in)...))
		assert.Equal(t, append([]string{"mlbench"}, strings.Fields(c.want)...), got, c.in)
	}
}

func TestReportAndCompareFlagsAfterArguments(t *testing.T) {
	dir := t.TempDir()
	r := &bench.Result{SchemaVersion: 1, Task: "classical/svm", Impl: "python-sklearn", Language: "python",
		Status: bench.StatusOK, Phases: map[string][]float64{"fit": {0.030, 0.031, 0.029}}}
	require.NoError(t, bench.WriteJSONAtomic(filepath.Join(dir, bench.ResultFileName(r)), r))

	code, out, errOut := run(t, "report", dir, "--format", "csv")
	require.Equal(t, 0, code, errOut)
	assert.True(t, strings.HasPrefix(out, "task,"), "CSV header first: %q", out)
	code, out, errOut = run(t, "compare", dir, dir, "--format", "json")
	require.Equal(t, 0, code, errOut)
	assert.True(t, strings.HasPrefix(strings.TrimSpace(out), "{") || strings.HasPrefix(strings.TrimSpace(out), "["), out)
	code, _, errOut = run(t, "report", dir, "--format", "xml")
	oneLineError(t, code, errOut, `unknown format "xml"`)
	code, _, errOut = run(t, "run", "--task", "nope/*", "stray")
	oneLineError(t, code, errOut, `unexpected argument "stray"`)
	code, _, errOut = run(t, "data", "list", "stray", "--mirror", dir)
	assert.NotEqual(t, 0, code, errOut)
}

func TestVersion(t *testing.T) {
	for _, flag := range []string{"--version", "-v"} {
		code, out, errOut := run(t, flag)
		require.Equal(t, 0, code, errOut)
		assert.True(t, strings.HasPrefix(out, "mlbench version "), out)
		assert.Contains(t, out, "go1.")
	}
	old := commit
	commit = "abc1234-dirty"
	defer func() { commit = old }()
	assert.Contains(t, Version(), "commit abc1234-dirty")
}
