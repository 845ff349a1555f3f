//! For the tests of the Rust LLM implementations (rust-ort, rust-candle,
//! rust-tch): the tiny models, specs, running a binary or a Python
//! implementation on a spec, and comparing probes. A test that lacks what it
//! needs (the project's .venv python, the prepared data) prints why and
//! returns, or fails with why under [`require_all`]: see [`models`], [`skip`].
//!
//! Models: $MLBENCH_TEST_MODELS when set (as the Go tests: a directory with
//! bert-qa/ and gpt2/, used as it is), else the tiny models, made once into
//! <tmp>/mlbench-llm-tiny by `models.py --tiny` (which skips a model already
//! there, so later runs take seconds).

use crate::{generate, generate_batch, CausalLm};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../..").canonicalize().unwrap()
}

/// The project's .venv python, if built.
pub fn python() -> Option<PathBuf> {
    let p = repo().join(".venv/bin/python");
    p.exists().then_some(p)
}

/// Whether a test that cannot run must fail instead of skipping, as in the Go
/// and Python tests: MLBENCH_REQUIRE_ALL=1 (`./build.sh test` sets it), or CI
/// set (to anything but "", "0" or "false").
pub fn require_all() -> bool {
    let set = |k: &str| std::env::var(k).is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"));
    std::env::var("MLBENCH_REQUIRE_ALL").is_ok_and(|v| v == "1") || set("CI")
}

/// Says why the calling test cannot run here, which then returns; under
/// [`require_all`] it fails the test with that reason instead.
pub fn skip(why: &str) {
    if require_all() {
        panic!("cannot run: {why} (MLBENCH_REQUIRE_ALL=1 or CI: a test that cannot run fails)");
    }
    eprintln!("SKIP: {why}");
}

/// Why the end-to-end tests cannot run here, if they cannot.
fn missing() -> Option<String> {
    if python().is_none() {
        return Some("no .venv/bin/python".into());
    }
    for f in [
        "data/processed/squad_v2_dev/dev-v2.0.json",
        "data/processed/prompts/prompts.json",
        "data/processed/tokenizers/bert-base-uncased/tokenizer.json",
        "data/processed/tokenizers/gpt2/tokenizer.json",
    ] {
        if !repo().join(f).exists() {
            return Some(format!("no {f} (mlbench data prepare)"));
        }
    }
    None
}

fn tiny_models() -> &'static Result<PathBuf, String> {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(d) = std::env::var_os("MLBENCH_TEST_MODELS").filter(|d| !d.is_empty()) {
            return Ok(PathBuf::from(d));
        }
        let dir = std::env::temp_dir().join("mlbench-llm-tiny");
        let out = Command::new(python().unwrap())
            .arg(repo().join("reference/python/models.py"))
            .args(["--tiny", "--out"])
            .arg(&dir)
            .arg("--tokenizers")
            .arg(repo().join("data/processed/tokenizers"))
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("models.py --tiny failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        Ok(dir)
    })
}

/// The models' directory (bert-qa/ and gpt2/ in it), or None after printing
/// why the test cannot run.
pub fn models() -> Option<&'static Path> {
    if let Some(why) = missing() {
        skip(&why);
        return None;
    }
    match tiny_models() {
        Ok(d) => Some(d),
        Err(e) => {
            skip(e);
            None
        }
    }
}

/// The model directory of a task under models.
pub fn model_dir(models: &Path, task: &str) -> PathBuf {
    models.join(if task == "llm/gpt2" { "gpt2" } else { "bert-qa" })
}

/// A new scratch directory unique to this process and name.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mlb-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A spec (docs/PROTOCOL.md) of task on the model in model_dir (its
/// tokenizer.json beside it), the project's SQuAD or prompts, 2 threads, cpu,
/// its result going to dir/<name>.result.json.
pub fn spec_value(task: &str, model_dir: &Path, dir: &Path, name: &str, params: Value, warmup: usize, reps: usize) -> Value {
    let mut inputs = json!({"model_dir": model_dir, "tokenizer": model_dir.join("tokenizer.json")});
    if task == "llm/gpt2" {
        inputs["prompts"] = json!(repo().join("data/processed/prompts/prompts.json"));
    } else {
        inputs["squad"] = json!(repo().join("data/processed/squad_v2_dev/dev-v2.0.json"));
    }
    json!({
        "schema_version": 1, "task": task, "variant": "", "impl": name, "size": "quick", "inputs": inputs,
        "datasets": [], "params": params, "warmup": warmup, "reps": reps, "threads": 2, "device": "cpu",
        "result_path": dir.join(format!("{name}.result.json")), "work_dir": dir,
    })
}

/// Writes spec as dir/<name>.spec.json.
pub fn write_spec(dir: &Path, name: &str, spec: &Value) -> PathBuf {
    let p = dir.join(format!("{name}.spec.json"));
    std::fs::write(&p, serde_json::to_vec_pretty(spec).unwrap()).unwrap();
    p
}

