package llm

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/mlbench/mlbench/bench/worker"
	"github.com/mlbench/mlbench/data"
	"github.com/mlbench/mlbench/stats"
)

// Probe sizes of docs/LLM.md.
const (
	probeQuestions = 20
	probePositions = 64
)

// QASpec is what an llm/bert-qa spec asks for (docs/LLM.md): the
// windowing and answer parameters, the model directory, the tokenizer file
// and the questions (the first limit of them when limit > 0).
type QASpec struct {
	QAParams
	ModelDir, Tokenizer string
	Questions           []Question
}

// GenSpec is what an llm/gpt2 spec asks for (docs/LLM.md): the number of
// ids to generate after each prompt, the model directory, the tokenizer
// file and the prompts (the first limit of them when limit > 0).
type GenSpec struct {
	NewTokens           int
	ModelDir, Tokenizer string
	Prompts             []string
}

// Question is one SQuAD question with its context and gold answer texts.
type Question struct {
	Question, Context string
	Answers           []string
}

// RunBertQA is the llm/bert-qa workload of docs/LLM.md on one backend: it
// reads the spec, times opening the tokenizer and the model as the "load"
// phase, runs
// the warm-up requests and the timed passes over the questions with Ask,
// then records the latency metrics, the SQuAD scores (trained weights only)
// and the probes.
func RunBertQA[T Tokenizer](c *worker.Context, openTok func(path string) (T, error), openModel func(sp *QASpec) (QAModel, error)) error {
	if isBertQASweep(c) {
		return runBertQASweep(c, openModel) // --size sweep: fixed token ids
	}
	sp, err := ReadQASpec(c)
	if err != nil {
		return err
	}
	tok, m, err := timedLoad(c, sp.Tokenizer, openTok, func() (QAModel, error) { return openModel(sp) })
	if err != nil {
		return err
	}
	defer tok.Close()
	defer m.Close()
	ask := func(q Question, timed bool) (*QAOutcome, error) {
		return Ask(tok, m, sp.QAParams, c.Time, timed, q.Question, q.Context)
	}
	for i := 0; i < c.Spec.Warmup; i++ {
		if _, err := ask(sp.Questions[0], false); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	var starts, ends, answers []float64
	var em, f1 float64
	windows := 0
	for rep := 0; rep < c.Spec.Reps; rep++ {
		for k, q := range sp.Questions {
			o, err := ask(q, true)
			if err != nil {
				return fmt.Errorf("question %d: %w", k, err)
			}
			if rep > 0 {
				continue
			}
			windows += o.Windows
			if k < probeQuestions {
				starts = appendHead(starts, o.Start[0], probePositions)
				ends = appendHead(ends, o.End[0], probePositions)
			}
			answers = append(answers, float64(AnswerHash(o.Answer.Text)))
			e, f := SQuADScores(q.Answers, o.Answer.Text)
			em += e
			f1 += f
		}
	}
	if err := qaMetrics(c, len(sp.Questions), windows, em, f1); err != nil {
		return err
	}
	c.Result.Probes["start_logits"] = starts
	c.Result.Probes["end_logits"] = ends
	c.Result.Probes["answers"] = answers
	return nil
}

// timedLoad opens the tokenizer at tokPath, then the model, as the "load"
// phase; when the model fails the tokenizer is closed again. openTok may
// return a concrete type (tokenize.Load): a failed open then never becomes
// a non-nil Tokenizer holding a nil pointer.
func timedLoad[T Tokenizer, M any](c *worker.Context, tokPath string, openTok func(string) (T, error), openModel func() (M, error)) (Tokenizer, M, error) {
	var tok Tokenizer
	var m M
	err := c.Time(true, "load", func() error {
		t, err := openTok(tokPath)
		if err != nil {
			return err
		}
		tok = t
		if m, err = openModel(); err != nil {
			tok.Close()
		}
		return err
	})
	return tok, m, err
}

func appendHead(dst []float64, v []float32, n int) []float64 {
	for _, x := range v[:min(n, len(v))] {
		dst = append(dst, float64(x))
	}
	return dst
}

// qaMetrics records the request rate and latency percentiles (a request is
// tokenize + model + postprocess), the windows per request, and EM/F1 with
// trained weights (not applicable with random ones).
func qaMetrics(c *worker.Context, questions, windows int, em, f1 float64) error {
	ph := c.Result.Phases
	total := make([]float64, len(ph["tokenize"]))
	sum := 0.0
	for i := range total {
		total[i] = ph["tokenize"][i] + ph["model"][i] + ph["postprocess"][i]
		sum += total[i]
	}
	if len(total) == 0 {
		return errors.New("no timed requests (reps 0 or no questions)")
	}
	m := c.Result.Metrics
	m["requests_per_s"] = float64(len(total)) / sum
	for _, q := range []float64{50, 90, 99} {
		m[fmt.Sprintf("latency_p%g", q)] = percentile(total, q)
	}
	m["windows_per_request"] = float64(windows) / float64(questions)
	if trained(c) {
		m["em"] = 100 * em / float64(questions)
		m["f1"] = 100 * f1 / float64(questions)
	} else {
		c.Result.NotApplicable = map[string]string{"em": "random weights", "f1": "random weights"}
	}
	return nil
}

// RunGPT2 is the llm/gpt2 workload of docs/LLM.md on one backend: it reads
// the spec, times opening the tokenizer and the model as the "load" phase,
// runs the warm-up and the timed
// passes over the prompts (each: the "tokenize" phase, then Generate, whose
// first step is "ttft" and later steps "per_token"), then records tokens/s,
// the medians and the probes of the first prompt.
func RunGPT2[T Tokenizer](c *worker.Context, openTok func(path string) (T, error), openModel func(sp *GenSpec) (CausalLM, error)) error {
	if isGPT2Sweep(c) {
		return runGPT2Sweep(c, openModel) // --size sweep: fixed token ids
	}
	sp, err := ReadGenSpec(c)
	if err != nil {
		return err
	}
	tok, m, err := timedLoad(c, sp.Tokenizer, openTok, func() (CausalLM, error) { return openModel(sp) })
	if err != nil {
		return err
	}
	defer tok.Close()
	defer m.Close()
	request := func(prompt string, timed bool) (*Generation, error) {
		var ids []int64
		if err := c.Time(timed, "tokenize", func() (err error) {
			ids, _, err = tok.Encode(prompt, false)
			return err
		}); err != nil {
			return nil, err
		}
		gen, err := Generate(m, ids, sp.NewTokens, c.Sync)
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
	for i := 0; i < c.Spec.Warmup; i++ {
		if _, err := request(sp.Prompts[0], false); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	var first *Generation
	genTime, generated := 0.0, 0
	for rep := 0; rep < c.Spec.Reps; rep++ {
		for k, prompt := range sp.Prompts {
			gen, err := request(prompt, true)
			if err != nil {
				return fmt.Errorf("prompt %d: %w", k, err)
			}
			if first == nil {
				first = gen
			}
			genTime += gen.TTFT
			for _, d := range gen.PerToken {
				genTime += d
			}
			generated += len(gen.Tokens[0])
		}
	}
	if first == nil {
		return errors.New("no timed prompts (reps 0 or no prompts)")
	}
	genMetrics(c, first, generated, genTime)
	return nil
}

// genMetrics records tokens/s, the ttft and per-token medians, and the
// first generation's probes: each row's logits rows, then each row's
// generated ids, rows in order.
func genMetrics(c *worker.Context, first *Generation, generated int, genTime float64) {
	m := c.Result.Metrics
	m["tokens_per_s"] = float64(generated) / genTime
	m["ttft_p50"] = percentile(c.Result.Phases["ttft"], 50)
	if pt := c.Result.Phases["per_token"]; len(pt) > 0 {
		m["per_token_p50"] = percentile(pt, 50)
	}
	var logits, tokens []float64
	for _, steps := range first.Logits {
		for _, row := range steps {
			logits = appendHead(logits, row, len(row))
		}
	}
	for _, row := range first.Tokens {
		for _, t := range row {
			tokens = append(tokens, float64(t))
		}
	}
	c.Result.Probes["gen_logits"] = logits
	c.Result.Probes["tokens"] = tokens
}

// ReadQASpec reads c's llm/bert-qa parameters and inputs, and the SQuAD
// file they name. The parameters are recorded in the result as they are
// read.
func ReadQASpec(c *worker.Context) (*QASpec, error) {
	var p [5]int
	for i, d := range []struct {
		name string
		def  int
	}{{"max_length", 384}, {"stride", 128}, {"n_best", 20}, {"max_answer_length", 30}, {"limit", 0}} {
		v, err := intParam(c, d.name, d.def)
		if err != nil {
			return nil, err
		}
		p[i] = v
		c.Result.Params[d.name] = v
	}
	c.Result.Params["max_question_tokens"] = MaxQuestionTokens
	s := &QASpec{QAParams: QAParams{MaxLength: p[0], Stride: p[1], NBest: p[2], MaxAnswerLength: p[3]}}
	in, err := specInputs(c, "model_dir", "tokenizer", "squad")
	if err != nil {
		return nil, err
	}
	s.ModelDir, s.Tokenizer = in[0], in[1]
	if s.Questions, err = LoadSQuAD(in[2], p[4]); err != nil {
		return nil, err
	}
	if len(s.Questions) == 0 {
		return nil, fmt.Errorf("%s: no questions", in[2])
	}
	return s, nil
}

// ReadGenSpec reads c's llm/gpt2 parameters and inputs, and the prompts
// file they name.
func ReadGenSpec(c *worker.Context) (*GenSpec, error) {
	newTokens, err := intParam(c, "new_tokens", 150)
	if err != nil {
		return nil, err
	}
	if newTokens < 1 {
		return nil, fmt.Errorf("new_tokens %d: want >= 1", newTokens)
	}
	limit, err := intParam(c, "limit", 0)
	if err != nil {
		return nil, err
	}
	c.Result.Params["new_tokens"], c.Result.Params["limit"], c.Result.Params["eos_stops"] = newTokens, limit, false
	s := &GenSpec{NewTokens: newTokens}
	in, err := specInputs(c, "model_dir", "tokenizer", "prompts")
	if err != nil {
		return nil, err
	}
	s.ModelDir, s.Tokenizer = in[0], in[1]
	if s.Prompts, err = data.ReadPrompts(in[2]); err != nil {
		return nil, err
	}
	if limit > 0 && limit < len(s.Prompts) {
		s.Prompts = s.Prompts[:limit]
	}
	return s, nil
}

// specInputs is the paths of the spec inputs of these names, in order.
func specInputs(c *worker.Context, names ...string) ([]string, error) {
	paths := make([]string, len(names))
	for i, name := range names {
		p, err := c.Spec.Input(name)
		if err != nil {
			return nil, err
		}
		paths[i] = p
	}
	return paths, nil
}

// intParam is the integer parameter name, or def when it is absent.
func intParam(c *worker.Context, name string, def int) (int, error) {
	if _, ok := c.Spec.Params[name]; !ok {
		return def, nil
	}
	return c.Spec.Int(name)
}

// trained reports whether the spec's weights are trained ones (then the
// SQuAD scores mean something).
func trained(c *worker.Context) bool {
	t, _ := c.Spec.Params["trained"].(bool)
	return t
}

func percentile(v []float64, q float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return stats.Quantile(s, q/100)
}

// LoadSQuAD is the questions of the SQuAD file at path in file order; the
// first limit when limit > 0.
func LoadSQuAD(path string, limit int) ([]Question, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, _, _, _, _, err := data.ParseSQuAD(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var qs []Question
	for _, a := range s.Data {
		for _, p := range a.Paragraphs {
			for _, qa := range p.QAs {
				q := Question{Question: qa.Question, Context: p.Context}
				for _, ans := range qa.Answers {
					q.Answers = append(q.Answers, ans.Text)
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
