"""The LLM sweeps (`mlbench run --size sweep`), shared by llm_transformers.py and llm_ort.py.

Instead of tokenizing SQuAD or the prompts file, the model runs on fixed token ids that
`mlbench data prepare` wrote once (data/llmsweep.go), the same for every language:

- bert-qa: inputs `ids` and `token_type_ids`, int64 [rows, seq_len]; one forward per row, timed
  as phase "model" (attention mask all ones: no padding);
- gpt2: input `prompt_ids`, int64 [rows, prompt_len]; greedy generation of new_tokens ids per
  row with llm_common.generate_batch, param batch (missing: 1) rows at a time, timed as ttft and
  per_token (one step of the whole batch).

Probes as in the main workloads (start/end logits of the first positions; the first steps'
logits and the generated ids), so parity holds per variant.
"""

import numpy as np

import common
import llm_common


def rows(spec, name, length):
    """The int64 [rows, length] array of input `name`; a wrong shape or dtype is an error."""
    a = np.load(spec["inputs"][name])
    if a.dtype != np.int64 or a.ndim != 2 or a.shape[0] < 1 or a.shape[1] != length:
        raise ValueError(f"input {name}: dtype {a.dtype}, shape {list(a.shape)}: want int64 [rows, {length}]")
    return a


def bert_qa(spec, result, run_window, sync=None):
    """The bert-qa sweep; run_window(llm_common.Window) -> (start_logits, end_logits)."""
    seq_len = common.param_int(spec, "seq_len")
    ids, types = rows(spec, "ids", seq_len), rows(spec, "token_type_ids", seq_len)
    if ids.shape != types.shape:
        raise ValueError(f"inputs ids {list(ids.shape)} and token_type_ids {list(types.shape)} differ in shape")
    empty = np.zeros((0, 2), dtype=np.int64)
    wins = [llm_common.Window(ids[i : i + 1], types[i : i + 1], np.ones((1, seq_len), dtype=np.int64), 0, empty) for i in range(len(ids))]
    for _ in range(llm_common.warmups(spec)):
        run_window(wins[0])
    starts, ends = [], []
    for rep in range(int(spec["reps"])):
        for k, w in enumerate(wins):
            with result.time("model", True, sync):
                s, e = run_window(w)
            if rep == 0 and k < llm_common.PROBE_QUESTIONS:
                starts.extend(s[: llm_common.PROBE_POSITIONS])
                ends.extend(e[: llm_common.PROBE_POSITIONS])
    model = result["phases"]["model"]
    result.metric("requests_per_s", len(model) / sum(model))
    result.metric("tokens_per_s", seq_len * len(model) / sum(model))
    for q in (50, 90):
        result.metric(f"latency_p{q}", llm_common.percentile(model, q))
    result["not_applicable"] = {"em": "sweep: fixed token ids, no answers", "f1": "sweep: fixed token ids, no answers"}
    result.probe("start_logits", starts)
    result.probe("end_logits", ends)
    result["params"].update(seq_len=seq_len, rows=len(ids))


def gpt2(spec, result, step, sync=None):
    """The gpt2 sweep with step as in llm_common.generate_batch(): the rows in consecutive batches of
    param batch (missing: 1) rows, every batch generated in every rep; warm-up on the first batch;
    the probes from the first rep's first batch, its rows in order."""
    new_tokens, prompt_len = common.param_int(spec, "new_tokens"), common.param_int(spec, "prompt_len")
    batch = common.param_int(spec, "batch") if spec["params"].get("batch") is not None else 1
    if new_tokens < 1:
        raise ValueError(f"new_tokens {new_tokens}: want >= 1")
    if batch < 1:
        raise ValueError(f"batch {batch}: want >= 1")
    prompts = rows(spec, "prompt_ids", prompt_len)
    if len(prompts) % batch:
        raise ValueError(f"input prompt_ids: {len(prompts)} rows is not a multiple of batch {batch}")
    batches = [prompts[i : i + batch] for i in range(0, len(prompts), batch)]
    for _ in range(llm_common.warmups(spec)):
        llm_common.generate_batch(step, batches[0], new_tokens, sync)
    first, gen_time, generated = None, 0.0, 0
    for _ in range(int(spec["reps"])):
        for ids in batches:
            gens = llm_common.generate_batch(step, ids, new_tokens, sync)
            g = gens[0]  # the clocks are the batch's
            result.add("ttft", g.ttft)
            for dt in g.per_token:
                result.add("per_token", dt)
            first = first or gens
            gen_time += g.ttft + sum(g.per_token)
            generated += sum(len(r.tokens) for r in gens)
    result.metric("tokens_per_s", generated / gen_time)
    result.metric("ttft_p50", llm_common.percentile(result["phases"]["ttft"], 50))
    if result["phases"].get("per_token"):
        result.metric("per_token_p50", llm_common.percentile(result["phases"]["per_token"], 50))
    result.probe("gen_logits", [v for r in first for row in r.logits for v in row])
    result.probe("tokens", [t for r in first for t in r.tokens])
    result["params"].update(new_tokens=new_tokens, prompt_len=prompt_len, rows=len(prompts), batch=batch, eos_stops=False)
