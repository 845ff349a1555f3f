//! The framework-free half of docs/LLM.md, shared by the Rust implementations
//! (rust-ort, rust-candle, rust-tch): SQuAD order, windows, post-processing,
//! EM/F1 and percentiles (`qa`), and the two workload loops. A framework
//! supplies a [`QaModel`] (one window → start and end logits) and a
//! [`CausalLm`] (one step of a batch of rows with its own KV cache → each
//! row's next greedy id); the loops here do the timing, the metrics and the
//! probes exactly as reference/python/llm_common.py and llm/task.go do.

pub mod qa;
pub mod sweep;
pub mod testkit;

use mlbench_common::{Res, Result, Spec};
pub use qa::*;
use serde_json::{json, Value};
use std::time::Instant;
use tokenizers::Tokenizer;

/// The tokenizers crate version pinned in Cargo.toml (named in the result's notes).
pub const TOKENIZERS_CRATE_VERSION: &str = "0.23.2";

pub const TASKS: [&str; 2] = ["llm/bert-qa", "llm/gpt2"];

/// An error unless task is one of TASKS.
pub fn check_task(spec: &Spec) -> Res<()> {
    if TASKS.contains(&spec.task.as_str()) {
        Ok(())
    } else {
        Err(format!("unknown task {:?}: want one of {}", spec.task, TASKS.join(", ")).into())
    }
}

/// An integer parameter, or def when absent.
pub fn param(spec: &Spec, name: &str, def: usize) -> Res<usize> {
    if spec.params.contains_key(name) {
        spec.usize(name)
    } else {
        Ok(def)
    }
}

/// Whether the model's weights are trained (copied from meta.json by the orchestrator).
pub fn trained(spec: &Spec) -> bool {
    spec.params.get("trained").and_then(Value::as_bool).unwrap_or(false)
}

pub fn load_tokenizer(path: &str) -> Res<Tokenizer> {
    Tokenizer::from_file(path).map_err(|e| format!("tokenizer {path}: {e}").into())
}

/// The model's config.json as JSON.
pub fn read_config(model_dir: &str) -> Res<Value> {
    let p = std::path::Path::new(model_dir).join("config.json");
    let b = std::fs::read(&p).map_err(|e| format!("read {}: {e}", p.display()))?;
    serde_json::from_slice(&b).map_err(|e| format!("{}: {e}", p.display()).into())
}

/// A positive integer of a config.json.
pub fn config_usize(cfg: &Value, key: &str) -> Res<usize> {
    cfg[key].as_u64().map(|v| v as usize).filter(|&v| v > 0).ok_or_else(|| format!("config.json: no positive {key}").into())
}

// --- llm/bert-qa ------------------------------------------------------------------------

/// A BERT question-answering model at batch 1.
pub trait QaModel {
    /// The start and end logits of one window, one value per input position.
    fn logits(&mut self, w: &Window) -> Res<(Vec<f32>, Vec<f32>)>;
}

/// The windows of one question (the "tokenize" phase).
pub fn tokenize_question(
    tok: &Tokenizer,
    question: &str,
    context: &str,
    cls: u32,
    sep: u32,
    max_length: usize,
    stride: usize,
) -> Res<Vec<Window>> {
    let q = tok.encode(question, false).map_err(|e| format!("tokenize question: {e}"))?;
    let c = tok.encode(context, false).map_err(|e| format!("tokenize context: {e}"))?;
    windows(q.get_ids(), c.get_ids(), c.get_offsets(), cls, sep, max_length, stride)
}

