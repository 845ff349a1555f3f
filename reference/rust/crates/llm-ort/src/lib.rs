//! rust-ort: the llm/bert-qa and llm/gpt2 workloads of docs/LLM.md on ONNX
//! Runtime through the `ort` crate (load-dynamic on the pinned wheel's
//! libonnxruntime.so.1.30.0) and the `tokenizers` crate. It mirrors
//! reference/python/llm_common.py + llm_ort.py and ort/ (Go) step by step.

pub mod libpath;
pub mod qa;

use mlbench_common::{Res, Result, Spec};
use ort::session::builder::GraphOptimizationLevel;
use ort::session::{Session, SessionInputValue};
use ort::value::{DynValue, Tensor, TensorRef};
use qa::*;
use serde_json::{json, Value};
use std::borrow::Cow;
use std::path::Path;
use std::time::Instant;
use tokenizers::Tokenizer;

/// The crate versions pinned in Cargo.toml (named in the result's notes).
pub const ORT_CRATE_VERSION: &str = "2.0.0-rc.15";
pub const TOKENIZERS_CRATE_VERSION: &str = "0.23.2";

pub const TASKS: [&str; 2] = ["llm/bert-qa", "llm/gpt2"];

/// An integer parameter, or def when absent.
fn param(spec: &Spec, name: &str, def: usize) -> Res<usize> {
    if spec.params.contains_key(name) { spec.usize(name) } else { Ok(def) }
}

fn trained(spec: &Spec) -> bool {
    spec.params.get("trained").and_then(Value::as_bool).unwrap_or(false)
}

fn load_tokenizer(path: &str) -> Res<Tokenizer> {
    Tokenizer::from_file(path).map_err(|e| format!("tokenizer {path}: {e}").into())
}

/// The execution providers a session gets: CUDA first when device is cuda.
fn providers(spec: &Spec) -> Vec<&'static str> {
    if spec.device == "cuda" { vec!["CUDAExecutionProvider", "CPUExecutionProvider"] } else { vec!["CPUExecutionProvider"] }
}

/// One session as every language makes it: intra-op threads = spec.threads,
/// inter-op 1, sequential, ORT_ENABLE_ALL; the CUDA EP first on cuda (an error
/// when this ONNX Runtime lacks it or it fails to register).
fn session(spec: &Spec, env: &ort::environment::Environment) -> Res<Session> {
    let model = Path::new(spec.input("model_dir")?).join("model.onnx");
    let mut b = Session::builder(env)?
        .with_intra_threads(spec.threads).map_err(|e| e.to_string())?
        .with_inter_threads(1).map_err(|e| e.to_string())?
        .with_parallel_execution(false).map_err(|e| e.to_string())?
        // ort's Level3 is ORT_ENABLE_LAYOUT since 2.0.0-rc.11; All is ORT_ENABLE_ALL (99).
        .with_optimization_level(GraphOptimizationLevel::All).map_err(|e| e.to_string())?;
    if spec.device == "cuda" {
        use ort::ep::ExecutionProvider;
        if !ort::ep::CUDA::is_available()? {
            return Err("device cuda: this ONNX Runtime has no CUDAExecutionProvider".into());
        }
        b = b.with_execution_providers([ort::ep::CUDA::default().build().error_on_failure()]).map_err(|e| e.to_string())?;
    }
    b.commit_from_file(&model).map_err(|e| format!("{}: {e}", model.display()).into())
}

