//! rust-ort: the llm/bert-qa and llm/gpt2 workloads of docs/LLM.md on ONNX
//! Runtime through the `ort` crate (load-dynamic on the pinned wheel's
//! libonnxruntime.so.1.30.0) and the `tokenizers` crate. It mirrors
//! reference/python/llm_common.py + llm_ort.py and ort/ (Go) step by step.

pub mod libpath;

use mlbench_common::{Res, Result, Spec};
use mlbench_llm::{
    argmax, check_task, config_usize, load_tokenizer, read_config, row_len, run_bert_qa, run_gpt2, CausalLm, QaModel, Window,
};
use ort::session::builder::GraphOptimizationLevel;
use ort::session::{Session, SessionInputValue};
use ort::value::{DynValue, Tensor, TensorRef};
use serde_json::json;
use std::borrow::Cow;
use std::path::Path;

/// The crate versions pinned in Cargo.toml (named in the result's notes).
pub const ORT_CRATE_VERSION: &str = "2.0.0-rc.15";
pub use mlbench_llm::TOKENIZERS_CRATE_VERSION;

/// The execution providers a session gets: CUDA first when device is cuda.
fn providers(spec: &Spec) -> Vec<&'static str> {
    if spec.device == "cuda" {
        vec!["CUDAExecutionProvider", "CPUExecutionProvider"]
    } else {
        vec!["CPUExecutionProvider"]
    }
}

/// One session as every language makes it: intra-op threads = spec.threads,
/// inter-op 1, sequential, ORT_ENABLE_ALL; the CUDA EP first on cuda (an error
/// when this ONNX Runtime lacks it or it fails to register).
pub fn session(spec: &Spec, env: &ort::environment::Environment) -> Res<Session> {
    let model = Path::new(spec.input("model_dir")?).join("model.onnx");
    let mut b = Session::builder(env)?
        .with_intra_threads(spec.threads)
        .map_err(|e| e.to_string())?
        .with_inter_threads(1)
        .map_err(|e| e.to_string())?
        .with_parallel_execution(false)
        .map_err(|e| e.to_string())?
        // ort's Level3 is ORT_ENABLE_LAYOUT since 2.0.0-rc.11; All is ORT_ENABLE_ALL (99).
        .with_optimization_level(GraphOptimizationLevel::All)
        .map_err(|e| e.to_string())?;
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
    check_task(spec)?;
    let lib = libpath::library_path()?;
    if spec.device == "cuda" {
        libpath::preload_cuda(&lib)?;
    }
    let env = ort::init_from(&lib).map_err(|e| format!("load ONNX Runtime: {e}"))?.with_name("mlbench").build()?;
    let version = libpath::loaded_version(&lib).unwrap_or_else(|_| libpath::version_from_path(&lib));
    let mut result = Result::new(spec, "onnxruntime", &version);
    let tok_path = spec.input("tokenizer")?;
    if spec.task == "llm/bert-qa" {
        run_bert_qa(spec, &mut result, || Ok((load_tokenizer(tok_path)?, BertQa { sess: session(spec, &env)? })))?;
    } else {
        let model_dir = spec.input("model_dir")?;
        run_gpt2(spec, &mut result, || Ok((load_tokenizer(tok_path)?, Gpt2::new(session(spec, &env)?, model_dir)?)))?;
    }
    let prov = providers(spec);
    for (k, v) in [
        ("intra_op_num_threads", json!(spec.threads)),
        ("inter_op_num_threads", json!(1)),
        ("graph_optimization_level", json!("ORT_ENABLE_ALL")),
        ("providers", json!(prov)),
    ] {
        result.params.insert(k.into(), v);
    }
    result.notes.push(format!(
        "onnxruntime {version} ({}) through the ort crate {ORT_CRATE_VERSION} (load-dynamic, api-30), {}, \
         intra_op_num_threads={}, inter_op_num_threads=1, sequential, ORT_ENABLE_ALL; tokenizers crate \
         {TOKENIZERS_CRATE_VERSION} (byte offsets); inputs borrowed from Rust vectors, outputs copied out \
         (gpt2: the present.* outputs fed back as past_key_values.* without copies; the sweep: params.batch \
         rows per generation, one [batch, len] run per step)",
        lib.display(),
        prov[0],
        spec.threads
    ));
    Ok(result)
}

// --- llm/bert-qa ------------------------------------------------------------------------

/// BERT-QA on an ONNX Runtime session.
pub struct BertQa {
    pub sess: Session,
}

impl QaModel for BertQa {
    /// Runs one window (batch 1): its start and end logits.
    fn logits(&mut self, w: &Window) -> Res<(Vec<f32>, Vec<f32>)> {
        let shape = [1usize, w.input_ids.len()];
        let inputs: Vec<(Cow<str>, SessionInputValue)> = vec![
            ("input_ids".into(), TensorRef::from_array_view((shape, &w.input_ids[..]))?.into()),
            ("attention_mask".into(), TensorRef::from_array_view((shape, &w.attention_mask[..]))?.into()),
            ("token_type_ids".into(), TensorRef::from_array_view((shape, &w.token_type_ids[..]))?.into()),
        ];
        let out = self.sess.run(inputs)?;
        let get = |name: &str| -> Res<Vec<f32>> {
            let v = out.get(name).ok_or_else(|| format!("bert-qa: no output {name}"))?;
            let (_, data) = v.try_extract_tensor::<f32>()?;
            Ok(data.to_vec())
        };
        Ok((get("start_logits")?, get("end_logits")?))
    }
}

