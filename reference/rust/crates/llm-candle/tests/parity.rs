//! End-to-end checks against python-transformers
//! (reference/python/llm_transformers.py) on the tiny models of
//! `models.py --tiny` (mlbench_llm::testkit), and load errors. Each test
//! prints why and returns when what it needs is absent (fails instead under
//! MLBENCH_REQUIRE_ALL=1): the project's .venv python, the prepared data
//! (SQuAD, prompts, tokenizers).

use candle_core::{Device, Tensor};
use llm_candle::{BertQa, Gpt2};
use mlbench_common::Spec;
use mlbench_llm::testkit::*;
use mlbench_llm::CausalLm;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Max abs diff of the probes against python-transformers on the tiny models.
const TOL: f64 = 1e-4;

fn rust_and_python(task: &str, params: Value, warmup: usize, reps: usize) -> Option<(Value, Value)> {
    against_python(
        env!("CARGO_BIN_EXE_llm-candle"),
        "rust-candle",
        "llm_transformers.py",
        "python-transformers",
        task,
        params,
        warmup,
        reps,
    )
}

#[test]
fn bert_qa_matches_python_transformers() {
    let Some((rs, py)) = rust_and_python(
        "llm/bert-qa",
        json!({"max_length": 384, "stride": 128, "n_best": 20,
        "max_answer_length": 30, "limit": 3, "trained": false}),
        1,
        2,
    ) else {
        return;
    };
    check_probes(&rs, &py, &["start_logits", "end_logits"], TOL);
    check_bert_qa_shape(&rs, &py, 3, 2);
    assert_eq!(rs["framework"], "candle");
    assert_eq!(rs["framework_version"], "0.11.1");
    assert_eq!(rs["params"]["dtype"], "float32");
    assert_eq!(rs["params"]["attn_implementation"], llm_candle::ATTENTION);
}

#[test]
fn gpt2_matches_python_transformers() {
    let Some((rs, py)) = rust_and_python("llm/gpt2", json!({"new_tokens": 8, "limit": 2, "trained": false}), 1, 2) else { return };
    assert_eq!(floats(&rs["probes"]["gen_logits"]).len(), 5 * 256);
    check_probes(&rs, &py, &["gen_logits"], TOL);
    check_gpt2_shape(&rs, &py, 2, 2, 8);
}

/// The prompt step's logits at every position against feeding the same ids
/// one at a time through the cache (the causal mask and the cache agree).
#[test]
fn gpt2_prompt_matches_stepwise() {
    let Some(models) = models() else { return };
    let mut m = Gpt2::load(models.join("gpt2").to_str().unwrap()).unwrap();
    let ids = [464u32, 2068, 7586, 21831, 18045, 625, 262];
    m.reset().unwrap();
    let all = m.forward(&ids).unwrap().to_vec2::<f32>().unwrap();
    m.reset().unwrap();
    let mut d = 0f32;
    for (i, &id) in ids.iter().enumerate() {
        let one = m.forward(&[id]).unwrap().to_vec2::<f32>().unwrap();
        d = d.max(one[0].iter().zip(&all[i]).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max));
    }
    eprintln!("gpt2 prompt vs stepwise: max abs diff {d:e}");
    assert!(d <= 1e-4, "prompt vs stepwise logits: {d}");
}

/// A copy of models/<name> with config.json edited by edit and the weights
/// less the tensors named in drop.
fn broken_copy(models: &Path, name: &str, dir: &Path, edit: impl FnOnce(&mut Value), drop: &[&str]) -> PathBuf {
    let (src, dst) = (models.join(name), dir.join(name));
    std::fs::create_dir_all(&dst).unwrap();
    let mut cfg: Value = serde_json::from_slice(&std::fs::read(src.join("config.json")).unwrap()).unwrap();
    edit(&mut cfg);
    std::fs::write(dst.join("config.json"), serde_json::to_vec(&cfg).unwrap()).unwrap();
    let mut w: HashMap<String, Tensor> = candle_core::safetensors::load(src.join("model.safetensors"), &Device::Cpu).unwrap();
    for k in drop {
        assert!(w.remove(*k).is_some(), "no {k} in {name}");
    }
    candle_core::safetensors::save(&w, dst.join("model.safetensors")).unwrap();
    dst
}

