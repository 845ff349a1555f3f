//! rust-candle: the llm/bert-qa and llm/gpt2 workloads of docs/LLM.md on
//! candle (CPU, float32, batch 1; the gpt2 sweep: its batch param):
//! candle-transformers' BertModel with a
//! candle_nn::Linear QA head, and GPT-2 written with candle-nn (`gpt2`; the
//! candle-transformers crate has none). The workload loops, timing, metrics
//! and probes are mlbench-llm's (shared with rust-ort and rust-tch).

pub mod gpt2;

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Linear, VarBuilder};
use candle_transformers::models::bert::{BertModel, Config as BertConfig, HiddenAct};
use mlbench_common::{Res, Result, Spec};
use mlbench_llm::{load_tokenizer, QaModel, Window, TOKENIZERS_CRATE_VERSION};
use serde_json::json;
use std::path::{Path, PathBuf};

pub use gpt2::Gpt2;

pub const FRAMEWORK: &str = "candle";
/// The exact pin of candle-core, candle-nn and candle-transformers in Cargo.toml.
pub const FRAMEWORK_VERSION: &str = "0.11.1";
/// The attention kernel (params.attn_implementation): candle matmuls and
/// candle_nn's softmax, no fused attention.
pub const ATTENTION: &str = "candle-nn matmul+softmax";

/// The model directory's model.safetensors, mmaped into a VarBuilder (the
/// tensors are copied into candle's CPU storage as they are read).
fn var_builder(dir: &str) -> Res<(VarBuilder<'static>, PathBuf)> {
    let path = Path::new(dir).join("model.safetensors");
    if !path.is_file() {
        return Err(format!("{}: no such file", path.display()).into());
    }
    // Safety: the file is not modified while it is mapped.
    let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[&path], DType::F32, &Device::Cpu) }
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((vb, path))
}

// --- llm/bert-qa ------------------------------------------------------------------------

/// BertForQuestionAnswering: candle-transformers' BertModel (the `bert.`
/// weights, no pooler) and the qa_outputs Linear (hidden → 2: start, end).
pub struct BertQa {
    pub config: BertConfig,
    bert: BertModel,
    qa_outputs: Linear,
}

impl BertQa {
    /// Loads dir/config.json (candle's bert Config reads transformers' own) and dir/model.safetensors.
    pub fn load(dir: &str) -> Res<BertQa> {
        let cfg_path = Path::new(dir).join("config.json");
        let config: BertConfig =
            serde_json::from_value(mlbench_llm::read_config(dir)?).map_err(|e| format!("{}: {e}", cfg_path.display()))?;
        if !config.hidden_size.is_multiple_of(config.num_attention_heads) {
            return Err(format!(
                "{}: hidden_size {} not a multiple of num_attention_heads {}",
                cfg_path.display(),
                config.hidden_size,
                config.num_attention_heads
            )
            .into());
        }
        let (vb, path) = var_builder(dir)?;
        let load = || -> candle_core::Result<BertQa> {
            // BertModel::load falls back to "<model_type>." after failing
            // without a prefix; naming "bert" here makes a missing weight's
            // error name the checkpoint's own key.
            let bert = BertModel::load(vb.pp("bert"), &config)?;
            let qa_outputs = candle_nn::linear(config.hidden_size, 2, vb.pp("qa_outputs"))?;
            Ok(BertQa { config: config.clone(), bert, qa_outputs })
        };
        load().map_err(|e| format!("{}: {e}", path.display()).into())
    }

    /// Start and end logits [T] each of one window (batch 1).
    pub fn forward(&self, input_ids: &[i64], token_type_ids: &[i64], attention_mask: &[i64]) -> Res<(Vec<f32>, Vec<f32>)> {
        let t = input_ids.len();
        if t > self.config.max_position_embeddings {
            return Err(format!("bert-qa: {t} tokens exceed max_position_embeddings {}", self.config.max_position_embeddings).into());
        }
        if token_type_ids.len() != t || attention_mask.len() != t {
            return Err(format!("bert-qa: {t} ids, {} token types, {} mask values", token_type_ids.len(), attention_mask.len()).into());
        }
        let dev = &Device::Cpu;
        let ids = Tensor::from_slice(input_ids, (1, t), dev)?;
        let types = Tensor::from_slice(token_type_ids, (1, t), dev)?;
        let mask = Tensor::from_slice(attention_mask, (1, t), dev)?;
        let h = self.bert.forward(&ids, &types, Some(&mask))?; // [1, T, hidden]
        let logits = self.qa_outputs.forward(&h)?.squeeze(0)?.t()?.contiguous()?; // [2, T]
        let mut se = logits.to_vec2::<f32>()?.into_iter();
        match (se.next(), se.next()) {
            (Some(s), Some(e)) => Ok((s, e)),
            _ => Err("bert-qa: qa_outputs gave fewer than 2 outputs".into()),
        }
    }
}