/// Runs llm/bert-qa. `load` makes the tokenizer and the model from the spec's
/// files; it is the one "load" entry.
pub fn run_bert_qa<M: QaModel>(spec: &Spec, result: &mut Result, load: impl FnOnce() -> Res<(Tokenizer, M)>) -> Res<()> {
    if spec.inputs.contains_key("ids") {
        return sweep::bert_qa(spec, result, load); // --size sweep: fixed token ids
    }
    let max_length = param(spec, "max_length", 384)?;
    let stride = param(spec, "stride", 128)?;
    let n_best = param(spec, "n_best", 20)?;
    let max_answer = param(spec, "max_answer_length", 30)?;
    let limit = param(spec, "limit", 0)?;
    let questions = load_squad(spec.input("squad")?, limit)?;
    if questions.is_empty() {
        return Err("bert-qa: no questions".into());
    }
    for (k, v) in [
        ("max_length", max_length),
        ("stride", stride),
        ("n_best", n_best),
        ("max_answer_length", max_answer),
        ("limit", limit),
        ("max_question_tokens", MAX_QUESTION_TOKENS),
    ] {
        result.params.insert(k.into(), json!(v));
    }
    let tok_path = spec.input("tokenizer")?;

    let (tok, mut model) = result.time(true, "load", load)?;
    let id = |t: &str| tok.token_to_id(t).ok_or_else(|| format!("tokenizer {tok_path}: no {t} token"));
    let (cls, sep) = (id("[CLS]")?, id("[SEP]")?);

    struct Outcome {
        starts: Vec<Vec<f32>>,
        ends: Vec<Vec<f32>>,
        answer: String,
        windows: usize,
    }
    let mut request = |result: &mut Result, q: &Question, timed: bool| -> Res<Outcome> {
        let wins = result.time(timed, "tokenize", || tokenize_question(&tok, &q.question, &q.context, cls, sep, max_length, stride))?;
        let logits = result.time(timed, "model", || {
            wins.iter()
                .map(|w| {
                    let (s, e) = model.logits(w)?;
                    if s.len() != w.input_ids.len() || e.len() != w.input_ids.len() {
                        return Err(
                            format!("bert-qa: {} start and {} end logits for {} tokens", s.len(), e.len(), w.input_ids.len()).into()
                        );
                    }
                    Ok((s, e))
                })
                .collect::<Res<Vec<_>>>()
        })?;
        let (starts, ends): (Vec<_>, Vec<_>) = logits.into_iter().unzip();
        let a = result.time(timed, "postprocess", || best_answer(&q.context, &wins, &starts, &ends, n_best, max_answer))?;
        Ok(Outcome { starts, ends, answer: a.text, windows: wins.len() })
    };

    for _ in 0..spec.warmup {
        request(result, &questions[0], false).map_err(|e| format!("warm-up: {e}"))?;
    }
    let (mut starts, mut ends, mut answers, mut em, mut f1, mut n_windows) = (vec![], vec![], vec![], 0.0, 0.0, 0);
    for rep in 0..spec.reps {
        for (k, q) in questions.iter().enumerate() {
            let o = request(result, q, true).map_err(|e| format!("question {k} ({}): {e}", q.id))?;
            if rep > 0 {
                continue;
            }
            n_windows += o.windows;
            if k < PROBE_QUESTIONS {
                starts.extend(o.starts[0].iter().take(PROBE_POSITIONS).map(|&v| v as f64));
                ends.extend(o.ends[0].iter().take(PROBE_POSITIONS).map(|&v| v as f64));
            }
            answers.push(answer_hash(&o.answer) as f64);
            let (e, f) = squad_scores(&q.answers, &o.answer);
            em += e;
            f1 += f;
        }
    }

    let ph = &result.phases;
    let total: Vec<f64> = (0..ph["tokenize"].len()).map(|i| ph["tokenize"][i] + ph["model"][i] + ph["postprocess"][i]).collect();
    result.metric("requests_per_s", total.len() as f64 / total.iter().sum::<f64>());
    for q in [50, 90, 99] {
        result.metric(&format!("latency_p{q}"), percentile(&total, q as f64));
    }
    result.metric("windows_per_request", n_windows as f64 / questions.len() as f64);
    if trained(spec) {
        result.metric("em", 100.0 * em / questions.len() as f64);
        result.metric("f1", 100.0 * f1 / questions.len() as f64);
    } else {
        result.not_applicable.insert("em".into(), "random weights".into());
        result.not_applicable.insert("f1".into(), "random weights".into());
    }
    result.probe("start_logits", starts);
    result.probe("end_logits", ends);
    result.probe("answers", answers);
    Ok(())
}

// --- llm/gpt2 ---------------------------------------------------------------------------

