package impls

import (
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/mlbench/mlbench/bench/worker"
	"github.com/mlbench/mlbench/data"
	"github.com/mlbench/mlbench/ort"
	"github.com/mlbench/mlbench/stats"
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

// Probe sizes of docs/LLM.md.
const (
	probeQuestions = 20
	probePositions = 64
)

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

// intParam is the integer parameter name, or def when it is absent.
func intParam(c *worker.Context, name string, def int) (int, error) {
	if _, ok := c.Spec.Params[name]; !ok {
		return def, nil
	}
	return c.Spec.Int(name)
}

func trained(c *worker.Context) bool {
	t, _ := c.Spec.Params["trained"].(bool)
	return t
}

func percentile(v []float64, q float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return stats.Quantile(s, q/100)
}

func seconds(t0 time.Time) float64 { return time.Since(t0).Seconds() }

type squadQuestion struct {
	question, context string
	answers           []string
}

func loadSQuAD(path string, limit int) ([]squadQuestion, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, _, _, _, _, err := data.ParseSQuAD(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var qs []squadQuestion
	for _, a := range s.Data {
		for _, p := range a.Paragraphs {
			for _, qa := range p.QAs {
				q := squadQuestion{question: qa.Question, context: p.Context}
				for _, ans := range qa.Answers {
					q.answers = append(q.answers, ans.Text)
				}
				qs = append(qs, q)
			}
		}
	}
	if limit > 0 && limit < len(qs) {
		qs = qs[:limit]
	}
	return qs, nil
}

// runBertQAORT is llm/bert-qa (docs/LLM.md) on ONNX Runtime.
func runBertQAORT(c *worker.Context) error {
	var p [5]int
	for i, d := range []struct {
		name string
		def  int
	}{{"max_length", 384}, {"stride", 128}, {"n_best", 20}, {"max_answer_length", 30}, {"limit", 0}} {
		v, err := intParam(c, d.name, d.def)
		if err != nil {
			return err
		}
		p[i] = v
		c.Result.Params[d.name] = v
	}
	c.Result.Params["max_question_tokens"] = ort.MaxQuestionTokens
	modelDir, err := c.Spec.Input("model_dir")
	if err != nil {
		return err
	}
	tokPath, err := c.Spec.Input("tokenizer")
	if err != nil {
		return err
	}
	squadPath, err := c.Spec.Input("squad")
	if err != nil {
		return err
	}
	qs, err := loadSQuAD(squadPath, p[4])
	if err != nil {
		return err
	}
	opts, err := startORT(c)
	if err != nil {
		return err
	}

	var b *ort.BertQA
	t0 := time.Now()
	if b, err = ort.NewBertQA(modelDir, tokPath, opts); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	c.Add("load", seconds(t0))
	defer b.Close()
	b.MaxLength, b.Stride, b.NBest, b.MaxAnswerLength = p[0], p[1], p[2], p[3]

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

	return runQARequests(c, qs, request)
}

// runGPT2ORT is llm/gpt2 (docs/LLM.md) on ONNX Runtime.
func runGPT2ORT(c *worker.Context) error {
	newTokens, err := intParam(c, "new_tokens", 150)
	if err != nil {
		return err
	}
	if newTokens < 1 {
		return fmt.Errorf("new_tokens %d: want >= 1", newTokens)
	}
	limit, err := intParam(c, "limit", 0)
	if err != nil {
		return err
	}
	c.Result.Params["new_tokens"], c.Result.Params["limit"], c.Result.Params["eos_stops"] = newTokens, limit, false
	modelDir, err := c.Spec.Input("model_dir")
	if err != nil {
		return err
	}
	tokPath, err := c.Spec.Input("tokenizer")
	if err != nil {
		return err
	}
	promptsPath, err := c.Spec.Input("prompts")
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(promptsPath)
	if err != nil {
		return err
	}
	pf, err := data.ParsePrompts(raw)
	if err != nil {
		return err
	}
	prompts := pf.Prompts
	if limit > 0 && limit < len(prompts) {
		prompts = prompts[:limit]
	}
	opts, err := startORT(c)
	if err != nil {
		return err
	}

	var g *ort.GPT2
	t0 := time.Now()
	if g, err = ort.NewGPT2(modelDir, tokPath, opts); err != nil {
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
		gen, err := g.Generate(ids, newTokens)
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
	return runGenRequests(c, prompts, request)
}