/// Runs the spec's task; the entry point of the binary.
pub fn run(spec: &Spec) -> Res<Result> {
    if !TASKS.contains(&spec.task.as_str()) {
        return Err(format!("unknown task {:?}: want one of {}", spec.task, TASKS.join(", ")).into());
    }
    let lib = libpath::library_path()?;
    let env = ort::init_from(&lib).map_err(|e| format!("load ONNX Runtime: {e}"))?.with_name("mlbench").build()?;
    let version = libpath::loaded_version(&lib).unwrap_or_else(|_| libpath::version_from_path(&lib));
    let mut result = Result::new(spec, "onnxruntime", &version);
    if spec.task == "llm/bert-qa" {
        bert_qa(spec, &mut result, &env)?;
    } else {
        gpt2(spec, &mut result, &env)?;
    }
    let prov = providers(spec);
    for (k, v) in [("intra_op_num_threads", json!(spec.threads)), ("inter_op_num_threads", json!(1)),
        ("graph_optimization_level", json!("ORT_ENABLE_ALL")), ("providers", json!(prov))] {
        result.params.insert(k.into(), v);
    }
    result.notes.push(format!(
        "onnxruntime {version} ({}) through the ort crate {ORT_CRATE_VERSION} (load-dynamic, api-30), {}, \
         intra_op_num_threads={}, inter_op_num_threads=1, sequential, ORT_ENABLE_ALL; tokenizers crate \
         {TOKENIZERS_CRATE_VERSION} (byte offsets); inputs borrowed from Rust vectors, outputs copied out \
         (gpt2: the present.* outputs fed back as past_key_values.* without copies)",
        lib.display(), prov[0], spec.threads));
    Ok(result)
}

// --- llm/bert-qa ------------------------------------------------------------------------

/// The windows of one question (the "tokenize" phase).
pub fn tokenize_question(tok: &Tokenizer, question: &str, context: &str, cls: u32, sep: u32,
    max_length: usize, stride: usize) -> Res<Vec<Window>> {
    let q = tok.encode(question, false).map_err(|e| format!("tokenize question: {e}"))?;
    let c = tok.encode(context, false).map_err(|e| format!("tokenize context: {e}"))?;
    windows(q.get_ids(), c.get_ids(), c.get_offsets(), cls, sep, max_length, stride)
}

/// Runs one window (batch 1): its start and end logits.
fn run_window(sess: &mut Session, w: &Window) -> Res<(Vec<f32>, Vec<f32>)> {
    let shape = [1usize, w.input_ids.len()];
    let inputs: Vec<(Cow<str>, SessionInputValue)> = vec![
        ("input_ids".into(), TensorRef::from_array_view((shape, &w.input_ids[..]))?.into()),
        ("attention_mask".into(), TensorRef::from_array_view((shape, &w.attention_mask[..]))?.into()),
        ("token_type_ids".into(), TensorRef::from_array_view((shape, &w.token_type_ids[..]))?.into()),
    ];
    let out = sess.run(inputs)?;
    let get = |name: &str| -> Res<Vec<f32>> {
        let v = out.get(name).ok_or_else(|| format!("bert-qa: no output {name}"))?;
        let (_, data) = v.try_extract_tensor::<f32>()?;
        if data.len() != w.input_ids.len() {
            return Err(format!("bert-qa: {name} has {} values for {} tokens", data.len(), w.input_ids.len()).into());
        }
        Ok(data.to_vec())
    };
    Ok((get("start_logits")?, get("end_logits")?))
}

fn bert_qa(spec: &Spec, result: &mut Result, env: &ort::environment::Environment) -> Res<()> {
    let max_length = param(spec, "max_length", 384)?;
    let stride = param(spec, "stride", 128)?;
    let n_best = param(spec, "n_best", 20)?;
    let max_answer = param(spec, "max_answer_length", 30)?;
    let limit = param(spec, "limit", 0)?;
    let questions = load_squad(spec.input("squad")?, limit)?;
    if questions.is_empty() {
        return Err("bert-qa: no questions".into());
    }
    for (k, v) in [("max_length", max_length), ("stride", stride), ("n_best", n_best), ("max_answer_length", max_answer),
        ("limit", limit), ("max_question_tokens", MAX_QUESTION_TOKENS)] {
        result.params.insert(k.into(), json!(v));
    }
    let tok_path = spec.input("tokenizer")?;

    let (tok, mut sess) = result.time(true, "load", || -> Res<_> { Ok((load_tokenizer(tok_path)?, session(spec, env)?)) })?;
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
        let logits = result.time(timed, "model", || wins.iter().map(|w| run_window(&mut sess, w)).collect::<Res<Vec<_>>>())?;
        let (starts, ends): (Vec<_>, Vec<_>) = logits.into_iter().unzip();
        let a = result.time(timed, "postprocess", || best_answer(&q.context, &wins, &starts, &ends, n_best, max_answer))?;
        Ok(Outcome { starts, ends, answer: a.text, windows: wins.len() })
    };

    for _ in 0..spec.warmup {
        request(result, &questions[0], false).map_err(|e| format!("warm-up: {e}"))?;
    }
    let (mut starts, mut ends, mut em, mut f1, mut n_windows) = (vec![], vec![], 0.0, 0.0, 0);
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
    Ok(())
}

