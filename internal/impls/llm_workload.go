package impls

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/mlbench/mlbench/bench/worker"
	"github.com/mlbench/mlbench/data"
	"github.com/mlbench/mlbench/ort"
	"github.com/mlbench/mlbench/stats"
)

// Probe sizes of docs/LLM.md.
const (
	probeQuestions = 20
	probePositions = 64
)

// qaSpec is what an llm/bert-qa spec asks for (docs/LLM.md): the
// windowing and answer parameters, the model directory, the tokenizer file
// and the questions (the first limit of them when limit > 0). The
// parameters are recorded in the result as they are read.
type qaSpec struct {
	maxLength, stride, nBest, maxAnswerLength int
	modelDir, tokenizer                       string
	questions                                 []squadQuestion
}

// readQASpec reads c's llm/bert-qa parameters and inputs, and the SQuAD
// file they name.
func readQASpec(c *worker.Context) (*qaSpec, error) {
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
	c.Result.Params["max_question_tokens"] = ort.MaxQuestionTokens
	s := &qaSpec{maxLength: p[0], stride: p[1], nBest: p[2], maxAnswerLength: p[3]}
	in, err := specInputs(c, "model_dir", "tokenizer", "squad")
	if err != nil {
		return nil, err
	}
	s.modelDir, s.tokenizer = in[0], in[1]
	squadPath := in[2]
	if s.questions, err = loadSQuAD(squadPath, p[4]); err != nil {
		return nil, err
	}
	return s, nil
}

// genSpec is what an llm/gpt2 spec asks for (docs/LLM.md): the number of
// ids to generate after each prompt, the model directory, the tokenizer
// file and the prompts (the first limit of them when limit > 0).
type genSpec struct {
	newTokens           int
	modelDir, tokenizer string
	prompts             []string
}

// readGenSpec reads c's llm/gpt2 parameters and inputs, and the prompts
// file they name.
func readGenSpec(c *worker.Context) (*genSpec, error) {
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
	s := &genSpec{newTokens: newTokens}
	in, err := specInputs(c, "model_dir", "tokenizer", "prompts")
	if err != nil {
		return nil, err
	}
	s.modelDir, s.tokenizer = in[0], in[1]
	promptsPath := in[2]
	if s.prompts, err = data.ReadPrompts(promptsPath); err != nil {
		return nil, err
	}
	if limit > 0 && limit < len(s.prompts) {
		s.prompts = s.prompts[:limit]
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

type squadQuestion struct {
	question, context string
	answers           []string
}

// loadSQuAD is the questions of the SQuAD file at path in file order, each
// with its context and gold answer texts; the first limit when limit > 0.
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

// qaOutcome is what one llm/bert-qa request gave: the logits of each
// window, the answer text and the number of windows.
type qaOutcome struct {
	start, end [][]float32
	answer     string
	windows    int
}

// runQARequests is the llm/bert-qa workload of docs/LLM.md around one
// implementation's request function (which times its own tokenize, model
// and postprocess phases): the warm-up requests, the timed passes over qs,
// then the latency metrics, SQuAD scores (trained weights only) and probes.
func runQARequests(c *worker.Context, qs []squadQuestion, request func(q squadQuestion, timed bool) (*qaOutcome, error)) error {
	for i := 0; i < c.Spec.Warmup; i++ {
		if _, err := request(qs[0], false); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	var starts, ends []float64
	var em, f1 float64
	windows := 0
	for rep := 0; rep < c.Spec.Reps; rep++ {
		for k, q := range qs {
			o, err := request(q, true)
			if err != nil {
				return fmt.Errorf("question %d: %w", k, err)
			}
			if rep > 0 {
				continue
			}
			windows += o.windows
			if k < probeQuestions {
				for _, v := range o.start[0][:min(probePositions, len(o.start[0]))] {
					starts = append(starts, float64(v))
				}
				for _, v := range o.end[0][:min(probePositions, len(o.end[0]))] {
					ends = append(ends, float64(v))
				}
			}
			e, f := ort.SQuADScores(q.answers, o.answer)
			em += e
			f1 += f
		}
	}

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
	m["windows_per_request"] = float64(windows) / float64(len(qs))
	if trained(c) {
		m["em"] = 100 * em / float64(len(qs))
		m["f1"] = 100 * f1 / float64(len(qs))
	} else {
		c.Result.NotApplicable = map[string]string{"em": "random weights", "f1": "random weights"}
	}
	c.Result.Probes["start_logits"] = starts
	c.Result.Probes["end_logits"] = ends
	return nil
}

// runGenRequests is the llm/gpt2 workload of docs/LLM.md around one
// implementation's request function (which records its own ttft and
// per_token phases when timed): the warm-up, the timed passes over the
// prompts, then tokens/s, the medians and the probes of the first prompt.
func runGenRequests(c *worker.Context, prompts []string, request func(prompt string, timed bool) (*ort.Generation, error)) error {
	for i := 0; i < c.Spec.Warmup; i++ {
		if _, err := request(prompts[0], false); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	var first *ort.Generation
	genTime, generated := 0.0, 0
	for rep := 0; rep < c.Spec.Reps; rep++ {
		for k, prompt := range prompts {
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
			generated += len(gen.Tokens)
		}
	}
	if first == nil {
		return errors.New("no timed prompts (reps 0 or no prompts)")
	}
	m := c.Result.Metrics
	m["tokens_per_s"] = float64(generated) / genTime
	m["ttft_p50"] = percentile(c.Result.Phases["ttft"], 50)
	if pt := c.Result.Phases["per_token"]; len(pt) > 0 {
		m["per_token_p50"] = percentile(pt, 50)
	}
	var logits, tokens []float64
	for _, row := range first.Logits {
		for _, v := range row {
			logits = append(logits, float64(v))
		}
	}
	for _, t := range first.Tokens {
		tokens = append(tokens, float64(t))
	}
	c.Result.Probes["gen_logits"] = logits
	c.Result.Probes["tokens"] = tokens
	return nil
}
