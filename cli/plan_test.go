package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/pipeline"
)

func TestPlanJSON(t *testing.T) {
	code, out, errOut := run(t, "plan", "--task", "classical/*", "--impl", "go-gonum", "--format", "json")
	require.Equal(t, 0, code, errOut)
	var p pipeline.Plan
	require.NoError(t, json.Unmarshal([]byte(out), &p))
	assert.Equal(t, pipeline.PlanVersion, p.Version)
	assert.Equal(t, bench.SizeQuick, p.Size)
	require.Len(t, p.Jobs, 3)
	assert.Equal(t, []string{"--task", "classical/linreg", "--impl", "go-gonum"}, p.Jobs[0].Args)

	code, out, _ = run(t, "plan", "--task", "classical/svm")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "classical_svm")
}

func TestPlanAndMergeBadInput(t *testing.T) {
	code, _, errOut := run(t, "plan", "--format", "yaml")
	oneLineError(t, code, errOut, "want text or json")
	code, _, errOut = run(t, "plan", "--task", "nope/*")
	oneLineError(t, code, errOut, "no task matches")
	code, _, errOut = run(t, "plan", "classical/svm")
	oneLineError(t, code, errOut, "unexpected argument")
	code, _, errOut = run(t, "merge")
	oneLineError(t, code, errOut, "merge needs OUT")
	dir := t.TempDir()
	code, _, errOut = run(t, "merge", filepath.Join(dir, "out"), dir)
	oneLineError(t, code, errOut, "not the results directory of a finished `mlbench run`")
	bad := filepath.Join(dir, "plan.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"jobs": []}`), 0o644))
	code, _, errOut = run(t, "merge", "--plan", bad, filepath.Join(dir, "out"))
	oneLineError(t, code, errOut, "not a plan of this mlbench")
}

// A plan whose every job was lost merges into failed results: exit 3.
func TestMergeOfLostJobsFails(t *testing.T) {
	dir := t.TempDir()
	code, planJSON, _ := run(t, "plan", "--task", "classical/linreg", "--impl", "go-gonum", "--format", "json")
	require.Equal(t, 0, code)
	plan := filepath.Join(dir, "plan.json")
	require.NoError(t, os.WriteFile(plan, []byte(planJSON), 0o644))
	out := filepath.Join(dir, "out")
	code, md, errOut := run(t, "merge", "--plan", plan, out)
	assert.Equal(t, ExitFailed, code, errOut)
	assert.Contains(t, md, "FAILED: no result: pipeline job classical_linreg ended without results")
	assert.FileExists(t, filepath.Join(out, "run.json"))
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	require.NoError(t, err, "the merge writes the HTML report too")
	assert.Contains(t, string(page), "classical/linreg")
	assert.Contains(t, errOut, "HTML report: "+filepath.Join(out, "report.html"))
}

// `plan --size sweep` lists the tasks that have a sweep, with one case per
// point of the sweep; the default plan (quick) has none of them.
func TestPlanSweepJSON(t *testing.T) {
	code, out, errOut := run(t, "plan", "--size", "sweep", "--format", "json")
	require.Equal(t, 0, code, errOut)
	var p pipeline.Plan
	require.NoError(t, json.Unmarshal([]byte(out), &p))
	assert.Equal(t, bench.SizeSweep, p.Size)
	got := map[string][]string{}
	for _, j := range p.Jobs {
		got[j.Task] = j.Variants
	}
	assert.Equal(t, map[string][]string{
		"dl/cnn":      {"batch_size=16", "batch_size=64", "batch_size=256"},
		"llm/bert-qa": {"seq_len=16", "seq_len=32", "seq_len=64", "seq_len=128", "seq_len=256", "seq_len=384"},
		"llm/gpt2":    {"prompt_len=8", "prompt_len=64", "prompt_len=512", "batch=1", "batch=2", "batch=4", "batch=8"},
	}, got)

	code, out, errOut = run(t, "plan", "--format", "json")
	require.Equal(t, 0, code, errOut)
	assert.NotContains(t, out, "seq_len=")
	assert.NotContains(t, out, "batch_size=")
	assert.NotContains(t, out, `"batch=`)

	code, _, errOut = run(t, "plan", "--size", "huge")
	oneLineError(t, code, errOut, "want quick, full or sweep")
	code, _, errOut = run(t, "run", "--size", "huge")
	oneLineError(t, code, errOut, "want quick, full or sweep")
	code, _, errOut = run(t, "run", "--size", "sweep", "--task", "llm/gpt2", "--variant", "n=10")
	oneLineError(t, code, errOut, `no case matches --variant "n=10" (variants of the selection: prompt_len=8,`)
}