fn load_err<T>(r: mlbench_common::Res<T>) -> String {
    match r {
        Ok(_) => panic!("loaded, want an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn load_errors() {
    let Some(models) = models() else { return };
    let dir = scratch("llm-candle-broken");
    let p = |d: &PathBuf| d.to_str().unwrap().to_string();

    let d = broken_copy(models, "gpt2", &dir.join("a"), |_| {}, &["transformer.h.1.mlp.c_fc.bias"]);
    let e = load_err(Gpt2::load(&p(&d)));
    assert!(e.contains("transformer.h.1.mlp.c_fc.bias"), "missing weight: {e}");
    let d = broken_copy(models, "bert-qa", &dir.join("b"), |_| {}, &["qa_outputs.weight"]);
    let e = load_err(BertQa::load(&p(&d)));
    assert!(e.contains("qa_outputs.weight"), "missing weight: {e}");
    let d = broken_copy(models, "bert-qa", &dir.join("c"), |_| {}, &["bert.encoder.layer.1.attention.self.key.weight"]);
    let e = load_err(BertQa::load(&p(&d)));
    assert!(e.contains("bert.encoder.layer.1.attention.self.key.weight"), "missing weight: {e}");

    // Wrong shapes: a config that does not match the weights.
    let d = broken_copy(models, "gpt2", &dir.join("d"), |c| c["n_inner"] = json!(100), &[]);
    let e = load_err(Gpt2::load(&p(&d)));
    assert!(e.contains("shape"), "wrong shape: {e}");
    let d = broken_copy(models, "bert-qa", &dir.join("e"), |c| c["intermediate_size"] = json!(100), &[]);
    let e = load_err(BertQa::load(&p(&d)));
    assert!(e.contains("shape"), "wrong shape: {e}");
    // More layers than stored.
    let d = broken_copy(models, "gpt2", &dir.join("f"), |c| c["n_layer"] = json!(3), &[]);
    let e = load_err(Gpt2::load(&p(&d)));
    assert!(e.contains("transformer.h.2."), "missing layer: {e}");
    let d = broken_copy(models, "gpt2", &dir.join("g"), |c| c["activation_function"] = json!("relu"), &[]);
    let e = load_err(Gpt2::load(&p(&d)));
    assert!(e.contains("activation_function"), "{e}");

    // Missing files.
    let d = broken_copy(models, "gpt2", &dir.join("h"), |_| {}, &[]);
    std::fs::remove_file(d.join("model.safetensors")).unwrap();
    let e = load_err(Gpt2::load(&p(&d)));
    assert!(e.contains("model.safetensors"), "missing model file: {e}");
    let e = load_err(BertQa::load(&p(&dir.join("nowhere"))));
    assert!(e.contains("config.json"), "missing config: {e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// device cuda and an unknown task are errors (Err, not a panic).
#[test]
fn spec_errors() {
    let dir = std::env::temp_dir();
    let mut s = spec_value("llm/gpt2", &dir.join("gpt2"), &dir, "rust-candle", json!({}), 0, 1);
    s["device"] = json!("cuda");
    let spec: Spec = serde_json::from_value(s.clone()).unwrap();
    let e = llm_candle::run(&spec).expect_err("device cuda: want an error").to_string();
    assert!(e.contains("CPU only"), "{e}");
    s["device"] = json!("cpu");
    s["task"] = json!("llm/t5");
    let spec: Spec = serde_json::from_value(s).unwrap();
    let e = llm_candle::run(&spec).expect_err("unknown task: want an error").to_string();
    assert!(e.contains("unknown task"), "{e}");
}

/// The sweep input mode (--size sweep): fixed token ids, the same results as Python's.
#[test]
fn sweeps_match_python() {
    for (task, len) in [("llm/bert-qa", 16), ("llm/bert-qa", 64), ("llm/gpt2", 8)] {
        let Some((rs, py)) =
            sweep_against_python(env!("CARGO_BIN_EXE_llm-candle"), "rust-candle", "llm_transformers.py", "python-transformers", task, len)
        else {
            return;
        };
        check_sweep(&rs, &py, task, 1e-4);
    }
}

/// Batches of 4 and of 2 rows give each row's batch-1 tokens and logits.
#[test]
fn gpt2_batches_match_rows() {
    let Some(models) = models() else { return };
    let mut m = Gpt2::load(models.join("gpt2").to_str().unwrap()).unwrap();
    check_batches_match_rows(&mut m, 8, 1e-4);
}
