package pipeline

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlbench/mlbench/bench"
)

// key is one (task, case, implementation).
type key struct{ task, variant, impl string }

// planKeys are the jobs of a plan, expanded to (task, case, implementation).
func planKeys(p *Plan) []key {
	var ks []key
	for _, j := range p.Jobs {
		for _, v := range j.Variants {
			for _, i := range j.Impls {
				ks = append(ks, key{j.Task, v, i})
			}
		}
	}
	return ks
}

// runKeys are the jobs `mlbench run` makes of a selection.
func runKeys(t *testing.T, sel bench.Selection, size string) []key {
	ts, impls, err := bench.Select(bench.Tasks, sel)
	require.NoError(t, err)
	var ks []key
	for _, j := range bench.Plan(ts, impls, size) {
		ks = append(ks, key{j.Task.ID, j.Case.Variant, j.Impl.ID})
	}
	return ks
}

func TestPlanCoversWhatRunRuns(t *testing.T) {
	for _, tc := range []struct {
		sel  bench.Selection
		size string
		jobs int
	}{
		{bench.Selection{Task: "classical/*"}, bench.SizeQuick, 3},
		{bench.Selection{Task: "classical/*", Impl: "go-*"}, bench.SizeQuick, 3},
		{bench.Selection{Task: "classical/kmeans", Impl: "rust-*"}, bench.SizeFull, 1},
		{bench.Selection{Task: "*/*", Impl: "*-ort"}, bench.SizeQuick, 2},
	} {
		p, err := MakePlan(bench.Tasks, tc.sel, tc.size)
		require.NoError(t, err, tc.sel)
		assert.Len(t, p.Jobs, tc.jobs, tc.sel)
		assert.ElementsMatch(t, runKeys(t, tc.sel, tc.size), planKeys(p), "plan %v = run %v", tc.sel, tc.sel)
		names := map[string]bool{}
		for _, j := range p.Jobs {
			assert.False(t, names[j.Name], "job names are unique: %s", j.Name)
			names[j.Name] = true
			assert.Regexp(t, `^[A-Za-z0-9._-]+$`, j.Name)
			require.NotEmpty(t, j.Impls)
			assert.Equal(t, j.Reference, j.Impls[0], "the reference runs first")
			assert.NotEmpty(t, j.Datasets)
			// Each job's own arguments select exactly that job.
			require.Len(t, j.Args, 4)
			one := bench.Selection{Task: j.Args[1], Impl: j.Args[3]}
			var want []key
			for _, k := range planKeys(p) {
				if k.task == j.Task {
					want = append(want, k)
				}
			}
			assert.ElementsMatch(t, want, runKeys(t, one, tc.size), j.Name)
		}
	}
}

func TestPlanKMeansFullHasEveryCase(t *testing.T) {
	p, err := MakePlan(bench.Tasks, bench.Selection{Task: "classical/kmeans", Impl: "go-gonum"}, bench.SizeFull)
	require.NoError(t, err)
	require.Len(t, p.Jobs, 1)
	j := p.Jobs[0]
	assert.Equal(t, []string{"python-sklearn", "go-gonum"}, j.Impls)
	assert.Equal(t, []string{"n=1000", "n=10000", "n=100000", "n=1000000"}, j.Variants)
	assert.Equal(t, []string{"blobs/n1000", "blobs/n10000", "blobs/n100000", "blobs/n1000000"}, j.Datasets)
	assert.Equal(t, []string{"--task", "classical/kmeans", "--impl", "go-gonum"}, j.Args)
}

func TestPlanEmptyImplMeansEvery(t *testing.T) {
	p, err := MakePlan(bench.Tasks, bench.Selection{Task: "classical/svm"}, bench.SizeQuick)
	require.NoError(t, err)
	require.Len(t, p.Jobs, 1)
	assert.Equal(t, "*", p.Jobs[0].Args[3])
	task, err := bench.LookupTask("classical/svm")
	require.NoError(t, err)
	assert.Len(t, p.Jobs[0].Impls, len(task.Impls))
}

func TestPlanBadInput(t *testing.T) {
	_, err := MakePlan(bench.Tasks, bench.Selection{Task: "nope/*"}, bench.SizeQuick)
	assert.ErrorContains(t, err, "no task matches")
	_, err = MakePlan(bench.Tasks, bench.Selection{Task: "classical/["}, bench.SizeQuick)
	assert.ErrorContains(t, err, "bad pattern")
	_, err = MakePlan(bench.Tasks, bench.Selection{Task: "classical/*"}, "huge")
	assert.ErrorContains(t, err, "want quick, full or sweep")
}

func TestPlanText(t *testing.T) {
	p, err := MakePlan(bench.Tasks, bench.Selection{Task: "classical/*", Impl: "go-gonum"}, bench.SizeQuick)
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, p.WriteText(&b))
	lines := bytes.Split(bytes.TrimSpace(b.Bytes()), []byte("\n"))
	require.Len(t, lines, 4)
	assert.Contains(t, string(lines[1]), "classical_linreg")
	assert.Contains(t, string(lines[1]), "python-sklearn, go-gonum")
	assert.Contains(t, string(lines[2]), "classical/svm")
}
