package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// copyRun copies the results of report/testdata/NAME into a new directory.
func copyRun(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join("..", "report", "testdata", name)
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".result.json") {
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644))
		}
	}
	return dst
}

func TestReportHTML(t *testing.T) {
	dir := copyRun(t, "run1")
	code, out, errOut := run(t, "report", "--format", "html", dir)
	require.Equal(t, 0, code, errOut)
	page := filepath.Join(dir, "report.html")
	assert.Equal(t, page+"\n", out)
	b, err := os.ReadFile(page)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(b), "<!DOCTYPE html>"))
	assert.Contains(t, string(b), "<svg ")
	fi, err := os.Stat(page)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm())

	other := filepath.Join(t.TempDir(), "r.html")
	code, out, errOut = run(t, "report", "--format", "html", "--output", other, dir)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, other+"\n", out)
	assert.FileExists(t, other)

	code, _, errOut = run(t, "report", "--output", other, dir)
	oneLineError(t, code, errOut, "--output is for --format html")
}

func TestReportPlots(t *testing.T) {
	dir := copyRun(t, "run1")
	for _, f := range []string{"svg", "png"} {
		plots := filepath.Join(t.TempDir(), "plots")
		code, out, errOut := run(t, "report", "--plots", plots, "--plot-format", f, dir)
		require.Equal(t, 0, code, errOut)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		require.Len(t, lines, 9, out) // the paths (kmeans: two scaling plots), no table
		for _, p := range lines {
			assert.True(t, strings.HasPrefix(p, plots+string(filepath.Separator)) && strings.HasSuffix(p, "."+f), p)
			fi, err := os.Stat(p)
			require.NoError(t, err)
			assert.Positive(t, fi.Size())
		}
	}
	code, _, errOut := run(t, "report", "--plots", t.TempDir(), "--plot-format", "gif", dir)
	oneLineError(t, code, errOut, `unknown plot format "gif"`)
}

// Bad input never leaves a report.html behind, whole or half.
func TestReportHTMLBadInput(t *testing.T) {
	empty := t.TempDir()
	code, _, errOut := run(t, "report", "--format", "html", empty)
	oneLineError(t, code, errOut, "no results in")

	for name, body := range map[string]string{
		"corrupt": "{truncated",
		"schema":  `{"schema_version": 2, "task": "classical/svm", "impl": "go-gonum"}`,
	} {
		dir := copyRun(t, "run2")
		require.NoError(t, os.WriteFile(filepath.Join(dir, "x.result.json"), []byte(body), 0o644))
		code, _, errOut := run(t, "report", "--format", "html", dir)
		want := map[string]string{"corrupt": "invalid result JSON", "schema": "schema_version 2, want 1"}[name]
		oneLineError(t, code, errOut, want)
		ents, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, e := range ents {
			assert.False(t, strings.HasSuffix(e.Name(), ".html") || strings.HasPrefix(e.Name(), "."), "%s left behind", e.Name())
		}
	}
}

func TestCompareHTML(t *testing.T) {
	old, cur := copyRun(t, "run1"), copyRun(t, "run2")
	code, out, errOut := run(t, "compare", "--format", "html", old, cur)
	require.Equal(t, 0, code, errOut)
	assert.True(t, strings.HasPrefix(out, "<!DOCTYPE html>"))
	assert.Contains(t, out, "vs base")

	page := filepath.Join(t.TempDir(), "c.html")
	code, out, errOut = run(t, "compare", "--format", "html", "--output", page, old, cur)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, page+"\n", out)
	assert.FileExists(t, page)
}
