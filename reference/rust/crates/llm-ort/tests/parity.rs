//! End-to-end checks against python-ort (reference/python/llm_ort.py) on the
//! tiny models of `models.py --tiny`. Each test prints why and returns when
//! what it needs is absent: the ONNX Runtime library, the project's .venv
//! python, the prepared data (SQuAD, prompts, tokenizers).
//!
//! Models: $MLBENCH_TEST_MODELS when set (as the Go tests: a directory with
//! bert-qa/ and gpt2/, used as it is), else the tiny models, made once into
//! <tmp>/mlbench-llm-tiny by `models.py --tiny` (which skips a model already
//! there, so later runs take seconds).

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../..").canonicalize().unwrap()
}

fn python() -> Option<PathBuf> {
    let p = repo().join(".venv/bin/python");
    p.exists().then_some(p)
}

/// Why the end-to-end tests cannot run here, if they cannot.
fn missing() -> Option<String> {
    if let Err(e) = llm_ort::libpath::library_path() {
        return Some(e.to_string());
    }
    if python().is_none() {
        return Some("no .venv/bin/python".into());
    }
    for f in ["data/processed/squad_v2_dev/dev-v2.0.json", "data/processed/prompts/prompts.json",
        "data/processed/tokenizers/bert-base-uncased/tokenizer.json", "data/processed/tokenizers/gpt2/tokenizer.json"] {
        if !repo().join(f).exists() {
            return Some(format!("no {f} (mlbench data prepare)"));
        }
    }
    None
}

/// The tiny models' directory, made on first use.
fn tiny_models() -> &'static Result<PathBuf, String> {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(d) = std::env::var_os("MLBENCH_TEST_MODELS").filter(|d| !d.is_empty()) {
            return Ok(PathBuf::from(d));
        }
        let dir = std::env::temp_dir().join("mlbench-llm-tiny");
        let out = Command::new(python().unwrap()).arg(repo().join("reference/python/models.py"))
            .args(["--tiny", "--out"]).arg(&dir).arg("--tokenizers").arg(repo().join("data/processed/tokenizers"))
            .output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("models.py --tiny failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        Ok(dir)
    })
}

fn skip(why: &str) {
    eprintln!("SKIP: {why}");
}

fn spec(task: &str, models: &Path, dir: &Path, name: &str, params: Value, warmup: usize, reps: usize) -> PathBuf {
    let model = if task == "llm/gpt2" { "gpt2" } else { "bert-qa" };
    let mut inputs = json!({
        "model_dir": models.join(model), "tokenizer": models.join(model).join("tokenizer.json"),
    });
    if task == "llm/gpt2" {
        inputs["prompts"] = json!(repo().join("data/processed/prompts/prompts.json"));
    } else {
        inputs["squad"] = json!(repo().join("data/processed/squad_v2_dev/dev-v2.0.json"));
    }
    let s = json!({
        "schema_version": 1, "task": task, "variant": "", "impl": name, "size": "quick", "inputs": inputs,
        "datasets": [], "params": params, "warmup": warmup, "reps": reps, "threads": 2, "device": "cpu",
        "result_path": dir.join(format!("{name}.result.json")), "work_dir": dir,
    });
    let p = dir.join(format!("{name}.spec.json"));
    std::fs::write(&p, serde_json::to_vec_pretty(&s).unwrap()).unwrap();
    p
}

fn run(cmd: &mut Command, spec: &Path) -> Value {
    let out = cmd.arg("--spec").arg(spec).output().unwrap();
    assert!(out.status.success(), "{:?} failed: {}", cmd, String::from_utf8_lossy(&out.stderr));
    let s: Value = serde_json::from_slice(&std::fs::read(spec).unwrap()).unwrap();
    serde_json::from_slice(&std::fs::read(s["result_path"].as_str().unwrap()).unwrap()).unwrap()
}

