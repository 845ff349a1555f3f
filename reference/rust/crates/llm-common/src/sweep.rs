//! The LLM sweeps (`mlbench run --size sweep`), as reference/python/llm_sweep.py:
//! the model runs on fixed token ids that `mlbench data prepare` wrote once
//! (the same for every language) instead of tokenizing SQuAD or the prompts.
//! bert-qa: inputs `ids` and `token_type_ids`, int64 [rows, seq_len], one
//! forward per row timed as "model"; gpt2: input `prompt_ids`, int64 [rows,
//! prompt_len], greedy generation per row timed as ttft and per_token.

use crate::{generate, param, percentile, CausalLm, QaModel, Window, PROBE_POSITIONS, PROBE_QUESTIONS};
use mlbench_common::{read_npy, Res, Result, Spec};
use serde_json::json;
use tokenizers::Tokenizer;

/// The rows of input `name`, each of `length` ids; another shape is an error.
pub fn rows(spec: &Spec, name: &str, length: usize) -> Res<Vec<Vec<i64>>> {
    let a = read_npy::<i64>(spec.input(name)?)?;
    match a.shape[..] {
        [n, l] if n >= 1 && l == length => Ok(a.data.chunks(l).map(<[i64]>::to_vec).collect()),
        _ => Err(format!("input {name}: shape {:?}: want int64 [rows, {length}]", a.shape).into()),
    }
}

/// Runs the llm/bert-qa sweep; `load` as in [`crate::run_bert_qa`].
pub fn bert_qa<M: QaModel>(spec: &Spec, result: &mut Result, load: impl FnOnce() -> Res<(Tokenizer, M)>) -> Res<()> {
    let seq_len = spec.usize("seq_len")?;
    let (ids, types) = (rows(spec, "ids", seq_len)?, rows(spec, "token_type_ids", seq_len)?);
    if ids.len() != types.len() {
        return Err(format!("inputs ids ({} rows) and token_type_ids ({} rows) differ", ids.len(), types.len()).into());
    }
    let wins: Vec<Window> = ids
        .into_iter()
        .zip(types)
        .map(|(i, t)| Window { input_ids: i, token_type_ids: t, attention_mask: vec![1; seq_len], context_start: 0, offsets: vec![] })
        .collect();
    let (_, mut model) = result.time(true, "load", load)?;
    for _ in 0..spec.warmup {
        model.logits(&wins[0]).map_err(|e| format!("warm-up: {e}"))?;
    }
    let (mut starts, mut ends) = (vec![], vec![]);
    for rep in 0..spec.reps {
        for (k, w) in wins.iter().enumerate() {
            let (s, e) = result.time(true, "model", || model.logits(w)).map_err(|e| format!("row {k}: {e}"))?;
            if s.len() != seq_len || e.len() != seq_len {
                return Err(format!("bert-qa: {} start and {} end logits for {seq_len} tokens", s.len(), e.len()).into());
            }
            if rep == 0 && k < PROBE_QUESTIONS {
                starts.extend(s.iter().take(PROBE_POSITIONS).map(|&v| v as f64));
                ends.extend(e.iter().take(PROBE_POSITIONS).map(|&v| v as f64));
            }
        }
    }
    let model_s = result.phases["model"].clone();
    let total: f64 = model_s.iter().sum();
    result.metric("requests_per_s", model_s.len() as f64 / total);
    result.metric("tokens_per_s", (seq_len * model_s.len()) as f64 / total);
    for q in [50, 90] {
        result.metric(&format!("latency_p{q}"), percentile(&model_s, q as f64));
    }
    for k in ["em", "f1"] {
        result.not_applicable.insert(k.into(), "sweep: fixed token ids, no answers".into());
    }
    result.probe("start_logits", starts);
    result.probe("end_logits", ends);
    result.params.insert("seq_len".into(), json!(seq_len));
    result.params.insert("rows".into(), json!(wins.len()));
    Ok(())
}

/// Runs the llm/gpt2 sweep; `load` as in [`crate::run_gpt2`].
pub fn gpt2<M: CausalLm>(spec: &Spec, result: &mut Result, load: impl FnOnce() -> Res<(Tokenizer, M)>) -> Res<()> {
    let new_tokens = param(spec, "new_tokens", 0)?;
    let prompt_len = spec.usize("prompt_len")?;
    let prompts: Vec<Vec<u32>> = rows(spec, "prompt_ids", prompt_len)?
        .into_iter()
        .map(|r| r.into_iter().map(u32::try_from).collect::<std::result::Result<_, _>>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| format!("input prompt_ids: {e}"))?;
    let (_, mut model) = result.time(true, "load", load)?;
    for _ in 0..spec.warmup {
        generate(&mut model, &prompts[0], new_tokens).map_err(|e| format!("warm-up: {e}"))?;
    }
    crate::timed_generations(spec, result, &prompts, |result, p| {
        let g = generate(&mut model, p, new_tokens)?;
        result.add("ttft", g.ttft);
        for &d in &g.per_token {
            result.add("per_token", d);
        }
        Ok(g)
    })?;
    for (k, v) in
        [("new_tokens", json!(new_tokens)), ("prompt_len", json!(prompt_len)), ("rows", json!(prompts.len())), ("eos_stops", json!(false))]
    {
        result.params.insert(k.into(), v);
    }
    Ok(())
}
