//! End-to-end checks against python-transformers
//! (reference/python/llm_transformers.py) on the tiny models of
//! `models.py --tiny` (mlbench_llm::testkit), and the errors of a broken model
//! directory. Each test prints why and returns when what it needs is absent
//! (fails instead under MLBENCH_REQUIRE_ALL=1): the project's .venv python,
//! the prepared data (SQuAD, prompts, tokenizers).

use mlbench_llm::testkit::*;
use serde_json::{json, Value};
use std::path::Path;

fn rust_and_python(task: &str, params: Value, warmup: usize, reps: usize) -> Option<(Value, Value)> {
    against_python(env!("CARGO_BIN_EXE_llm-tch"), "rust-tch", "llm_transformers.py", "python-transformers", task, params, warmup, reps)
}

#[test]
fn bert_qa_matches_python_transformers() {
    let Some((rs, py)) = rust_and_python(
        "llm/bert-qa",
        json!({"max_length": 384, "stride": 128, "n_best": 20,
        "max_answer_length": 30, "limit": 6, "trained": false}),
        1,
        2,
    ) else {
        return;
    };
    check_probes(&rs, &py, &["start_logits", "end_logits"], 1e-4);
    check_bert_qa_shape(&rs, &py, 6, 2);
    assert_eq!(rs["framework"], "tch");
    assert_eq!(rs["framework_version"], "0.24.0");
    for k in ["attn_implementation", "dtype"] {
        assert_eq!(rs["params"][k], py["params"][k], "params.{k}");
    }
}

#[test]
fn gpt2_matches_python_transformers() {
    let Some((rs, py)) = rust_and_python("llm/gpt2", json!({"new_tokens": 8, "limit": 2, "trained": false}), 1, 2) else { return };
    assert_eq!(floats(&rs["probes"]["gen_logits"]).len(), 5 * 256);
    check_probes(&rs, &py, &["gen_logits"], 1e-4);
    check_gpt2_shape(&rs, &py, 2, 2, 8);
    for k in ["attn_implementation", "dtype"] {
        assert_eq!(rs["params"][k], py["params"][k], "params.{k}");
    }
}

/// Copies the files of a tiny model into a scratch directory, leaving out
/// model.safetensors when `weights` is None and writing `weights` in its place
/// otherwise.
fn broken_copy(from: &Path, to: &Path, weights: Option<&[u8]>) {
    std::fs::create_dir_all(to).unwrap();
    for f in ["config.json", "tokenizer.json"] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
    if let Some(b) = weights {
        std::fs::write(to.join("model.safetensors"), b).unwrap();
    }
}

/// The model's safetensors without the tensor `drop`, or with it reshaped.
fn edited_weights(from: &Path, drop: &str, reshape: bool) -> Vec<u8> {
    let mut ts = tch::Tensor::read_safetensors(from.join("model.safetensors")).unwrap();
    if reshape {
        let t = ts.iter_mut().find(|(n, _)| n == drop).unwrap();
        t.1 = t.1.flatten(0, -1);
    } else {
        ts.retain(|(n, _)| n != drop);
    }
    let dir = scratch("llm-tch-edit");
    let p = dir.join("w.safetensors");
    tch::Tensor::write_safetensors(&ts, &p).unwrap();
    let b = std::fs::read(&p).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    b
}