/// A causal language model that keeps its own KV cache and runs a batch of
/// rows of equal length (no padding: the attention mask is all ones).
pub trait CausalLm {
    /// Forgets the cache: the next step is a prompt (past length 0).
    fn reset(&mut self) -> Res<()>;
    /// Feeds `rows` rows of equal length, ids row-major (`ids.len()` = rows ×
    /// len, see [`row_len`]), at positions past..past+len of every row (len > 1
    /// only for the prompt; logits for every fed position are computed, no
    /// last-position shortcut), extends the cache (of batch `rows`: every step
    /// until the next reset has the prompt's rows), and returns each row's
    /// greedy next id: the argmax of its last position's logits, ties → the
    /// lowest id.
    fn step_rows(&mut self, ids: &[u32], rows: usize) -> Res<Vec<u32>>;
    /// The last step's last-position logits of each row, vocabulary ids
    /// 0..n-1 (fewer when the vocabulary is smaller). Called after the clock
    /// is read, for probes.
    fn last_logits_rows(&mut self, n: usize) -> Res<Vec<Vec<f32>>>;

    /// [`CausalLm::step_rows`] on one row.
    fn step(&mut self, ids: &[u32]) -> Res<u32> {
        let next = self.step_rows(ids, 1)?;
        match next[..] {
            [id] => Ok(id),
            _ => Err(format!("gpt2: {} next ids for 1 row", next.len()).into()),
        }
    }
    /// [`CausalLm::last_logits_rows`] after a one-row step.
    fn last_logits(&mut self, n: usize) -> Res<Vec<f32>> {
        let mut rows = self.last_logits_rows(n)?;
        match rows.len() {
            1 => Ok(rows.pop().unwrap()),
            r => Err(format!("gpt2: last_logits after a step of {r} rows").into()),
        }
    }
}

/// The length of each of `rows` rows in ids (row-major), or an error unless
/// ids is that many non-empty rows of equal length: what a
/// [`CausalLm::step_rows`] checks first.
pub fn row_len(ids: &[u32], rows: usize) -> Res<usize> {
    if rows == 0 || ids.is_empty() || !ids.len().is_multiple_of(rows) {
        return Err(format!("gpt2: {} ids are not {rows} non-empty rows of equal length", ids.len()).into());
    }
    Ok(ids.len() / rows)
}

/// The outcome of one batched generation.
pub struct Generation {
    /// Per row, its generated ids.
    pub tokens: Vec<Vec<u32>>,
    /// Seconds from the start of the prompt call to the first ids of every row.
    pub ttft: f64,
    /// Seconds per later step, from feeding the previous ids to having the next.
    pub per_token: Vec<f64>,
    /// Per row, the first PROBE_STEPS steps' logits, vocabulary ids
    /// 0..PROBE_VOCAB-1, step-major.
    pub logits: Vec<Vec<f32>>,
}

/// Greedy decoding of exactly new_tokens ids after each of `rows` prompts of
/// equal length (row-major in prompts) as one batch: each step feeds the rows'
/// previous ids as [rows, 1] (end-of-text does not stop it). The first clock
/// covers resetting the cache and the prompt step; each later clock one step,
/// until every row's next id is on the host. Probe logits are copied after
/// the clock.
pub fn generate_batch<M: CausalLm>(m: &mut M, prompts: &[u32], rows: usize, new_tokens: usize) -> Res<Generation> {
    if rows == 0 {
        return Err("gpt2: batch 0: want >= 1".into());
    }
    if prompts.is_empty() {
        return Err("gpt2: empty prompt".into());
    }
    row_len(prompts, rows)?;
    if new_tokens == 0 {
        return Err("gpt2: new_tokens 0: want >= 1".into());
    }
    let mut g = Generation {
        tokens: vec![Vec::with_capacity(new_tokens); rows],
        ttft: 0.0,
        per_token: Vec::with_capacity(new_tokens),
        logits: vec![vec![]; rows],
    };
    let mut next = vec![];
    for n in 0..new_tokens {
        let t0 = Instant::now();
        next = if n == 0 {
            m.reset()?;
            m.step_rows(prompts, rows)?
        } else {
            m.step_rows(&next, rows)?
        };
        let dt = t0.elapsed().as_secs_f64();
        if n == 0 {
            g.ttft = dt;
        } else {
            g.per_token.push(dt);
        }
        if next.len() != rows {
            return Err(format!("gpt2: {} next ids for {rows} rows", next.len()).into());
        }
        if n < PROBE_STEPS {
            let logits = m.last_logits_rows(PROBE_VOCAB)?;
            if logits.len() != rows {
                return Err(format!("gpt2: last logits of {} rows for {rows}", logits.len()).into());
            }
            for (probe, l) in g.logits.iter_mut().zip(logits) {
                probe.extend(l);
            }
        }
        for (tokens, &id) in g.tokens.iter_mut().zip(&next) {
            tokens.push(id);
        }
    }
    Ok(g)
}

