//! rust-tch: the llm/bert-qa and llm/gpt2 workloads of docs/LLM.md with the
//! models written as libtorch tensor ops through tch-rs (libtorch 2.11.0 of
//! the pinned torch wheel), float32, batch 1 (the gpt2 sweep: its batch
//! param), no gradients, attention by
//! scaled_dot_product_attention as python-transformers' "sdpa". The
//! workloads themselves (timing, metrics, probes) are mlbench-llm's.

pub mod bert;
pub mod gpt2;
pub mod weights;

use bert::Bert;
use gpt2::Gpt2;
use mlbench_common::{Res, Result, Spec};
use mlbench_llm::{check_task, load_tokenizer, run_bert_qa, run_gpt2, TOKENIZERS_CRATE_VERSION};
use serde_json::json;
use tch::Device;

pub const FRAMEWORK: &str = "tch";
/// The exact pin of tch in Cargo.toml.
pub const FRAMEWORK_VERSION: &str = "0.24.0";
/// The torch wheel whose libtorch the binary links (recorded by build.rs).
pub const TORCH_VERSION: &str = match option_env!("MLBENCH_TORCH_VERSION") {
    Some(v) => v,
    None => "2.11.0 (tch 0.24's libtorch; version not recorded at build time)",
};
/// The attention kernel, named as transformers names it.
pub const ATTENTION: &str = "sdpa";

/// The libtorch device of spec.device: cuda:0 when asked for (an error when
/// libtorch sees no CUDA device), else the CPU.
pub fn device(name: &str) -> Res<Device> {
    match name {
        "cpu" => Ok(Device::Cpu),
        "cuda" if tch::Cuda::is_available() => Ok(Device::Cuda(0)),
        "cuda" => Err("device cuda asked for, but libtorch sees no CUDA device (a CPU-only libtorch, or no GPU)".into()),
        d => Err(format!("device {d:?}: want cpu or cuda").into()),
    }
}

/// libtorch's intra-op threads = n; inter-op threads 1, set once per process
/// (libtorch refuses a second call, and any call after parallel work began).
fn set_threads(n: usize) {
    static INTEROP: std::sync::Once = std::sync::Once::new();
    INTEROP.call_once(|| tch::set_num_interop_threads(1));
    tch::set_num_threads(n as i32);
}

/// Runs the spec's task; the entry point of the binary.
pub fn run(spec: &Spec) -> Res<Result> {
    check_task(spec)?;
    let dev = device(&spec.device)?;
    set_threads(spec.threads);
    let mut result = Result::new(spec, FRAMEWORK, FRAMEWORK_VERSION);
    let _no_grad = tch::no_grad_guard();
    let (tok_path, model_dir) = (spec.input("tokenizer")?, spec.input("model_dir")?);
    let sync = || {
        if let Device::Cuda(i) = dev {
            tch::Cuda::synchronize(i as i64);
        }
    };
    if spec.task == "llm/bert-qa" {
        run_bert_qa(spec, &mut result, || {
            let loaded = (load_tokenizer(tok_path)?, Bert::load(model_dir, dev)?);
            sync();
            Ok(loaded)
        })?;
    } else {
        run_gpt2(spec, &mut result, || {
            let loaded = (load_tokenizer(tok_path)?, Gpt2::load(model_dir, dev)?);
            sync();
            Ok(loaded)
        })?;
    }
    result.params.insert("attn_implementation".into(), json!(ATTENTION));
    result.params.insert("dtype".into(), json!("float32"));
    result.notes.push(format!(
        "tch {FRAMEWORK_VERSION} over libtorch from torch {TORCH_VERSION} (the venv wheel's, LIBTORCH_USE_PYTORCH=1); \
         tch::set_num_threads({}) (intra-op), set_num_interop_threads(1); tch::no_grad_guard() (tch 0.24 has no \
         inference mode); float32, batch 1 (gpt2 sweep: params.batch rows per generation); attention Tensor::scaled_dot_product_attention (attn_implementation={ATTENTION:?}); \
         tokenizers crate {TOKENIZERS_CRATE_VERSION} (byte offsets)",
        spec.threads
    ));
    result.notes.push(
        "models written as tensor ops on the model.safetensors weights, following transformers 5: bert-qa \
         BertForQuestionAnswering (embeddings word+token type+position, LayerNorm; per layer q/k/v Linear, SDPA, \
         output Linear+residual+LayerNorm, GELU MLP; qa_outputs), one forward per window, logits copied to the host \
         in one transfer; gpt2 GPT2LMHeadModel (Conv1D as addmm, gelu_new as gelu(approximate='tanh'), causal SDPA \
         for the prompt, a per-layer KV cache extended by torch.cat as DynamicCache, LM head tied to wte), logits for \
         every prompt position, argmax on the device and the id back to the host"
            .into(),
    );
    if let Device::Cuda(_) = dev {
        mlbench_common::add_libtorch_cuda_math(&mut result);
        result.notes.push(
            "device cuda:0: weights and inputs on the GPU; load ends with a synchronize, every window's logits and \
             every step's id come back to the host before the clock is read"
                .into(),
        );
    }
    Ok(result)
}