// --- llm/gpt2 ---------------------------------------------------------------------------

/// Greedy generation with the KV cache as the flat past_key_values.* inputs
/// and present.* outputs of docs/LLM.md.
pub struct Gpt2 {
    pub sess: Session,
    pub heads: usize,
    pub head_dim: usize,
    /// The session's past_key_values.* input names, in its order, and the matching present.* outputs.
    pub past_names: Vec<String>,
    pub present_names: Vec<String>,
}

/// The outcome of one prompt.
pub struct Generation {
    pub tokens: Vec<u32>,
    /// Seconds from the start of the prompt call to the first id.
    pub ttft: f64,
    /// Seconds per later id, from feeding the previous id to having the next.
    pub per_token: Vec<f64>,
    /// The first PROBE_STEPS positions' logits, vocabulary ids 0..PROBE_VOCAB-1.
    pub logits: Vec<Vec<f32>>,
}

impl Gpt2 {
    pub fn new(sess: Session, model_dir: &str) -> Res<Gpt2> {
        let p = Path::new(model_dir).join("config.json");
        let cfg: Value = serde_json::from_slice(&std::fs::read(&p).map_err(|e| format!("read {}: {e}", p.display()))?)?;
        let get = |k: &str| cfg[k].as_u64().map(|v| v as usize).filter(|&v| v > 0).ok_or_else(|| format!("{}: no {k}", p.display()));
        let (heads, embd) = (get("n_head")?, get("n_embd")?);
        if embd % heads != 0 {
            return Err(format!("{}: n_embd {embd} not a multiple of n_head {heads}", p.display()).into());
        }
        let past_names: Vec<String> = sess.inputs().iter().map(|i| i.name().to_string()).filter(|n| n.starts_with("past_key_values.")).collect();
        let present_names = past_names.iter().map(|n| n.replacen("past_key_values.", "present.", 1)).collect();
        Ok(Gpt2 { sess, heads, head_dim: embd / heads, past_names, present_names })
    }