// --- llm/gpt2 ---------------------------------------------------------------------------

/// GPT-2 with the KV cache as the flat past_key_values.* inputs and present.*
/// outputs of docs/LLM.md, at the batch of the last prompt.
pub struct Gpt2 {
    pub sess: Session,
    pub heads: usize,
    pub head_dim: usize,
    /// The session's past_key_values.* input names, in its order, and the matching present.* outputs.
    pub past_names: Vec<String>,
    pub present_names: Vec<String>,
    past: Vec<DynValue>,
    n_past: usize,
    /// The rows of the cache (the last prompt's).
    rows: usize,
    /// The last step's logits output [rows, len, vocab] and its len.
    logits: Option<(DynValue, usize)>,
    /// The input_ids, attention_mask and position_ids of a step, reused.
    ids: Vec<i64>,
    mask: Vec<i64>,
    pos: Vec<i64>,
}

impl Gpt2 {
    pub fn new(sess: Session, model_dir: &str) -> Res<Gpt2> {
        let cfg = read_config(model_dir)?;
        let (heads, embd) = (config_usize(&cfg, "n_head")?, config_usize(&cfg, "n_embd")?);
        if embd % heads != 0 {
            return Err(format!("{model_dir}/config.json: n_embd {embd} not a multiple of n_head {heads}").into());
        }
        let past_names: Vec<String> =
            sess.inputs().iter().map(|i| i.name().to_string()).filter(|n| n.starts_with("past_key_values.")).collect();
        let present_names = past_names.iter().map(|n| n.replacen("past_key_values.", "present.", 1)).collect();
        Ok(Gpt2 {
            sess,
            heads,
            head_dim: embd / heads,
            past_names,
            present_names,
            past: vec![],
            n_past: 0,
            rows: 0,
            logits: None,
            ids: vec![],
            mask: vec![],
            pos: vec![],
        })
    }
}

impl CausalLm for Gpt2 {
    fn reset(&mut self) -> Res<()> {
        self.past.clear();
        self.n_past = 0;
        self.logits = None;
        Ok(())
    }

    /// Builds the inputs (after a reset, an empty cache: past tensors with a
    /// zero-length past dimension), runs the model, takes each row's argmax
    /// and keeps the presents as the next past.
    fn step_rows(&mut self, ids: &[u32], rows: usize) -> Res<Vec<u32>> {
        let len = row_len(ids, rows)?;
        let n_past = self.n_past;
        if n_past == 0 {
            self.past = self
                .past_names
                .iter()
                .map(|_| Tensor::<f32>::from_array(([rows, self.heads, 0, self.head_dim], Vec::<f32>::new())).map(|t| t.into_dyn()))
                .collect::<ort::Result<_>>()?;
            self.rows = rows;
        } else if rows != self.rows {
            return Err(format!("gpt2: a step of {rows} rows on a cache of {}", self.rows).into());
        }
        self.ids.clear();
        self.ids.extend(ids.iter().map(|&t| t as i64));
        self.mask.resize(rows * (n_past + len), 1);
        self.pos.clear();
        for _ in 0..rows {
            self.pos.extend((n_past..n_past + len).map(|p| p as i64));
        }
        let mut inputs: Vec<(Cow<str>, SessionInputValue)> = Vec::with_capacity(3 + self.past.len());
        inputs.push(("input_ids".into(), TensorRef::from_array_view(([rows, len], &self.ids[..]))?.into()));
        inputs.push(("attention_mask".into(), TensorRef::from_array_view(([rows, n_past + len], &self.mask[..]))?.into()));
        inputs.push(("position_ids".into(), TensorRef::from_array_view(([rows, len], &self.pos[..]))?.into()));
        for (name, v) in self.past_names.iter().zip(&self.past) {
            inputs.push((name.as_str().into(), v.into()));
        }
        let mut out = self.sess.run(inputs)?;
        let logits = out.remove("logits").ok_or("gpt2: no logits output")?;
        let (shape, data) = logits.try_extract_tensor::<f32>()?;
        let vocab = *shape.last().ok_or("gpt2: logits without dimensions")? as usize;
        if vocab == 0 || data.len() != rows * len * vocab {
            return Err(format!("gpt2: logits shape {shape:?} for {rows} rows of {len} ids").into());
        }
        // Row r's last position starts at ((r+1) len - 1) vocab.
        let next = data.chunks_exact(len * vocab).map(|row| argmax(&row[(len - 1) * vocab..]) as u32).collect();
        let mut next_past = Vec::with_capacity(self.past.len());
        for name in &self.present_names {
            next_past.push(out.remove(name.as_str()).ok_or_else(|| format!("gpt2: no output {name}"))?);
        }
        drop(out);
        self.past = next_past;
        self.n_past += len;
        self.logits = Some((logits, len));
        Ok(next)
    }

    fn last_logits_rows(&mut self, n: usize) -> Res<Vec<Vec<f32>>> {
        let (v, len) = self.logits.as_ref().ok_or("gpt2: no step yet")?;
        let (shape, data) = v.try_extract_tensor::<f32>()?;
        let vocab = *shape.last().unwrap() as usize;
        Ok(data.chunks_exact(len * vocab).map(|row| row[(len - 1) * vocab..][..n.min(vocab)].to_vec()).collect())
    }
}