/// Runs cmd --spec spec, which must succeed, and returns its result.
pub fn run_spec(cmd: &mut Command, spec: &Path) -> Value {
    let out = cmd.arg("--spec").arg(spec).output().unwrap();
    assert!(out.status.success(), "{:?} failed: {}", cmd, String::from_utf8_lossy(&out.stderr));
    let s: Value = serde_json::from_slice(&std::fs::read(spec).unwrap()).unwrap();
    serde_json::from_slice(&std::fs::read(s["result_path"].as_str().unwrap()).unwrap()).unwrap()
}

/// Runs the Rust binary bin as impl `name` and the Python implementation
/// reference/python/<script> as `py_name` on the same spec of task on the
/// tiny models; None (after printing why) when the test cannot run here.
/// (Each argument is one field of the two specs, hence their number.)
#[allow(clippy::too_many_arguments)]
pub fn against_python(
    bin: &str,
    name: &str,
    script: &str,
    py_name: &str,
    task: &str,
    params: Value,
    warmup: usize,
    reps: usize,
) -> Option<(Value, Value)> {
    let models = models()?;
    let md = model_dir(models, task);
    let dir = scratch(&format!("{name}-{}", task.replace('/', "-")));
    let rs = run_spec(&mut Command::new(bin), &write_spec(&dir, name, &spec_value(task, &md, &dir, name, params.clone(), warmup, reps)));
    let mut py = Command::new(python().unwrap());
    py.arg(repo().join("reference/python").join(script)).current_dir(repo().join("reference/python"));
    let pr = run_spec(&mut py, &write_spec(&dir, py_name, &spec_value(task, &md, &dir, py_name, params, warmup, reps)));
    std::fs::remove_dir_all(&dir).unwrap();
    Some((rs, pr))
}

pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

/// The largest absolute difference of two equally long vectors.
pub fn max_abs(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// Checks the probes named in keys against the reference's (max abs diff
/// within tol, printed) and returns the largest difference.
pub fn check_probes(rs: &Value, reference: &Value, keys: &[&str], tol: f64) -> f64 {
    let mut worst = 0f64;
    for k in keys {
        let (a, b) = (floats(&rs["probes"][k]), floats(&reference["probes"][k]));
        assert!(!a.is_empty(), "{k}: no values");
        let d = max_abs(&a, &b);
        eprintln!("{k}: {} values, max abs diff vs {} {d:e}", a.len(), reference["impl"]);
        assert!(d <= tol, "{k}: max abs diff {d} > {tol}");
        worst = worst.max(d);
    }
    worst
}

/// The phase counts, metrics and shared parameters every llm/bert-qa result
/// must have after `reps` passes over `questions` questions, checked against
/// the reference's.
pub fn check_bert_qa_shape(rs: &Value, reference: &Value, questions: usize, reps: usize) {
    assert_eq!(rs["phases"]["load"].as_array().unwrap().len(), 1);
    for ph in ["tokenize", "model", "postprocess"] {
        assert_eq!(rs["phases"][ph].as_array().unwrap().len(), questions * reps, "{ph}: {reps} reps x {questions} questions");
    }
    for m in ["requests_per_s", "latency_p50", "latency_p90", "latency_p99"] {
        assert!(rs["metrics"][m].as_f64().unwrap() > 0.0, "{m}");
    }
    assert_eq!(rs["metrics"]["windows_per_request"], reference["metrics"]["windows_per_request"]);
    assert_eq!(rs["not_applicable"], json!({"em": "random weights", "f1": "random weights"}));
    for k in ["max_length", "stride", "n_best", "max_answer_length", "limit", "max_question_tokens"] {
        assert_eq!(rs["params"][k], reference["params"][k], "params.{k}");
    }
}

/// The same for llm/gpt2 after `reps` passes over `prompts` prompts of
/// `new_tokens` tokens; the generated tokens must equal the reference's.
pub fn check_gpt2_shape(rs: &Value, reference: &Value, prompts: usize, reps: usize, new_tokens: usize) {
    assert_eq!(rs["probes"]["tokens"], reference["probes"]["tokens"]);
    assert_eq!(rs["probes"]["tokens"].as_array().unwrap().len(), new_tokens);
    assert_eq!(rs["phases"]["ttft"].as_array().unwrap().len(), prompts * reps, "{reps} reps x {prompts} prompts");
    assert_eq!(rs["phases"]["per_token"].as_array().unwrap().len(), prompts * reps * (new_tokens - 1));
    assert_eq!(rs["phases"]["tokenize"].as_array().unwrap().len(), prompts * reps);
    for m in ["tokens_per_s", "ttft_p50", "per_token_p50"] {
        assert!(rs["metrics"][m].as_f64().unwrap() > 0.0, "{m}");
    }
    for k in ["new_tokens", "limit", "eos_stops"] {
        assert_eq!(rs["params"][k], reference["params"][k], "params.{k}");
    }
}

/// As [`against_python`] for the sweep case of task at length `len`
/// (bert-qa: seq_len, gpt2: prompt_len, 4 new tokens) on the prepared
/// data/processed/llm_sweep ids: the Rust and the Python results, or None
/// (after printing why) when the test cannot run here.
pub fn sweep_against_python(bin: &str, name: &str, script: &str, py_name: &str, task: &str, len: usize) -> Option<(Value, Value)> {
    let sweep = repo().join("data/processed/llm_sweep");
    let files: Vec<(&str, PathBuf)> = if task == "llm/gpt2" {
        vec![("prompt_ids", sweep.join(format!("gpt2_prompts_{len}.npy")))]
    } else {
        vec![("ids", sweep.join(format!("bert_ids_{len}.npy"))), ("token_type_ids", sweep.join(format!("bert_types_{len}.npy")))]
    };
    if let Some((_, f)) = files.iter().find(|(_, f)| !f.exists()) {
        skip(&format!("no {} (mlbench data prepare --dataset llm_sweep)", f.display()));
        return None;
    }
    let models = models()?;
    let md = model_dir(models, task);
    let dir = scratch(&format!("{name}-sweep-{}", task.replace('/', "-")));
    let spec = |n: &str| {
        let params = if task == "llm/gpt2" { json!({"prompt_len": len, "new_tokens": 4}) } else { json!({"seq_len": len}) };
        let mut s = spec_value(task, &md, &dir, n, params, 1, 1);
        s["size"] = json!("sweep");
        let inputs = s["inputs"].as_object_mut().unwrap();
        inputs.retain(|k, _| k == "model_dir" || k == "tokenizer");
        for (k, f) in &files {
            inputs.insert(k.to_string(), json!(f));
        }
        s
    };
    let rs = run_spec(&mut Command::new(bin), &write_spec(&dir, name, &spec(name)));
    let mut py = Command::new(python().unwrap());
    py.arg(repo().join("reference/python").join(script)).current_dir(repo().join("reference/python"));
    let pr = run_spec(&mut py, &write_spec(&dir, py_name, &spec(py_name)));
    std::fs::remove_dir_all(&dir).unwrap();
    Some((rs, pr))
}

/// The phases, metrics and parameters of a sweep result (one repetition)
/// against the reference's, and its probes within tol.
pub fn check_sweep(rs: &Value, reference: &Value, task: &str, tol: f64) {
    if task == "llm/gpt2" {
        check_probes(rs, reference, &["gen_logits"], tol);
        assert_eq!(rs["probes"]["tokens"], reference["probes"]["tokens"]);
        assert!(rs["phases"].get("tokenize").is_none(), "no tokenizer in a sweep");
        for k in ["prompt_len", "new_tokens", "rows"] {
            assert_eq!(rs["params"][k], reference["params"][k], "params.{k}");
        }
    } else {
        check_probes(rs, reference, &["start_logits", "end_logits"], tol);
        let keys = |v: &Value| v["phases"].as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(rs), ["load", "model"]);
        assert_eq!(rs["phases"]["model"].as_array().unwrap().len(), rs["params"]["rows"].as_u64().unwrap() as usize);
        for k in ["seq_len", "rows"] {
            assert_eq!(rs["params"][k], reference["params"][k], "params.{k}");
        }
        assert_eq!(rs["not_applicable"], reference["not_applicable"]);
    }
    let keys = |v: &Value| v["metrics"].as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(rs), keys(reference));
}

