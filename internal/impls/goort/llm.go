package goort

import (
	"fmt"

	"github.com/mlbench/mlbench/bench/worker"
	"github.com/mlbench/mlbench/llm"
	"github.com/mlbench/mlbench/ort"
	"github.com/mlbench/mlbench/tokenize"
)

// ortInfo describes go-ort; its framework version is set from the loaded
// library when a task runs.
var ortInfo = worker.Info{Impl: "go-ort", Framework: "onnxruntime", Available: ortAvailable}

func init() {
	worker.Register("llm/bert-qa", ortInfo, runBertQA)
	worker.Register("llm/gpt2", ortInfo, runGPT2)
}

// ortAvailable reports why go-ort cannot run in this binary, if it cannot.
func ortAvailable() error {
	if !tokenize.Built() {
		return tokenize.ErrNotBuilt
	}
	_, err := ort.LibraryPath()
	return err
}

// startORT loads ONNX Runtime and returns the session options of the
// spec: intra-op threads = spec threads, inter-op 1, ORT_ENABLE_ALL, as
// python-ort and rust-ort.
func startORT(c *worker.Context) (ort.SessionOptions, error) {
	lib, err := ort.LibraryPath()
	if err != nil {
		return ort.SessionOptions{}, err
	}
	if err := ort.Init(lib); err != nil {
		return ort.SessionOptions{}, err
	}
	c.Result.FrameworkVersion = ort.Version()
	opts := ort.SessionOptions{IntraOpThreads: c.Spec.Threads, InterOpThreads: 1, GraphOptLevel: ort.OptAll}
	switch c.Spec.Device {
	case "", "cpu":
	case "cuda":
		opts.CUDA = true
	default:
		return opts, fmt.Errorf("device %q: want cpu or cuda", c.Spec.Device)
	}
	providers := []string{"CPUExecutionProvider"}
	if opts.CUDA {
		providers = append([]string{"CUDAExecutionProvider"}, providers...)
	}
	c.Result.Params["intra_op_num_threads"] = c.Spec.Threads
	c.Result.Params["inter_op_num_threads"] = 1
	c.Result.Params["graph_optimization_level"] = opts.GraphOptLevel.String()
	c.Result.Params["providers"] = providers
	c.Result.Notes = append(c.Result.Notes, fmt.Sprintf(
		"onnxruntime %s (%s) through github.com/yalue/onnxruntime_go %s, %s; intra_op_num_threads=%d, "+
			"inter_op_num_threads=1, sequential, %s; tensors in C memory, outputs preallocated "+
			"(gpt2: the present.* outputs fed back as past_key_values.* without copies)",
		ort.Version(), lib, worker.ModuleVersion("onnxruntime_go"), providers[0], c.Spec.Threads, opts.GraphOptLevel))
	return opts, nil
}

// runBertQA is llm/bert-qa (docs/LLM.md) on ONNX Runtime.
func runBertQA(c *worker.Context) error {
	opts, err := startORT(c)
	if err != nil {
		return err
	}
	return llm.RunBertQA(c, tokenize.Load, func(sp *llm.QASpec) (llm.QAModel, error) {
		return newBertQA(sp.ModelDir, opts)
	})
}

// runGPT2 is llm/gpt2 (docs/LLM.md) on ONNX Runtime.
func runGPT2(c *worker.Context) error {
	opts, err := startORT(c)
	if err != nil {
		return err
	}
	return llm.RunGPT2(c, tokenize.Load, func(sp *llm.GenSpec) (llm.CausalLM, error) {
		return newGPT2(sp.ModelDir, opts)
	})
}
