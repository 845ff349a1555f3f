package impls

import (
	"errors"
	"fmt"

	"github.com/mlbench/mlbench/bench/worker"
	"github.com/mlbench/mlbench/ort"
)

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
