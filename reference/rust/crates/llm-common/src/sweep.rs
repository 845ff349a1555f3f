//! The LLM sweeps (`mlbench run --size sweep`), as reference/python/llm_sweep.py:
//! the model runs on fixed token ids that `mlbench data prepare` wrote once
//! (the same for every language) instead of tokenizing SQuAD or the prompts.
//! bert-qa: inputs `ids` and `token_type_ids`, int64 [rows, seq_len], one
//! forward per row timed as "model"; gpt2: input `prompt_ids`, int64 [rows,
//! prompt_len], greedy generation of consecutive batches of param "batch"
//! rows (default 1) timed as ttft and per_token.

use crate::{generate_batch, param, percentile, CausalLm, QaModel, Window, PROBE_POSITIONS, PROBE_QUESTIONS};
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

/// The spec's batch size: param "batch", 1 when absent (the prompt_len
/// variants have none); below 1 is an error.
pub fn batch(spec: &Spec) -> Res<usize> {
    if !spec.params.contains_key("batch") {
        return Ok(1);
    }
    let b = spec.f64("batch")?;
    if b < 1.0 {
        return Err(format!("batch {b}: want >= 1").into());
    }
    spec.usize("batch")
}

/// Runs the llm/gpt2 sweep; `load` as in [`crate::run_gpt2`]. The rows of
/// prompt_ids are generated in consecutive batches of param "batch" rows.
pub fn gpt2<M: CausalLm>(spec: &Spec, result: &mut Result, load: impl FnOnce() -> Res<(Tokenizer, M)>) -> Res<()> {
    let new_tokens = param(spec, "new_tokens", 0)?;
    let prompt_len = spec.usize("prompt_len")?;
    if new_tokens < 1 {
        return Err(format!("new_tokens {new_tokens}: want >= 1").into());
    }
    let batch = batch(spec)?;
    let ids = rows(spec, "prompt_ids", prompt_len)?;
    gpt2_rows(spec, result, &ids, batch, new_tokens, load)
}