fn run_err(task: &str, model_dir: &Path, dir: &Path) -> String {
    let v = spec_value(task, model_dir, dir, "rust-tch", json!({"limit": 1, "new_tokens": 2, "trained": false}), 0, 1);
    let spec: mlbench_common::Spec = serde_json::from_value(v).unwrap();
    match llm_tch::run(&spec) {
        Ok(_) => panic!("{task} on {}: no error", model_dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn broken_models_give_errors() {
    let Some(models) = models() else { return };
    let dir = scratch("llm-tch-broken");
    for (task, model, weight) in
        [("llm/bert-qa", "bert-qa", "bert.encoder.layer.1.output.dense.weight"), ("llm/gpt2", "gpt2", "transformer.h.1.attn.c_attn.weight")]
    {
        let from = models.join(model);
        let d = dir.join(format!("{model}-no-file"));
        broken_copy(&from, &d, None);
        let e = run_err(task, &d, &dir);
        eprintln!("{task}, no model.safetensors: {e}");
        assert!(e.contains("model.safetensors") && e.contains("no such file"), "{e}");

        let d = dir.join(format!("{model}-no-weight"));
        broken_copy(&from, &d, Some(&edited_weights(&from, weight, false)));
        let e = run_err(task, &d, &dir);
        eprintln!("{task}, no {weight}: {e}");
        assert!(e.contains(&format!("no tensor {weight}")), "{e}");

        let d = dir.join(format!("{model}-bad-shape"));
        broken_copy(&from, &d, Some(&edited_weights(&from, weight, true)));
        let e = run_err(task, &d, &dir);
        eprintln!("{task}, {weight} flattened: {e}");
        assert!(e.contains(weight) && e.contains("shape"), "{e}");

        let d = dir.join(format!("{model}-garbage"));
        broken_copy(&from, &d, Some(b"not a safetensors file"));
        let e = run_err(task, &d, &dir);
        eprintln!("{task}, garbage weights: {e}");
        assert!(e.contains("model.safetensors"), "{e}");

        let whole = std::fs::read(from.join("model.safetensors")).unwrap();
        let d = dir.join(format!("{model}-truncated"));
        broken_copy(&from, &d, Some(&whole[..whole.len() / 2]));
        let e = run_err(task, &d, &dir);
        eprintln!("{task}, truncated weights: {e}");
        assert!(e.contains("model.safetensors") && e.contains("truncated"), "{e}");

        let d = dir.join(format!("{model}-no-config"));
        std::fs::create_dir_all(&d).unwrap();
        for f in ["model.safetensors", "tokenizer.json"] {
            std::fs::copy(from.join(f), d.join(f)).unwrap();
        }
        let e = run_err(task, &d, &dir);
        eprintln!("{task}, no config.json: {e}");
        assert!(e.contains("config.json"), "{e}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cuda_device_only_with_a_gpu() {
    let d = llm_tch::device("cuda");
    if tch::Cuda::is_available() {
        assert_eq!(d.unwrap(), tch::Device::Cuda(0));
    } else {
        let e = d.unwrap_err().to_string();
        assert!(e.contains("cuda"), "{e}");
    }
}

/// The cache: a prompt fed whole, or in chunks (the explicit causal mask
/// after a past), or token by token gives the same last-position logits and id.
#[test]
fn gpt2_cache_chunks_match_whole_prompt() {
    use mlbench_llm::CausalLm;
    let Some(models) = models() else { return };
    let _g = tch::no_grad_guard();
    let mut m = llm_tch::gpt2::Gpt2::load(models.join("gpt2").to_str().unwrap(), tch::Device::Cpu).unwrap();
    let ids: Vec<u32> = vec![464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290];
    m.reset().unwrap();
    let whole = m.step(&ids).unwrap();
    let want = m.last_logits(256).unwrap();
    for chunks in [vec![4, 5], vec![1, 3, 5], vec![1; 9]] {
        m.reset().unwrap();
        let mut at = 0;
        let mut id = 0;
        for n in &chunks {
            id = m.step(&ids[at..at + n]).unwrap();
            at += n;
        }
        let got = m.last_logits(256).unwrap();
        let d = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        eprintln!("gpt2 prompt in chunks {chunks:?}: max abs diff {d:e}");
        assert!(d <= 1e-5, "chunks {chunks:?}: max abs diff {d}");
        assert_eq!(id, whole);
    }
    assert!(m.step(&[60000]).is_err(), "an id outside the vocabulary");
}

/// The sweep input mode (--size sweep): fixed token ids, the same results as Python's.
#[test]
fn sweeps_match_python() {
    for (task, len) in [("llm/bert-qa", 16), ("llm/bert-qa", 64), ("llm/gpt2", 8)] {
        let Some((rs, py)) =
            sweep_against_python(env!("CARGO_BIN_EXE_llm-tch"), "rust-tch", "llm_transformers.py", "python-transformers", task, len)
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
    let _g = tch::no_grad_guard();
    let mut m = llm_tch::gpt2::Gpt2::load(models.join("gpt2").to_str().unwrap(), tch::Device::Cpu).unwrap();
    check_batches_match_rows(&mut m, 8, 1e-4);
}
