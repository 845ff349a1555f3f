package llm

import (
	"errors"
	"fmt"

	"github.com/mlbench/mlbench/bench/worker"
	"github.com/mlbench/mlbench/data"
)

// The LLM sweeps (`mlbench run --size sweep`), as
// reference/python/llm_sweep.py: the model runs on fixed token ids that
// `mlbench data prepare` wrote once (the same for every language) instead of
// tokenizing SQuAD or the prompts. bert-qa: inputs "ids" and
// "token_type_ids", int64 [rows, seq_len], one forward per row timed as
// "model"; gpt2: input "prompt_ids", int64 [rows, prompt_len], GenerateBatch
// per batch of param "batch" consecutive rows (1 when absent) timed as ttft
// and per_token. RunBertQA and RunGPT2 hand a spec with these inputs to
// runBertQASweep and runGPT2Sweep.

// isBertQASweep and isGPT2Sweep report whether c's spec is a sweep case.
func isBertQASweep(c *worker.Context) bool { _, ok := c.Spec.Inputs["ids"]; return ok }
func isGPT2Sweep(c *worker.Context) bool   { _, ok := c.Spec.Inputs["prompt_ids"]; return ok }

// sweepRows is the rows of the spec input name, each of length ids; another
// shape or a non-integer dtype is an error.
func sweepRows(c *worker.Context, name string, length int) ([][]int64, error) {
	path, err := c.Spec.Input(name)
	if err != nil {
		return nil, err
	}
	a, err := data.ReadNPY(path)
	if err != nil {
		return nil, err
	}
	if a.DType != "<i8" || len(a.Shape) != 2 || a.Shape[0] < 1 || a.Shape[1] != length {
		return nil, fmt.Errorf("input %s: dtype %s, shape %v: want int64 [rows, %d]", name, a.DType, a.Shape, length)
	}
	rows := make([][]int64, a.Shape[0])
	for i := range rows {
		rows[i] = make([]int64, length)
		for j := range length {
			rows[i][j] = int64(a.Data[i*length+j])
		}
	}
	return rows, nil
}

// runBertQASweep is the llm/bert-qa sweep; openModel as RunBertQA's (its
// QASpec has only the model directory and tokenizer set).
func runBertQASweep(c *worker.Context, openModel func(sp *QASpec) (QAModel, error)) error {
	seqLen, err := c.Spec.Int("seq_len")
	if err != nil {
		return err
	}
	ids, err := sweepRows(c, "ids", seqLen)
	if err != nil {
		return err
	}
	types, err := sweepRows(c, "token_type_ids", seqLen)
	if err != nil {
		return err
	}
	if len(ids) != len(types) {
		return fmt.Errorf("inputs ids (%d rows) and token_type_ids (%d rows) differ", len(ids), len(types))
	}
	in, err := specInputs(c, "model_dir")
	if err != nil {
		return err
	}
	var m QAModel
	if err := c.Time(true, "load", func() (err error) { m, err = openModel(&QASpec{ModelDir: in[0]}); return err }); err != nil {
		return err
	}
	defer m.Close()
	ws := make([]Window, len(ids))
	for i := range ws {
		ws[i] = Window{IDs: ids[i], TypeIDs: types[i]}
	}
	for range c.Spec.Warmup {
		if _, _, err := m.Logits(ws[0]); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	var starts, ends []float64
	for rep := range c.Spec.Reps {
		for k, w := range ws {
			var s, e []float32
			if err := c.Time(true, "model", func() (err error) { s, e, err = m.Logits(w); return err }); err != nil {
				return fmt.Errorf("row %d: %w", k, err)
			}
			if len(s) != seqLen || len(e) != seqLen {
				return fmt.Errorf("bert-qa: %d start and %d end logits for %d tokens", len(s), len(e), seqLen)
			}
			if rep == 0 && k < probeQuestions {
				starts = appendHead(starts, s, probePositions)
				ends = appendHead(ends, e, probePositions)
			}
		}
	}
	model := c.Result.Phases["model"]
	if len(model) == 0 {
		return errors.New("no timed requests (reps 0)")
	}
	total := 0.0
	for _, v := range model {
		total += v
	}
	mt := c.Result.Metrics
	mt["requests_per_s"] = float64(len(model)) / total
	mt["tokens_per_s"] = float64(seqLen*len(model)) / total
	for _, q := range []float64{50, 90} {
		mt[fmt.Sprintf("latency_p%g", q)] = percentile(model, q)
	}
	c.Result.NotApplicable = map[string]string{"em": "sweep: fixed token ids, no answers", "f1": "sweep: fixed token ids, no answers"}
	c.Result.Probes["start_logits"], c.Result.Probes["end_logits"] = starts, ends
	c.Result.Params["seq_len"], c.Result.Params["rows"] = seqLen, len(ws)
	return nil
}

// runGPT2Sweep is the llm/gpt2 sweep; openModel as RunGPT2's (its GenSpec
// has only the model directory, tokenizer and new tokens set). The rows are
// cut into batches of B consecutive rows; every repetition generates every
// batch, the warm-up the first one; the probes are the first batch's.
func runGPT2Sweep(c *worker.Context, openModel func(sp *GenSpec) (CausalLM, error)) error {
	newTokens, err := c.Spec.Int("new_tokens")
	if err != nil {
		return err
	}
	promptLen, err := c.Spec.Int("prompt_len")
	if err != nil {
		return err
	}
	batch, err := intParam(c, "batch", 1)
	if err != nil {
		return err
	}
	if batch < 1 {
		return fmt.Errorf("batch %d: want >= 1", batch)
	}
	prompts, err := sweepRows(c, "prompt_ids", promptLen)
	if err != nil {
		return err
	}
	if len(prompts)%batch != 0 {
		return fmt.Errorf("input prompt_ids: %d rows is not a multiple of batch %d", len(prompts), batch)
	}
	in, err := specInputs(c, "model_dir")
	if err != nil {
		return err
	}
	var m CausalLM
	if err := c.Time(true, "load", func() (err error) {
		m, err = openModel(&GenSpec{NewTokens: newTokens, ModelDir: in[0]})
		return err
	}); err != nil {
		return err
	}
	defer m.Close()
	for range c.Spec.Warmup {
		if _, err := GenerateBatch(m, prompts[:batch], newTokens, c.Sync); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	var first *Generation
	genTime, generated := 0.0, 0
	for range c.Spec.Reps {
		for k := 0; k < len(prompts); k += batch {
			gen, err := GenerateBatch(m, prompts[k:k+batch], newTokens, c.Sync)
			if err != nil {
				return fmt.Errorf("prompts %d..%d: %w", k, k+batch-1, err)
			}
			c.Add("ttft", gen.TTFT)
			genTime += gen.TTFT
			for _, d := range gen.PerToken {
				c.Add("per_token", d)
				genTime += d
			}
			generated += batch * len(gen.Tokens[0])
			if first == nil {
				first = gen
			}
		}
	}
	if first == nil {
		return errors.New("no timed prompts (reps 0)")
	}
	genMetrics(c, first, generated, genTime)
	p := c.Result.Params
	p["new_tokens"], p["prompt_len"], p["rows"], p["batch"] = newTokens, promptLen, len(prompts), batch
	p["eos_stops"] = false
	return nil
}