    /// Greedy decoding of exactly new_tokens ids after prompt (end-of-text does
    /// not stop it). Each step's clock covers building the inputs, the model,
    /// the argmax and taking the presents; the probe logits are copied after it.
    pub fn generate(&mut self, prompt: &[u32], new_tokens: usize) -> Res<Generation> {
        if prompt.is_empty() {
            return Err("gpt2: empty prompt".into());
        }
        if new_tokens == 0 {
            return Err("gpt2: new_tokens 0: want >= 1".into());
        }
        let mut g = Generation { tokens: Vec::with_capacity(new_tokens), ttft: 0.0, per_token: Vec::with_capacity(new_tokens), logits: vec![] };
        let mut past: Vec<DynValue> = vec![];
        let mut ids: Vec<i64> = prompt.iter().map(|&t| t as i64).collect();
        let mut n_past = 0usize;
        for n in 0..new_tokens {
            let t0 = Instant::now();
            if n == 0 {
                // The prompt: an empty cache (a zero-length past dimension).
                past = self.past_names.iter().map(|_| Tensor::<f32>::from_array(([1, self.heads, 0, self.head_dim], Vec::<f32>::new())).map(|t| t.into_dyn()))
                    .collect::<ort::Result<_>>()?;
            }
            let len = ids.len();
            let mask = vec![1i64; n_past + len];
            let pos: Vec<i64> = (n_past..n_past + len).map(|p| p as i64).collect();
            let mut inputs: Vec<(Cow<str>, SessionInputValue)> = Vec::with_capacity(3 + past.len());
            inputs.push(("input_ids".into(), TensorRef::from_array_view(([1, len], &ids[..]))?.into()));
            inputs.push(("attention_mask".into(), TensorRef::from_array_view(([1, n_past + len], &mask[..]))?.into()));
            inputs.push(("position_ids".into(), TensorRef::from_array_view(([1, len], &pos[..]))?.into()));
            for (name, v) in self.past_names.iter().zip(&past) {
                inputs.push((name.as_str().into(), v.into()));
            }
            let mut out = self.sess.run(inputs)?;
            let (shape, logits) = out.get("logits").ok_or("gpt2: no logits output")?.try_extract_tensor::<f32>()?;
            let vocab = *shape.last().ok_or("gpt2: logits without dimensions")? as usize;
            if vocab == 0 || logits.len() != len * vocab {
                return Err(format!("gpt2: logits shape {shape:?} for {len} ids").into());
            }
            let last = &logits[(len - 1) * vocab..];
            let token = argmax(last);
            let mut next_past = Vec::with_capacity(past.len());
            for name in &self.present_names {
                next_past.push(out.remove(name.as_str()).ok_or_else(|| format!("gpt2: no output {name}"))?);
            }
            let dt = t0.elapsed().as_secs_f64();
            if n == 0 {
                g.ttft = dt;
            } else {
                g.per_token.push(dt);
            }
            if n < PROBE_STEPS {
                let (_, logits) = out.get("logits").unwrap().try_extract_tensor::<f32>()?;
                g.logits.push(logits[(len - 1) * vocab..][..PROBE_VOCAB.min(vocab)].to_vec());
            }
            drop(out);
            past = next_past;
            g.tokens.push(token as u32);
            n_past += len;
            ids = vec![token as i64];
        }
        Ok(g)
    }
}

fn gpt2(spec: &Spec, result: &mut Result, env: &ort::environment::Environment) -> Res<()> {
    let new_tokens = param(spec, "new_tokens", 150)?;
    let limit = param(spec, "limit", 0)?;
    if new_tokens < 1 {
        return Err(format!("new_tokens {new_tokens}: want >= 1").into());
    }
    let prompts = load_prompts(spec.input("prompts")?, limit)?;
    result.params.insert("new_tokens".into(), json!(new_tokens));
    result.params.insert("limit".into(), json!(limit));
    result.params.insert("eos_stops".into(), json!(false));
    let (tok_path, model_dir) = (spec.input("tokenizer")?, spec.input("model_dir")?);

    let (tok, sess) = result.time(true, "load", || -> Res<_> { Ok((load_tokenizer(tok_path)?, session(spec, env)?)) })?;
    let mut model = Gpt2::new(sess, model_dir)?;

    let mut request = |result: &mut Result, prompt: &str, timed: bool| -> Res<Generation> {
        let enc = result.time(timed, "tokenize", || tok.encode(prompt, false)).map_err(|e| format!("tokenize: {e}"))?;
        let g = model.generate(enc.get_ids(), new_tokens)?;
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
    let (mut first, mut gen_time, mut generated) = (None, 0.0, 0usize);
    for _ in 0..spec.reps {
        for (k, p) in prompts.iter().enumerate() {
            let g = request(result, p, true).map_err(|e| format!("prompt {k}: {e}"))?;
            gen_time += g.ttft + g.per_token.iter().sum::<f64>();
            generated += g.tokens.len();
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
    result.probe("tokens", first.tokens.iter().map(|&t| t as f64));
    Ok(())
}
