//! GPT-2 (transformers' GPT2LMHeadModel) written with candle-nn, as
//! models/gpt2.go: wte + wpe, pre-norm blocks (ln_1 → attention with a KV
//! cache → c_proj, ln_2 → c_fc → GELU → c_proj), ln_f, logits = h @ wte^T
//! (lm_head is tied to transformer.wte.weight and not stored). A batch of B
//! equally long rows: activations are [B T, n_embd] (row after row), q/k/v
//! [B H, T, D].

use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::kv_cache::KvCache;
use candle_nn::{Embedding, LayerNorm, Linear, VarBuilder};
use mlbench_common::Res;
use mlbench_llm::{row_len, CausalLm};
use serde_json::Value;
use std::path::Path;

/// The part of a transformers GPT2Config that Gpt2 reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub vocab_size: usize,
    pub n_positions: usize,
    pub n_embd: usize,
    pub n_layer: usize,
    pub n_head: usize,
    /// n_inner, or 4 n_embd when it is null.
    pub n_inner: usize,
    pub layer_norm_epsilon: f64,
    /// "gelu_new" / "gelu_pytorch_tanh" (tanh approximation) or "gelu" (exact, erf).
    pub activation_function: String,
    pub scale_attn_weights: bool,
    pub scale_attn_by_inverse_layer_idx: bool,
}

impl Config {
    pub fn from_json(cfg: &Value) -> Res<Config> {
        let get = |k: &str| mlbench_llm::config_usize(cfg, k);
        let n_embd = get("n_embd")?;
        let c = Config {
            vocab_size: get("vocab_size")?,
            n_positions: get("n_positions")?,
            n_embd,
            n_layer: get("n_layer")?,
            n_head: get("n_head")?,
            n_inner: cfg["n_inner"].as_u64().filter(|&v| v > 0).map(|v| v as usize).unwrap_or(4 * n_embd),
            layer_norm_epsilon: cfg["layer_norm_epsilon"]
                .as_f64()
                .filter(|&v| v > 0.0)
                .ok_or("config.json: no positive layer_norm_epsilon")?,
            activation_function: cfg["activation_function"].as_str().unwrap_or("gelu_new").to_string(),
            scale_attn_weights: cfg["scale_attn_weights"].as_bool().unwrap_or(true),
            scale_attn_by_inverse_layer_idx: cfg["scale_attn_by_inverse_layer_idx"].as_bool().unwrap_or(false),
        };
        if !c.n_embd.is_multiple_of(c.n_head) {
            return Err(format!("config.json: n_embd {} not a multiple of n_head {}", c.n_embd, c.n_head).into());
        }
        if !["gelu_new", "gelu_pytorch_tanh", "gelu"].contains(&c.activation_function.as_str()) {
            return Err(
                format!("config.json: activation_function {:?}: want gelu_new, gelu_pytorch_tanh or gelu", c.activation_function).into()
            );
        }
        if cfg["reorder_and_upcast_attn"].as_bool().unwrap_or(false) {
            return Err("config.json: reorder_and_upcast_attn is not supported".into());
        }
        Ok(c)
    }

    /// Whether the MLP uses the tanh approximation of GELU (candle's `gelu`)
    /// rather than the exact erf one (`gelu_erf`).
    pub fn gelu_tanh(&self) -> bool {
        self.activation_function != "gelu"
    }
}

/// A transformers Conv1D: weight stored [in, out], y = x @ W + b. Transposed
/// once at load into a contiguous [out, in] candle_nn::Linear weight: gemm
/// runs x @ (W^T)^T (a transposed view) 25-40% faster than x @ W on W's
/// stored layout, at 1 and 24 rows (measured on 768 x 3072).
fn conv1d(n_in: usize, n_out: usize, vb: VarBuilder) -> candle_core::Result<Linear> {
    let w = vb.get((n_in, n_out), "weight")?.t()?.contiguous()?;
    let b = vb.get(n_out, "bias")?;
    Ok(Linear::new(w, Some(b)))
}

fn layer_norm(n: usize, eps: f64, vb: VarBuilder) -> candle_core::Result<LayerNorm> {
    Ok(LayerNorm::new(vb.get(n, "weight")?, vb.get(n, "bias")?, eps))
}

