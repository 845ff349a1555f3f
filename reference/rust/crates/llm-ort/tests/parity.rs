//! End-to-end checks against python-ort (reference/python/llm_ort.py) on the
//! tiny models of `models.py --tiny` (mlbench_llm::testkit). Each test prints
//! why and returns when what it needs is absent (fails instead under
//! MLBENCH_REQUIRE_ALL=1): the ONNX Runtime library, the project's .venv
//! python, the prepared data (SQuAD, prompts, tokenizers).

use mlbench_llm::testkit::*;
use serde_json::{json, Value};
use std::process::Command;

/// Why the tests cannot run here: no ONNX Runtime library.
fn no_ort() -> bool {
    match llm_ort::libpath::library_path() {
        Ok(_) => false,
        Err(e) => {
            skip(&e.to_string());
            true
        }
    }
}

fn rust_and_python(task: &str, params: Value, warmup: usize, reps: usize) -> Option<(Value, Value)> {
    if no_ort() {
        return None;
    }
    against_python(env!("CARGO_BIN_EXE_llm-ort"), "rust-ort", "llm_ort.py", "python-ort", task, params, warmup, reps)
}

#[test]
fn bert_qa_matches_python_ort() {
    let Some((rs, py)) = rust_and_python(
        "llm/bert-qa",
        json!({"max_length": 384, "stride": 128, "n_best": 20,
        "max_answer_length": 30, "limit": 24, "trained": false}),
        1,
        2,
    ) else {
        return;
    };
    check_probes(&rs, &py, &["start_logits", "end_logits"], 1e-3);
    check_bert_qa_shape(&rs, &py, 24, 2);
    assert_eq!(rs["framework"], "onnxruntime");
    assert_eq!(rs["framework_version"], py["framework_version"]);
    for k in ["intra_op_num_threads", "inter_op_num_threads", "graph_optimization_level", "providers"] {
        assert_eq!(rs["params"][k], py["params"][k], "params.{k}");
    }
}

#[test]
fn gpt2_matches_python_ort() {
    let Some((rs, py)) = rust_and_python("llm/gpt2", json!({"new_tokens": 8, "limit": 2, "trained": false}), 1, 2) else { return };
    assert_eq!(floats(&rs["probes"]["gen_logits"]).len(), 5 * 256);
    check_probes(&rs, &py, &["gen_logits"], 1e-3);
    check_gpt2_shape(&rs, &py, 2, 2, 8);
    for k in ["graph_optimization_level", "providers"] {
        assert_eq!(rs["params"][k], py["params"][k], "params.{k}");
    }
}

/// Windows of the real BERT tokenizer on SQuAD contexts (non-ASCII ones
/// included) against llm_common.windows: ids, token types, and the text each
/// context token covers (Rust byte offsets vs Python character offsets).
#[test]
fn windows_match_python_tokenizers() {
    if no_ort() || models().is_none() {
        return;
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
    let out = Command::new(python().unwrap())
        .args(["-c", script])
        .arg(repo().join("reference/python"))
        .arg(&tok_path)
        .arg(&squad)
        .arg(serde_json::to_string(&pick).unwrap())
        .output()
        .unwrap();
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

/// The sweep input mode (--size sweep): fixed token ids, the same results as Python's.
#[test]
fn sweeps_match_python() {
    if no_ort() {
        return;
    }
    for (task, len) in [("llm/bert-qa", 16), ("llm/bert-qa", 64), ("llm/gpt2", 8)] {
        let Some((rs, py)) = sweep_against_python(env!("CARGO_BIN_EXE_llm-ort"), "rust-ort", "llm_ort.py", "python-ort", task, len) else {
            return;
        };
        check_sweep(&rs, &py, task, 1e-3);
    }
}

/// Batches of 4 and of 2 rows give each row's batch-1 tokens and logits (the
/// exported model's batch axis is dynamic).
#[test]
fn gpt2_batches_match_rows() {
    if no_ort() {
        return;
    }
    let Some(models) = models() else { return };
    let md = model_dir(models, "llm/gpt2");
    let dir = std::env::temp_dir();
    let spec: mlbench_common::Spec = serde_json::from_value(spec_value("llm/gpt2", &md, &dir, "rust-ort", json!({}), 0, 1)).unwrap();
    let lib = llm_ort::libpath::library_path().unwrap();
    let env = ort::init_from(&lib).unwrap().with_name("mlbench-test").build().unwrap();
    let mut m = llm_ort::Gpt2::new(llm_ort::session(&spec, &env).unwrap(), md.to_str().unwrap()).unwrap();
    check_batches_match_rows(&mut m, 8, 1e-4);
}
