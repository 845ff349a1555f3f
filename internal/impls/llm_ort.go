package impls

import (
	"fmt"
	"time"

	"github.com/mlbench/mlbench/bench/worker"
	"github.com/mlbench/mlbench/ort"
	"github.com/mlbench/mlbench/tokenize"
)

// ortInfo describes go-ort; its framework version is set from the loaded
// library when a task runs.
var ortInfo = worker.Info{Impl: "go-ort", Framework: "onnxruntime", Available: ortAvailable}

func init() {
	worker.Register("llm/bert-qa", ortInfo, runBertQAORT)
	worker.Register("llm/gpt2", ortInfo, runGPT2ORT)
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

func seconds(t0 time.Time) float64 { return time.Since(t0).Seconds() }

// runBertQAORT is llm/bert-qa (docs/LLM.md) on ONNX Runtime.
func runBertQAORT(c *worker.Context) error {
	sp, err := readQASpec(c)
	if err != nil {
		return err
	}
	opts, err := startORT(c)
	if err != nil {
		return err
	}

	var b *ort.BertQA
	t0 := time.Now()
	if b, err = ort.NewBertQA(sp.modelDir, sp.tokenizer, opts); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	c.Add("load", seconds(t0))
	defer b.Close()
	b.MaxLength, b.Stride, b.NBest, b.MaxAnswerLength = sp.maxLength, sp.stride, sp.nBest, sp.maxAnswerLength

	request := func(q squadQuestion, timed bool) (*qaOutcome, error) {
		var e *ort.Encoded
		var o qaOutcome
		if err := c.Time(timed, "tokenize", func() (err error) {
			e, err = b.Tokenize(q.question, q.context)
			return err
		}); err != nil {
			return nil, err
		}
		if err := c.Time(timed, "model", func() (err error) {
			o.start, o.end, err = b.Model(e)
			return err
		}); err != nil {
			return nil, err
		}
		if err := c.Time(timed, "postprocess", func() error {
			a, err := b.Postprocess(e, o.start, o.end)
			o.answer = a.Text
			return err
		}); err != nil {
			return nil, err
		}
		o.windows = len(e.Windows)
		return &o, nil
	}

	return runQARequests(c, sp.questions, request)
}

// runGPT2ORT is llm/gpt2 (docs/LLM.md) on ONNX Runtime.
func runGPT2ORT(c *worker.Context) error {
	sp, err := readGenSpec(c)
	if err != nil {
		return err
	}
	opts, err := startORT(c)
	if err != nil {
		return err
	}

	var g *ort.GPT2
	t0 := time.Now()
	if g, err = ort.NewGPT2(sp.modelDir, sp.tokenizer, opts); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	c.Add("load", seconds(t0))
	defer g.Close()

	request := func(prompt string, timed bool) (*ort.Generation, error) {
		var ids []int64
		if err := c.Time(timed, "tokenize", func() (err error) {
			ids, _, err = g.Tok.Encode(prompt, false)
			return err
		}); err != nil {
			return nil, err
		}
		gen, err := g.Generate(ids, sp.newTokens)
		if err != nil {
			return nil, err
		}
		if timed {
			c.Add("ttft", gen.TTFT)
			for _, d := range gen.PerToken {
				c.Add("per_token", d)
			}
		}
		return gen, nil
	}
	return runGenRequests(c, sp.prompts, request)
}
