package bench

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSweepPlan(t *testing.T) {
	ts, impls, err := Select(Tasks, Selection{})
	require.NoError(t, err)
	jobs := Plan(ts, impls, SizeSweep)
	variants := map[string][]string{}
	perCase := map[string]int{}
	for _, j := range jobs {
		axes := j.Task.SweepAxes()
		require.NotEmpty(t, axes, "%s has no sweep but a sweep job", j.Task.ID)
		name, value, ok := strings.Cut(j.Case.Variant, "=")
		require.True(t, ok, j.Case.Variant)
		assert.Contains(t, axes, name)
		assert.Equal(t, value, fmt.Sprint(j.Case.Params[name]), "the variant names its parameter's value")
		if perCase[j.Task.ID+" "+j.Case.Variant] == 0 {
			variants[j.Task.ID] = append(variants[j.Task.ID], j.Case.Variant)
			assert.Equal(t, j.Task.Reference, j.Impl.ID, "the reference runs first in every case")
		}
		perCase[j.Task.ID+" "+j.Case.Variant]++
	}
	assert.Equal(t, map[string][]string{
		"dl/cnn":      {"batch_size=16", "batch_size=64", "batch_size=256"},
		"llm/bert-qa": {"seq_len=16", "seq_len=32", "seq_len=64", "seq_len=128", "seq_len=256", "seq_len=384"},
		"llm/gpt2": {"prompt_len=8", "prompt_len=64", "prompt_len=512",
			"batch=1", "batch=2", "batch=4", "batch=8"},
	}, variants)
	for k, n := range perCase {
		task, _, _ := strings.Cut(k, " ")
		tk, err := LookupTask(task)
		require.NoError(t, err)
		assert.Equal(t, len(tk.Impls), n, "%s: every implementation in every case", k)
	}
	cnn, _ := LookupTask("dl/cnn")
	for _, c := range cnn.Cases(SizeSweep) {
		assert.Equal(t, SweepCNNSteps, c.Params["steps"])
		assert.Equal(t, 1, c.Params["epochs"])
	}
	assert.GreaterOrEqual(t, SweepCNNSteps, 10, "the loss_steps parity rule reads steps 1 and 10")
	assert.LessOrEqual(t, SweepCNNSteps*SweepCNNBatches[len(SweepCNNBatches)-1], 50000, "the steps fit in one epoch of the full order")
}

// quick and full are unchanged by the sweeps: no sweep input or parameter.
func TestSweepNotInQuickOrFull(t *testing.T) {
	for _, size := range []string{SizeQuick, SizeFull} {
		for _, t0 := range Tasks {
			for _, c := range t0.Cases(size) {
				for _, p := range []string{"steps", "seq_len", "prompt_len", "batch"} {
					assert.NotContains(t, c.Params, p, "%s %s", t0.ID, size)
				}
				assert.NotContains(t, c.Datasets, "llm_sweep")
			}
		}
	}
}

func TestSweepSizeAndDefaults(t *testing.T) {
	for _, s := range Sizes {
		require.NoError(t, CheckSize(s))
	}
	require.ErrorContains(t, CheckSize("huge"), `size "huge": want quick, full or sweep`)
	for _, t0 := range Tasks {
		if len(t0.SweepAxes()) == 0 {
			assert.Empty(t, t0.Cases(SizeSweep), t0.ID)
			continue
		}
		assert.NotEmpty(t, t0.Cases(SizeSweep), t0.ID)
		assert.Positive(t, t0.Defaults(SizeSweep).Reps, "%s: sweep repetitions", t0.ID)
	}
}

// Every LLM sweep case carries the inputs the workload's loaders open, the
// tokenizer included: python-*, rust-* load it with the model even on fixed
// ids, and failed with "input tokenizer missing" without it.
func TestSweepCasesCarryTheLoadersInputs(t *testing.T) {
	for _, id := range []string{"llm/bert-qa", "llm/gpt2"} {
		task, err := LookupTask(id)
		require.NoError(t, err)
		quick := task.Cases(SizeQuick)[0].Inputs
		for _, c := range task.Cases(SizeSweep) {
			for _, name := range []string{"model_dir", "tokenizer"} {
				assert.Equal(t, quick[name], c.Inputs[name], "%s %s %s", id, c.Variant, name)
			}
		}
	}
}

func TestSelectVariants(t *testing.T) {
	gpt2, err := LookupTask("llm/gpt2")
	require.NoError(t, err)
	jobs := Plan([]*Task{gpt2}, map[string][]ImplRef{gpt2.ID: gpt2.Impls}, SizeSweep)
	all, err := SelectVariants(jobs, "*")
	require.NoError(t, err)
	assert.Equal(t, jobs, all)
	batch, err := SelectVariants(jobs, "batch=*,prompt_len=8")
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, j := range batch {
		seen[j.Case.Variant] = true
	}
	assert.Equal(t, map[string]bool{"batch=1": true, "batch=2": true, "batch=4": true, "batch=8": true, "prompt_len=8": true}, seen)
	assert.Len(t, batch, 5*len(gpt2.Impls))
	_, err = SelectVariants(jobs, "n=1000")
	require.ErrorContains(t, err, `no case matches --variant "n=1000" (variants of the selection: prompt_len=8, prompt_len=64, prompt_len=512, batch=1,`)
	_, err = SelectVariants(jobs, "a,,b")
	require.Error(t, err)
	// A task's single case has the variant "": only "*" (or a glob matching
	// the empty name) keeps it.
	quick := Plan([]*Task{gpt2}, map[string][]ImplRef{gpt2.ID: gpt2.Impls}, SizeQuick)
	kept, err := SelectVariants(quick, "*")
	require.NoError(t, err)
	assert.Len(t, kept, len(quick))
	_, err = SelectVariants(quick, "batch=*")
	require.ErrorContains(t, err, "variants of the selection: none")
}