/// Four prompts of equal length for the batch checks (GPT-2 token ids).
pub const BATCH_PROMPTS: [[u32; 9]; 4] = [
    [464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290],
    [40, 1101, 257, 1310, 1110, 286, 262, 995, 13],
    [1858, 318, 645, 1295, 588, 1363, 11, 645, 1295],
    [50256, 0, 50255, 13, 13, 13, 198, 198, 764],
];

/// Greedy generation of the [`BATCH_PROMPTS`] rows as consecutive batches
/// of 4 and of 2 against each row's batch-1 generation: for every row the same
/// new_tokens ids and probe logits (the first PROBE_STEPS steps) within tol.
/// Returns the largest difference.
pub fn check_batches_match_rows<M: CausalLm>(m: &mut M, new_tokens: usize, tol: f64) -> f64 {
    let singles: Vec<_> = BATCH_PROMPTS.iter().map(|p| generate(m, p, new_tokens).unwrap()).collect();
    let wide = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<_>>();
    let mut worst = 0f64;
    for b in [4, 2] {
        for (k, rows) in BATCH_PROMPTS.chunks(b).enumerate() {
            let ids: Vec<u32> = rows.iter().flatten().copied().collect();
            let g = generate_batch(m, &ids, b, new_tokens).unwrap();
            assert_eq!((g.tokens.len(), g.logits.len(), g.per_token.len()), (b, b, new_tokens - 1), "batch {b}: shapes");
            for r in 0..b {
                let one = &singles[k * b + r];
                assert_eq!(g.tokens[r], one.tokens[0], "batch {b}, row {}: tokens", k * b + r);
                assert!(!one.logits[0].is_empty(), "no probe logits");
                let d = max_abs(&wide(&g.logits[r]), &wide(&one.logits[0])); // (asserts equal lengths)
                assert!(d <= tol, "batch {b}, row {}: probe logits differ by {d} > {tol}", k * b + r);
                worst = worst.max(d);
            }
        }
    }
    eprintln!("batches of 4 and 2 vs batch 1: the same tokens, probe logits max abs diff {worst:e}");
    worst
}