fn rust_and_python(task: &str, params: Value, warmup: usize, reps: usize) -> Option<(Value, Value)> {
    if let Some(why) = missing() {
        skip(&why);
        return None;
    }
    let models = match tiny_models() {
        Ok(d) => d,
        Err(e) => {
            skip(e);
            return None;
        }
    };
    let dir = std::env::temp_dir().join(format!("mlb-llm-ort-{}-{}", task.replace('/', "-"), std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rs = run(&mut Command::new(env!("CARGO_BIN_EXE_llm-ort")), &spec(task, models, &dir, "rust-ort", params.clone(), warmup, reps));
    let mut py = Command::new(python().unwrap());
    py.arg(repo().join("reference/python/llm_ort.py")).current_dir(repo().join("reference/python"));
    let pr = run(&mut py, &spec(task, models, &dir, "python-ort", params, warmup, reps));
    std::fs::remove_dir_all(&dir).unwrap();
    Some((rs, pr))
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn max_abs(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn bert_qa_matches_python_ort() {
    let Some((rs, py)) = rust_and_python("llm/bert-qa", json!({"max_length": 384, "stride": 128, "n_best": 20,
        "max_answer_length": 30, "limit": 24, "trained": false}), 1, 2) else { return };
    for k in ["start_logits", "end_logits"] {
        let (a, b) = (floats(&rs["probes"][k]), floats(&py["probes"][k]));
        assert!(!a.is_empty());
        let d = max_abs(&a, &b);
        eprintln!("bert-qa {k}: {} values, max abs diff vs python-ort {d:e}", a.len());
        assert!(d <= 1e-3, "{k}: max abs diff {d}");
    }
    assert_eq!(rs["phases"]["load"].as_array().unwrap().len(), 1);
    for ph in ["tokenize", "model", "postprocess"] {
        assert_eq!(rs["phases"][ph].as_array().unwrap().len(), 48, "{ph}: 2 reps x 24 questions");
    }
    for m in ["requests_per_s", "latency_p50", "latency_p90", "latency_p99"] {
        assert!(rs["metrics"][m].as_f64().unwrap() > 0.0, "{m}");
    }
    assert_eq!(rs["metrics"]["windows_per_request"], py["metrics"]["windows_per_request"]);
    assert_eq!(rs["not_applicable"], json!({"em": "random weights", "f1": "random weights"}));
    assert_eq!(rs["framework"], "onnxruntime");
    assert_eq!(rs["framework_version"], py["framework_version"]);
    for k in ["max_length", "stride", "n_best", "max_answer_length", "limit", "max_question_tokens",
        "intra_op_num_threads", "inter_op_num_threads", "graph_optimization_level", "providers"] {
        assert_eq!(rs["params"][k], py["params"][k], "params.{k}");
    }
}

#[test]
fn gpt2_matches_python_ort() {
    let Some((rs, py)) = rust_and_python("llm/gpt2", json!({"new_tokens": 8, "limit": 2, "trained": false}), 1, 2) else { return };
    let (a, b) = (floats(&rs["probes"]["gen_logits"]), floats(&py["probes"]["gen_logits"]));
    assert_eq!(a.len(), 5 * 256);
    let d = max_abs(&a, &b);
    eprintln!("gpt2 gen_logits: {} values, max abs diff vs python-ort {d:e}", a.len());
    assert!(d <= 1e-3, "gen_logits: max abs diff {d}");
    assert_eq!(rs["probes"]["tokens"], py["probes"]["tokens"]);
    assert_eq!(rs["phases"]["ttft"].as_array().unwrap().len(), 4, "2 reps x 2 prompts");
    assert_eq!(rs["phases"]["per_token"].as_array().unwrap().len(), 4 * 7);
    assert_eq!(rs["phases"]["tokenize"].as_array().unwrap().len(), 4);
    for m in ["tokens_per_s", "ttft_p50", "per_token_p50"] {
        assert!(rs["metrics"][m].as_f64().unwrap() > 0.0, "{m}");
    }
    for k in ["new_tokens", "limit", "eos_stops", "graph_optimization_level", "providers"] {
        assert_eq!(rs["params"][k], py["params"][k], "params.{k}");
    }
}

/// Windows of the real BERT tokenizer on SQuAD contexts (non-ASCII ones
/// included) against llm_common.windows: ids, token types, and the text each
/// context token covers (Rust byte offsets vs Python character offsets).
#[test]
fn windows_match_python_tokenizers() {
    if let Some(why) = missing() {
        return skip(&why);
    }
    let tok_path = repo().join("data/processed/tokenizers/bert-base-uncased/tokenizer.json");
    let squad = repo().join("data/processed/squad_v2_dev/dev-v2.0.json");
    let qs = mlbench_llm::load_squad(squad.to_str().unwrap(), 0).unwrap();
    // Long contexts and non-ASCII ones, a handful of each.
    let mut pick: Vec<usize> = vec![];
    let mut by_len: Vec<usize> = (0..qs.len()).collect();
    by_len.sort_by_key(|&i| std::cmp::Reverse(qs[i].context.len()));
    pick.extend(by_len.iter().step_by(97).take(4));
    pick.extend((0..qs.len()).filter(|&i| !qs[i].context.is_ascii() || !qs[i].question.is_ascii()).step_by(211).take(8));
    let script = r#"
import json, sys
sys.path.insert(0, sys.argv[1])
import llm_common
tok = llm_common.load_tokenizer(sys.argv[2])
qs = llm_common.load_squad(sys.argv[3])
out = []
for i in json.loads(sys.argv[4]):
    for ml, st in ((384, 128), (64, 16)):
        q = qs[i]
        ws = llm_common.windows(tok, q.question, q.context, ml, st)
        out.append([[w.input_ids[0].tolist(), w.token_type_ids[0].tolist(), w.context_start,
                     [q.context[a:b] for a, b in w.offsets.tolist()]] for w in ws])
print(json.dumps(out))
"#;
    let out = Command::new(python().unwrap()).args(["-c", script]).arg(repo().join("reference/python")).arg(&tok_path).arg(&squad)
        .arg(serde_json::to_string(&pick).unwrap()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let want: Value = serde_json::from_slice(&out.stdout).unwrap();
    let tok = tokenizers::Tokenizer::from_file(&tok_path).unwrap();
    let (cls, sep) = (tok.token_to_id("[CLS]").unwrap(), tok.token_to_id("[SEP]").unwrap());
    let mut k = 0;
    let mut n_windows = 0;
    for &i in &pick {
        for (ml, st) in [(384, 128), (64, 16)] {
            let q = &qs[i];
            let ws = mlbench_llm::tokenize_question(&tok, &q.question, &q.context, cls, sep, ml, st).unwrap();
            let w = want[k].as_array().unwrap();
            assert_eq!(ws.len(), w.len(), "question {i}, {ml}/{st}: window count");
            for (a, b) in ws.iter().zip(w) {
                let ids: Vec<i64> = b[0].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
                let types: Vec<i64> = b[1].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
                assert_eq!(a.input_ids, ids, "question {i}, {ml}/{st}: ids");
                assert_eq!(a.token_type_ids, types, "question {i}: token types");
                assert_eq!(a.context_start as u64, b[2].as_u64().unwrap());
                let texts: Vec<&str> = a.offsets.iter().map(|&(s, e)| &q.context[s..e]).collect();
                let want_texts: Vec<&str> = b[3].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
                assert_eq!(texts, want_texts, "question {i}: offsets");
                n_windows += 1;
            }
            k += 1;
        }
    }
    eprintln!("windows: {} questions, {n_windows} windows identical to llm_common.windows", pick.len());
}