/// The llm/gpt2 sweep on prompt rows (each prompt_len ids): warm-up
/// generations of the first batch, then every batch of every repetition
/// timed, the probes from the first batch row after row.
fn gpt2_rows<M: CausalLm>(
    spec: &Spec,
    result: &mut Result,
    ids: &[Vec<i64>],
    batch: usize,
    new_tokens: usize,
    load: impl FnOnce() -> Res<(Tokenizer, M)>,
) -> Res<()> {
    if batch < 1 {
        return Err(format!("batch {batch}: want >= 1").into());
    }
    if ids.is_empty() || !ids.len().is_multiple_of(batch) {
        return Err(format!("input prompt_ids: {} rows is not a multiple of batch {batch}", ids.len()).into());
    }
    // Each batch's rows, row-major.
    let batches: Vec<Vec<u32>> = ids
        .chunks(batch)
        .map(|b| b.iter().flatten().map(|&t| u32::try_from(t)).collect::<std::result::Result<_, _>>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| format!("input prompt_ids: {e}"))?;
    let prompt_len = ids[0].len();
    let (_, mut model) = result.time(true, "load", load)?;
    for _ in 0..spec.warmup {
        generate_batch(&mut model, &batches[0], batch, new_tokens).map_err(|e| format!("warm-up: {e}"))?;
    }
    crate::timed_generations(spec, result, &batches, if batch == 1 { "prompt" } else { "batch" }, |result, b| {
        let g = generate_batch(&mut model, b, batch, new_tokens)?;
        result.add("ttft", g.ttft);
        for &d in &g.per_token {
            result.add("per_token", d);
        }
        Ok(g)
    })?;
    for (k, v) in [
        ("new_tokens", json!(new_tokens)),
        ("prompt_len", json!(prompt_len)),
        ("rows", json!(ids.len())),
        ("batch", json!(batch)),
        ("eos_stops", json!(false)),
    ] {
        result.params.insert(k.into(), v);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{generate, row_len, PROBE_STEPS, PROBE_VOCAB};
    use std::cell::RefCell;
    use std::rc::Rc;

    const VOCAB: usize = 300;

    /// A model whose next id depends only on a row's last id and position:
    /// logits peak at (31 last + 7 position) mod VOCAB. It records the rows
    /// of every step.
    struct Fake {
        past: usize,
        rows: usize,
        last: Vec<Vec<f32>>,
        steps: Rc<RefCell<Vec<usize>>>,
    }

    impl CausalLm for Fake {
        fn reset(&mut self) -> Res<()> {
            self.past = 0;
            Ok(())
        }
        fn step_rows(&mut self, ids: &[u32], rows: usize) -> Res<Vec<u32>> {
            let len = row_len(ids, rows)?;
            if self.past > 0 && rows != self.rows {
                return Err(format!("{rows} rows after a prompt of {}", self.rows).into());
            }
            self.steps.borrow_mut().push(rows);
            self.rows = rows;
            self.past += len;
            self.last = ids
                .chunks(len)
                .map(|r| {
                    let peak = (31 * r[len - 1] as usize + 7 * self.past) % VOCAB;
                    (0..VOCAB).map(|v| -(v as f32 - peak as f32).abs() / 8.0).collect()
                })
                .collect();
            Ok(self.last.iter().map(|l| crate::argmax(l) as u32).collect())
        }
        fn last_logits_rows(&mut self, n: usize) -> Res<Vec<Vec<f32>>> {
            Ok(self.last.iter().map(|l| l[..n.min(VOCAB)].to_vec()).collect())
        }
    }

    fn fake() -> (Fake, Rc<RefCell<Vec<usize>>>) {
        let steps = Rc::new(RefCell::new(vec![]));
        (Fake { past: 0, rows: 0, last: vec![], steps: steps.clone() }, steps)
    }

    fn spec(params: serde_json::Value, warmup: usize, reps: usize) -> Spec {
        serde_json::from_value(json!({
            "schema_version": 1, "task": "llm/gpt2", "impl": "rust-fake", "size": "sweep",
            "inputs": {"prompt_ids": "/nonexistent/gpt2_batch_prompts.npy"}, "params": params,
            "warmup": warmup, "reps": reps, "threads": 1, "device": "cpu", "result_path": "/nonexistent/r.json",
        }))
        .unwrap()
    }

    fn tokenizer() -> Tokenizer {
        Tokenizer::new(tokenizers::models::wordlevel::WordLevel::default())
    }

    /// Four prompts of 3 ids.
    fn prompts() -> Vec<Vec<i64>> {
        vec![vec![464, 2068, 7586], vec![11, 12, 13], vec![299, 0, 5], vec![7, 7, 7]]
    }

    #[test]
    fn batch_param_and_errors() {
        assert_eq!(batch(&spec(json!({"prompt_len": 3}), 0, 1)).unwrap(), 1);
        assert_eq!(batch(&spec(json!({"batch": 4}), 0, 1)).unwrap(), 4);
        for (b, want) in [(json!(0), "batch 0: want >= 1"), (json!(-2), "batch -2: want >= 1")] {
            let s = spec(json!({"prompt_len": 3, "new_tokens": 2, "batch": b}), 0, 1);
            let mut result = Result::new(&s, "fake", "0");
            // The batch is checked before prompt_ids is read (it does not exist).
            let e = gpt2(&s, &mut result, || Ok((tokenizer(), fake().0))).unwrap_err().to_string();
            assert_eq!(e, want);
        }
        let ids = prompts();
        for (rows, b) in [(3, 2), (4, 3), (2, 8)] {
            let s = spec(json!({"prompt_len": 3, "new_tokens": 2, "batch": b}), 0, 1);
            let mut result = Result::new(&s, "fake", "0");
            let e = gpt2_rows(&s, &mut result, &ids[..rows], b, 2, || Ok((tokenizer(), fake().0))).unwrap_err().to_string();
            assert_eq!(e, format!("input prompt_ids: {rows} rows is not a multiple of batch {b}"));
            assert!(!result.phases.contains_key("load"), "checked before loading");
        }
        let s = spec(json!({"prompt_len": 3, "batch": 2}), 0, 1);
        let e = gpt2(&s, &mut Result::new(&s, "fake", "0"), || Ok((tokenizer(), fake().0))).unwrap_err().to_string();
        assert_eq!(e, "new_tokens 0: want >= 1");
    }

    /// Every batch size: consecutive batches of B rows, the phases and
    /// metrics of rows x new_tokens tokens per repetition, the probes of the
    /// first batch's rows (B*5*256 logits, B*new_tokens ids) equal to each
    /// row's own batch-1 generation.
    #[test]
    fn batched_sweep_probes_rows_of_the_first_batch() {
        let (new_tokens, reps, warmup) = (7, 2, 1);
        let ids = prompts();
        let rows: Vec<Vec<u32>> = ids.iter().map(|r| r.iter().map(|&t| t as u32).collect()).collect();
        let singles: Vec<_> = rows.iter().map(|r| generate(&mut fake().0, r, new_tokens).unwrap()).collect();
        for b in [1, 2, 4] {
            let s = spec(json!({"prompt_len": 3, "new_tokens": new_tokens, "batch": b}), warmup, reps);
            let mut result = Result::new(&s, "fake", "0");
            let (model, steps) = fake();
            gpt2_rows(&s, &mut result, &ids, b, new_tokens, || Ok((tokenizer(), model))).unwrap();
            let n_steps = (warmup + reps * ids.len() / b) * new_tokens;
            assert_eq!(*steps.borrow(), vec![b; n_steps], "batch {b}: every step of {b} rows");
            let n_batches = reps * ids.len() / b;
            assert_eq!(result.phases["ttft"].len(), n_batches);
            assert_eq!(result.phases["per_token"].len(), n_batches * (new_tokens - 1));
            assert_eq!(result.phases["load"].len(), 1);
            let (probe_steps, logits) = (PROBE_STEPS.min(new_tokens), &result.probes["gen_logits"]);
            assert_eq!(logits.len(), b * probe_steps * PROBE_VOCAB, "batch {b}: gen_logits");
            let want: Vec<f64> = singles[..b].iter().flat_map(|g| g.logits[0].iter().map(|&v| v as f64)).collect();
            assert_eq!(*logits, want, "batch {b}: gen_logits row after row");
            let want: Vec<f64> = singles[..b].iter().flat_map(|g| g.tokens[0].iter().map(|&t| t as f64)).collect();
            assert_eq!(result.probes["tokens"], want, "batch {b}: tokens row after row");
            assert_eq!(want.len(), b * new_tokens);
            let time: f64 = result.phases["ttft"].iter().chain(&result.phases["per_token"]).sum();
            let tps = result.metrics["tokens_per_s"];
            assert!((tps * time / (reps * ids.len() * new_tokens) as f64 - 1.0).abs() < 1e-9, "tokens_per_s {tps}");
            for m in ["ttft_p50", "per_token_p50"] {
                assert!(result.metrics[m] > 0.0, "{m}");
            }
            for (k, v) in [("batch", b), ("rows", 4), ("prompt_len", 3), ("new_tokens", new_tokens)] {
                assert_eq!(result.params[k], json!(v), "params.{k}");
            }
            assert_eq!(result.params["eos_stops"], json!(false));
        }
    }

    #[test]
    fn generate_batch_errors() {
        let (mut m, _) = fake();
        for (ids, rows, n, want) in [
            (&[1u32, 2, 3][..], 0, 2, "gpt2: batch 0: want >= 1"),
            (&[][..], 1, 2, "gpt2: empty prompt"),
            (&[1, 2, 3][..], 2, 2, "gpt2: 3 ids are not 2 non-empty rows of equal length"),
            (&[1, 2][..], 2, 0, "gpt2: new_tokens 0: want >= 1"),
        ] {
            let e = crate::generate_batch(&mut m, ids, rows, n).err().expect("an error").to_string();
            assert_eq!(e, want);
        }
    }
}