impl QaModel for BertQa {
    fn logits(&mut self, w: &Window) -> Res<(Vec<f32>, Vec<f32>)> {
        self.forward(&w.input_ids, &w.token_type_ids, &w.attention_mask)
    }
}

fn bert_gelu(act: HiddenAct) -> &'static str {
    match act {
        HiddenAct::Gelu => "exact erf GELU (candle gelu_erf), as transformers' \"gelu\"",
        HiddenAct::GeluApproximate => "tanh-approximation GELU (candle gelu)",
        HiddenAct::Relu => "ReLU",
    }
}

// --- run ---------------------------------------------------------------------------------

/// Runs the spec's task; the entry point of the binary.
pub fn run(spec: &Spec) -> Res<Result> {
    mlbench_llm::check_task(spec)?;
    if spec.device != "cpu" {
        return Err(format!("llm-candle is built for the CPU only (no cuda feature), spec asks for {}", spec.device).into());
    }
    // candle's CPU kernels size their rayon pools and gemm's parallelism from
    // RAYON_NUM_THREADS (CANDLE_NUM_THREADS for its own pool), read when first used.
    std::env::set_var("RAYON_NUM_THREADS", spec.threads.to_string());
    std::env::set_var("CANDLE_NUM_THREADS", spec.threads.to_string());
    let mut result = Result::new(spec, FRAMEWORK, FRAMEWORK_VERSION);
    let (tok_path, model_dir) = (spec.input("tokenizer")?, spec.input("model_dir")?);
    let model_note = if spec.task == "llm/bert-qa" {
        let mut gelu = "";
        mlbench_llm::run_bert_qa(spec, &mut result, || -> Res<_> {
            let tok = load_tokenizer(tok_path)?;
            let m = BertQa::load(model_dir)?;
            gelu = bert_gelu(m.config.hidden_act);
            Ok((tok, m))
        })?;
        format!(
            "bert-qa: candle-transformers {FRAMEWORK_VERSION} models::bert::BertModel (weights under bert., no pooler) + a \
             candle_nn::Linear qa_outputs head (hidden → 2: start, end); input_ids, token_type_ids and the all-ones \
             attention mask passed; intermediate activation: {gelu}; one forward per window"
        )
    } else {
        let mut gelu = "";
        mlbench_llm::run_gpt2(spec, &mut result, || -> Res<_> {
            let tok = load_tokenizer(tok_path)?;
            let m = Gpt2::load(model_dir)?;
            gelu = if m.config.gelu_tanh() {
                "tanh-approximation GELU (candle gelu), as transformers' gelu_new"
            } else {
                "exact erf GELU (candle gelu_erf)"
            };
            Ok((tok, m))
        })?;
        format!(
            "gpt2: written with candle-nn (candle-transformers has no gpt2): wte + wpe, pre-norm blocks, Conv1D weights \
             ([in, out]) transposed once at load into candle_nn::Linear weights ([out, in]), per-layer candle_nn KvCache \
             ([heads, n_positions, head_dim], appended in place), softmax(q k^T * scale + causal mask) v (mask only on the \
             multi-token prompt step), MLP activation: {gelu}; logits = ln_f(h) @ wte^T (a transposed view of the tied \
             embedding, no copy) for every fed position (the prompt's too); greedy id = candle argmax of the last position \
             (first maximum on ties); probe logits copied out after the clock"
        )
    };
    result.params.insert("attn_implementation".into(), json!(ATTENTION));
    result.params.insert("dtype".into(), json!("float32"));
    result.notes.push(format!(
        "candle {FRAMEWORK_VERSION} (candle-core, candle-nn, candle-transformers), CPU, no mkl/accelerate (candle's gemm \
         crate), float32, batch 1 (gpt2 sweep: params.batch rows per generation), no gradients tracked (plain tensors, no Var); threads: RAYON_NUM_THREADS = \
         CANDLE_NUM_THREADS = {} set in-process before first use (they size gemm's and candle's rayon pools); weights \
         mmaped from model.safetensors with VarBuilder::from_mmaped_safetensors; tokenizers crate {TOKENIZERS_CRATE_VERSION} \
         (byte offsets)",
        spec.threads
    ));
    result.notes.push(model_note);
    Ok(result)
}