struct Block {
    ln_1: LayerNorm,
    c_attn: Linear,
    attn_proj: Linear,
    ln_2: LayerNorm,
    c_fc: Linear,
    mlp_proj: Linear,
    /// The attention scale: 1/sqrt(D) (and 1/(layer+1) with scale_attn_by_inverse_layer_idx).
    scale: f64,
    cache: KvCache,
}

pub struct Gpt2 {
    pub config: Config,
    wte: Embedding,
    wpe: Embedding,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    /// Past length: the positions already in every block's cache.
    past: usize,
    /// The rows of the cache (the last prompt's).
    rows: usize,
    /// The last step's last-position logits [rows, vocab].
    last: Option<Tensor>,
    device: Device,
}

impl Gpt2 {
    /// Loads dir/config.json and dir/model.safetensors (mmaped; the tensors are
    /// copied into candle's CPU storage).
    pub fn load(dir: &str) -> Res<Gpt2> {
        let config = Config::from_json(&mlbench_llm::read_config(dir)?).map_err(|e| format!("{dir}/{e}"))?;
        let path = Path::new(dir).join("model.safetensors");
        if !path.is_file() {
            return Err(format!("{}: no such file", path.display()).into());
        }
        let device = Device::Cpu;
        // Safety: the file is not modified while it is mapped (the weights are
        // copied out of the map when each tensor is read).
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[&path], DType::F32, &device) }
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Gpt2::new(config, vb, device).map_err(|e| format!("{}: {e}", path.display()).into())
    }

    pub fn new(config: Config, vb: VarBuilder, device: Device) -> candle_core::Result<Gpt2> {
        let c = &config;
        let (e, head_dim) = (c.n_embd, c.n_embd / c.n_head);
        let vb = vb.pp("transformer");
        let wte = Embedding::new(vb.get((c.vocab_size, e), "wte.weight")?, e);
        let wpe = Embedding::new(vb.get((c.n_positions, e), "wpe.weight")?, e);
        let blocks = (0..c.n_layer)
            .map(|i| {
                let vb = vb.pp(format!("h.{i}"));
                let mut scale = 1.0;
                if c.scale_attn_weights {
                    scale /= (head_dim as f64).sqrt();
                }
                if c.scale_attn_by_inverse_layer_idx {
                    scale /= (i + 1) as f64;
                }
                Ok(Block {
                    ln_1: layer_norm(e, c.layer_norm_epsilon, vb.pp("ln_1"))?,
                    c_attn: conv1d(e, 3 * e, vb.pp("attn.c_attn"))?,
                    attn_proj: conv1d(e, e, vb.pp("attn.c_proj"))?,
                    ln_2: layer_norm(e, c.layer_norm_epsilon, vb.pp("ln_2"))?,
                    c_fc: conv1d(e, c.n_inner, vb.pp("mlp.c_fc"))?,
                    mlp_proj: conv1d(c.n_inner, e, vb.pp("mlp.c_proj"))?,
                    scale,
                    // [B H, T, D] along T; the whole n_positions is allocated
                    // (zeroed lazily by the OS) at a prompt, so it never grows.
                    cache: KvCache::new(1, c.n_positions),
                })
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        let ln_f = layer_norm(e, c.layer_norm_epsilon, vb.pp("ln_f"))?;
        Ok(Gpt2 { config, wte, wpe, blocks, ln_f, past: 0, rows: 0, last: None, device })
    }

    /// [`Gpt2::forward_rows`] of one row: logits [T, vocab].
    pub fn forward(&mut self, ids: &[u32]) -> Res<Tensor> {
        Ok(self.forward_rows(ids, 1)?.squeeze(0)?)
    }

    /// Feeds `rows` rows of T ids each (row-major) at positions past..past+T
    /// of every row: logits [rows, T, vocab] for every fed position; every
    /// block's cache grows by T. After a reset `rows` is free; until the next,
    /// every call has the same.
    pub fn forward_rows(&mut self, ids: &[u32], rows: usize) -> Res<Tensor> {
        let (t, past) = (row_len(ids, rows)?, self.past);
        if past > 0 && rows != self.rows {
            return Err(format!("gpt2: a step of {rows} rows on a cache of {}", self.rows).into());
        }
        if past + t > self.config.n_positions {
            return Err(format!("gpt2: {} positions exceed n_positions {}", past + t, self.config.n_positions).into());
        }
        let (h_n, e) = (self.config.n_head, self.config.n_embd);
        let d = e / h_n;
        let ids_t = Tensor::new(ids, &self.device)?;
        let pos: Vec<u32> = (0..rows).flat_map(|_| past as u32..(past + t) as u32).collect();
        let pos_t = Tensor::new(&pos[..], &self.device)?;
        let mut h = (self.wte.forward(&ids_t)? + self.wpe.forward(&pos_t)?)?;
        // Causal mask for a multi-token step: position past+i sees 0..=past+i.
        // A one-token step sees the whole cache: no mask.
        let mask = if t > 1 {
            let total = past + t;
            let m: Vec<f32> = (0..t).flat_map(|i| (0..total).map(move |j| if j <= past + i { 0.0 } else { f32::NEG_INFINITY })).collect();
            Some(Tensor::from_vec(m, (1, t, total), &self.device)?)
        } else {
            None
        };
        let gelu_tanh = self.config.gelu_tanh();
        for b in &mut self.blocks {
            // Attention.
            let a = b.ln_1.forward(&h)?;
            let qkv = b.c_attn.forward(&a)?; // [B T, 3E]
            let heads = |i: usize| -> candle_core::Result<Tensor> {
                qkv.narrow(1, i * e, e)?.reshape((rows, t, h_n, d))?.transpose(1, 2)?.contiguous()?.reshape((rows * h_n, t, d))
            };
            let (q, k, v) = (heads(0)?, heads(1)?, heads(2)?); // [B H, T, D]
            let (k, v) = b.cache.append(&k, &v)?; // [B H, past+T, D], views of the cache
            let mut scores = (q.matmul(&k.t()?)? * b.scale)?; // [B H, T, past+T]
            if let Some(m) = &mask {
                scores = scores.broadcast_add(m)?;
            }
            let probs = candle_nn::ops::softmax_last_dim(&scores)?;
            let y = probs.matmul(&v)?.reshape((rows, h_n, t, d))?.transpose(1, 2)?.contiguous()?.reshape((rows * t, e))?; // [B T, E]
            h = (h + b.attn_proj.forward(&y)?)?;
            // MLP.
            let f = b.c_fc.forward(&b.ln_2.forward(&h)?)?;
            let f = if gelu_tanh { f.gelu()? } else { f.gelu_erf()? };
            h = (h + b.mlp_proj.forward(&f)?)?;
        }
        self.past += t;
        self.rows = rows;
        let h = self.ln_f.forward(&h)?;
        // Tied lm_head: h @ wte^T, every position.
        Ok(h.matmul(&self.wte.embeddings().t()?)?.reshape((rows, t, self.config.vocab_size))?)
    }
}

impl CausalLm for Gpt2 {
    fn reset(&mut self) -> Res<()> {
        for b in &mut self.blocks {
            b.cache.reset();
        }
        self.past = 0;
        self.last = None;
        Ok(())
    }

    fn step_rows(&mut self, ids: &[u32], rows: usize) -> Res<Vec<u32>> {
        let logits = self.forward_rows(ids, rows)?;
        let t = logits.dim(1)?;
        let last = logits.narrow(1, t - 1, 1)?.squeeze(1)?; // [rows, vocab]
                                                            // candle's CPU argmax keeps the first maximum (a strict comparison): ties → lowest id.
        let next = last.argmax(D::Minus1)?.to_vec1::<u32>()?;
        self.last = Some(last);
        Ok(next)
    }

    fn last_logits_rows(&mut self, n: usize) -> Res<Vec<Vec<f32>>> {
        let last = self.last.as_ref().ok_or("gpt2: no step yet")?;
        let n = n.min(last.dim(1)?);
        Ok(last.narrow(1, 0, n)?.to_vec2::<f32>()?)
    }
}
