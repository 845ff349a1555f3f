package bench

import (
	"fmt"
	"slices"

	"github.com/mlbench/mlbench/data"
)

// SizeSweep is the size whose cases are the scaling sweeps: each task's
// work at several batch sizes or sequence lengths, so a report can show how
// each implementation scales. Tasks without a sweep have no cases at it, and
// a run of another size has no sweep case.
const SizeSweep = "sweep"

// Sizes are the sizes a run can have.
var Sizes = []string{SizeQuick, SizeFull, SizeSweep}

// CheckSize is an error unless size is one of Sizes.
func CheckSize(size string) error {
	if !slices.Contains(Sizes, size) {
		return fmt.Errorf("size %q: want quick, full or sweep", size)
	}
	return nil
}

// SweepAxes are the parameters a task's sweep varies, one per group of
// its variants ("name=value" names it; the report shows each group as one
// scaling table), none when the task has no sweep.
func (t *Task) SweepAxes() []string { return sweepAxes[t.ID] }

var sweepAxes = map[string][]string{"dl/cnn": {"batch_size"}, "llm/bert-qa": {"seq_len"}, "llm/gpt2": {"prompt_len", "batch"}}

// CNN sweep: a fixed number of Adam steps at each batch size, from the same
// initial weights, over the first steps*batch samples of the full order's
// first epoch (the quick order's 5,000 samples are fewer than 20 batches of
// 256).
var (
	SweepCNNBatches = []int{16, 64, 256}
	SweepCNNSteps   = 20 // >= 10: the loss_steps probe holds 10 steps
)

// SweepGPT2NewTokens is the number of tokens each sweep prompt generates.
const SweepGPT2NewTokens = 64

func cnnSweepCases() []Case {
	var cs []Case
	for _, b := range SweepCNNBatches {
		cs = append(cs, Case{
			Variant: fmt.Sprintf("batch_size=%d", b),
			Inputs: in("train_x", "data:cifar10/train_x.npy", "train_y", "data:cifar10/train_y.npy",
				"test_x", "data:cifar10/test_x.npy", "test_y", "data:cifar10/test_y.npy",
				"order", "data:cifar10/order_full.npy", "init", "data:cifar10/init.safetensors"),
			Datasets: []string{"cifar10"},
			Params: map[string]any{"epochs": 1, "batch_size": b, "steps": SweepCNNSteps, "lr": 1e-3,
				"mean": cifarMean, "std": cifarStd, "seed": 0},
		})
	}
	return cs
}

func bertSweepCases() []Case {
	var cs []Case
	for _, l := range data.SweepSeqLens {
		cs = append(cs, Case{
			Variant: fmt.Sprintf("seq_len=%d", l),
			// The tokenizer is not used on fixed ids, but the Python and
			// Rust loaders open it with the model, as in the workload.
			Inputs: in("model_dir", "models:bert-qa", "tokenizer", "models:bert-qa/tokenizer.json", "ids", "data:llm_sweep/"+data.SweepBERTIDs(l),
				"token_type_ids", "data:llm_sweep/"+data.SweepBERTTypes(l)),
			Datasets: []string{"llm_sweep"},
			Params:   map[string]any{"seq_len": l},
		})
	}
	return cs
}

func gpt2SweepCases() []Case {
	var cs []Case
	for _, l := range data.SweepPromptLens {
		cs = append(cs, Case{
			Variant: fmt.Sprintf("prompt_len=%d", l),
			Inputs: in("model_dir", "models:gpt2", "tokenizer", "models:gpt2/tokenizer.json",
				"prompt_ids", "data:llm_sweep/"+data.SweepGPT2Prompts(l)),
			Datasets: []string{"llm_sweep"},
			Params:   map[string]any{"prompt_len": l, "new_tokens": SweepGPT2NewTokens},
		})
	}
	// The batch sweep: the same rows (and so the same number of generated
	// tokens) at every batch size, cut into batches of consecutive rows
	// that decode together (docs/LLM.md).
	for _, b := range data.SweepBatches {
		cs = append(cs, Case{
			Variant: fmt.Sprintf("batch=%d", b),
			Inputs: in("model_dir", "models:gpt2", "tokenizer", "models:gpt2/tokenizer.json",
				"prompt_ids", "data:llm_sweep/"+data.SweepGPT2BatchPrompts),
			Datasets: []string{"llm_sweep"},
			Params:   map[string]any{"prompt_len": data.SweepBatchPromptLen, "new_tokens": SweepGPT2NewTokens, "batch": b},
		})
	}
	return cs
}