/// [`generate_batch`] of one prompt.
pub fn generate<M: CausalLm>(m: &mut M, prompt: &[u32], new_tokens: usize) -> Res<Generation> {
    generate_batch(m, prompt, 1, new_tokens)
}

/// Runs llm/gpt2. `load` makes the tokenizer and the model from the spec's
/// files; it is the one "load" entry.
pub fn run_gpt2<M: CausalLm>(spec: &Spec, result: &mut Result, load: impl FnOnce() -> Res<(Tokenizer, M)>) -> Res<()> {
    if spec.inputs.contains_key("prompt_ids") {
        return sweep::gpt2(spec, result, load); // --size sweep: fixed token ids
    }
    let new_tokens = param(spec, "new_tokens", 150)?;
    let limit = param(spec, "limit", 0)?;
    if new_tokens < 1 {
        return Err(format!("new_tokens {new_tokens}: want >= 1").into());
    }
    let prompts = load_prompts(spec.input("prompts")?, limit)?;
    result.params.insert("new_tokens".into(), json!(new_tokens));
    result.params.insert("limit".into(), json!(limit));
    result.params.insert("eos_stops".into(), json!(false));

    let (tok, mut model) = result.time(true, "load", load)?;

    let mut request = |result: &mut Result, prompt: &str, timed: bool| -> Res<Generation> {
        let enc = result.time(timed, "tokenize", || tok.encode(prompt, false)).map_err(|e| format!("tokenize: {e}"))?;
        let g = generate(&mut model, enc.get_ids(), new_tokens)?;
        if timed {
            result.add("ttft", g.ttft);
            for &d in &g.per_token {
                result.add("per_token", d);
            }
        }
        Ok(g)
    };
    for _ in 0..spec.warmup {
        request(result, &prompts[0], false).map_err(|e| format!("warm-up: {e}"))?;
    }
    timed_generations(spec, result, &prompts, "prompt", |result, p| request(result, p, true))
}

/// The timed repetitions of llm/gpt2 over prompts (each a prompt or a batch
/// of them, named `what` in errors; `run` generates from one and records its
/// phases), then the metrics and probes of every GPT-2 result: the one loop
/// of the workload and of its sweep. The probes are the first generation's,
/// row after row.
pub(crate) fn timed_generations<P>(
    spec: &Spec,
    result: &mut Result,
    prompts: &[P],
    what: &str,
    mut run: impl FnMut(&mut Result, &P) -> Res<Generation>,
) -> Res<()> {
    let (mut first, mut gen_time, mut generated) = (None, 0.0, 0usize);
    for _ in 0..spec.reps {
        for (k, p) in prompts.iter().enumerate() {
            let g = run(result, p).map_err(|e| format!("{what} {k}: {e}"))?;
            gen_time += g.ttft + g.per_token.iter().sum::<f64>();
            generated += g.tokens.iter().map(Vec::len).sum::<usize>();
            if first.is_none() {
                first = Some(g);
            }
        }
    }
    let first = first.ok_or("gpt2: no timed prompts")?;
    result.metric("tokens_per_s", generated as f64 / gen_time);
    let ttft = percentile(&result.phases["ttft"], 50.0);
    result.metric("ttft_p50", ttft);
    if let Some(pt) = result.phases.get("per_token").filter(|v| !v.is_empty()) {
        let v = percentile(pt, 50.0);
        result.metric("per_token_p50", v);
    }
    result.probe("gen_logits", first.logits.iter().flatten().map(|&v| v as f64));
    result.probe("tokens", first.tokens.iter().flatten().map(|&t| t as f64));
    Ok(())
}
