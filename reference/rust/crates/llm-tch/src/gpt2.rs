//! transformers' GPT2LMHeadModel for greedy decoding of a batch of equally
//! long rows (no padding) with a KV cache, written with libtorch ops through tch: the same math as
//! transformers 5 (Conv1D as addmm, scaled_dot_product_attention, causal for
//! the prompt, the cache extended by torch.cat as DynamicCache does, the LM
//! head tied to wte), as models/gpt2.go does it in Go.

use crate::weights::{self, Weights};
use mlbench_common::Res;
use mlbench_llm::{row_len, CausalLm};
use tch::{Device, Kind, Tensor};

/// The part of a transformers GPT2Config that Gpt2 reads.
#[derive(Debug, Clone)]
pub struct Gpt2Config {
    pub vocab_size: i64,
    pub n_positions: i64,
    pub n_embd: i64,
    pub n_layer: i64,
    pub n_head: i64,
    /// n_inner, or 4 n_embd when it is null.
    pub n_inner: i64,
    pub layer_norm_epsilon: f64,
    /// torch's gelu `approximate`: "tanh" (gelu_new) or "none" (gelu).
    pub gelu: &'static str,
    pub scale_attn_weights: bool,
    pub scale_attn_by_inverse_layer_idx: bool,
}

impl Gpt2Config {
    pub fn read(model_dir: &str) -> Res<Gpt2Config> {
        let cfg = weights::config(model_dir)?;
        let n_embd = weights::int(&cfg, "n_embd")?;
        let c = Gpt2Config {
            vocab_size: weights::int(&cfg, "vocab_size")?,
            n_positions: weights::int(&cfg, "n_positions")?,
            n_embd,
            n_layer: weights::int(&cfg, "n_layer")?,
            n_head: weights::int(&cfg, "n_head")?,
            n_inner: if cfg["n_inner"].is_null() { 4 * n_embd } else { weights::int(&cfg, "n_inner")? },
            layer_norm_epsilon: weights::float(&cfg, "layer_norm_epsilon", 1e-5)?,
            gelu: weights::gelu_kind(weights::string(&cfg, "activation_function", "gelu_new")?)?,
            scale_attn_weights: weights::boolean(&cfg, "scale_attn_weights", true)?,
            scale_attn_by_inverse_layer_idx: weights::boolean(&cfg, "scale_attn_by_inverse_layer_idx", false)?,
        };
        if c.n_embd % c.n_head != 0 {
            return Err(format!("{model_dir}/config.json: n_embd {} not a multiple of n_head {}", c.n_embd, c.n_head).into());
        }
        if weights::boolean(&cfg, "reorder_and_upcast_attn", false)? {
            return Err(format!("{model_dir}/config.json: reorder_and_upcast_attn is not supported").into());
        }
        Ok(c)
    }
}

struct Block {
    ln1_w: Tensor,
    ln1_b: Tensor,
    attn_w: Tensor,
    attn_b: Tensor, // attn.c_attn, Conv1D [E, 3E]
    proj_w: Tensor,
    proj_b: Tensor, // attn.c_proj [E, E]
    ln2_w: Tensor,
    ln2_b: Tensor,
    fc_w: Tensor,
    fc_b: Tensor, // mlp.c_fc [E, I]
    mproj_w: Tensor,
    mproj_b: Tensor, // mlp.c_proj [I, E]
    /// The attention scale.
    scale: f64,
}

/// GPT2LMHeadModel with its own KV cache: per layer the keys and values of
/// every position run since the last reset, [batch, n_head, past, head_dim].
pub struct Gpt2 {
    pub config: Gpt2Config,
    pub device: Device,
    wte: Tensor,
    wpe: Tensor,
    lnf_w: Tensor,
    lnf_b: Tensor,
    /// lm_head.weight when the file stores one; else the head is wte (tied).
    lm_head: Option<Tensor>,
    blocks: Vec<Block>,
    keys: Vec<Tensor>,
    values: Vec<Tensor>,
    past: i64,
    /// The last step's last-position logits of every row [batch, vocab], on the device.
    last: Option<Tensor>,
}

/// Conv1D: x [.., in] · w [in, out] + b, as transformers' torch.addmm.
fn conv1d(x: &Tensor, w: &Tensor, b: &Tensor) -> Res<Tensor> {
    let mut size = x.size();
    let n_in = *size.last().ok_or("gpt2: conv1d on a scalar")?;
    *size.last_mut().unwrap() = w.size()[1];
    Ok(b.f_addmm(&x.f_view([-1, n_in])?, w)?.f_view(size.as_slice())?)
}

impl Gpt2 {
    /// Loads model_dir/config.json and model_dir/model.safetensors onto device.
    pub fn load(model_dir: &str, device: Device) -> Res<Gpt2> {
        let c = Gpt2Config::read(model_dir)?;
        let mut w = Weights::load(model_dir, device)?;
        let (e, i) = (c.n_embd, c.n_inner);
        let wte = w.take("transformer.wte.weight", &[c.vocab_size, e])?;
        let wpe = w.take("transformer.wpe.weight", &[c.n_positions, e])?;
        let lnf_w = w.take("transformer.ln_f.weight", &[e])?;
        let lnf_b = w.take("transformer.ln_f.bias", &[e])?;
        let lm_head = if w.has("lm_head.weight") { Some(w.take("lm_head.weight", &[c.vocab_size, e])?) } else { None };
        let head_dim = (e / c.n_head) as f64;
        let mut blocks = Vec::with_capacity(c.n_layer as usize);
        for n in 0..c.n_layer {
            let p = format!("transformer.h.{n}.");
            let mut t = |name: &str, shape: &[i64]| w.take(&format!("{p}{name}"), shape);
            let mut scale = if c.scale_attn_weights { head_dim.powf(-0.5) } else { 1.0 };
            if c.scale_attn_by_inverse_layer_idx {
                scale /= (n + 1) as f64;
            }
            blocks.push(Block {
                ln1_w: t("ln_1.weight", &[e])?,
                ln1_b: t("ln_1.bias", &[e])?,
                attn_w: t("attn.c_attn.weight", &[e, 3 * e])?,
                attn_b: t("attn.c_attn.bias", &[3 * e])?,
                proj_w: t("attn.c_proj.weight", &[e, e])?,
                proj_b: t("attn.c_proj.bias", &[e])?,
                ln2_w: t("ln_2.weight", &[e])?,
                ln2_b: t("ln_2.bias", &[e])?,
                fc_w: t("mlp.c_fc.weight", &[e, i])?,
                fc_b: t("mlp.c_fc.bias", &[i])?,
                mproj_w: t("mlp.c_proj.weight", &[i, e])?,
                mproj_b: t("mlp.c_proj.bias", &[e])?,
                scale,
            });
        }
        Ok(Gpt2 { config: c, device, wte, wpe, lnf_w, lnf_b, lm_head, blocks, keys: vec![], values: vec![], past: 0, last: None })
    }

    fn layer_norm(&self, x: &Tensor, w: &Tensor, b: &Tensor) -> Res<Tensor> {
        Ok(x.f_layer_norm([self.config.n_embd], Some(w), Some(b), self.config.layer_norm_epsilon, true)?)
    }

    /// Block n on h [B, S, E] after the cached positions: the new hidden
    /// states and the keys and values of every position so far.
    fn block(&self, n: usize, h: &Tensor, mask: Option<&Tensor>, causal: bool) -> Res<(Tensor, Tensor, Tensor)> {
        let b = &self.blocks[n];
        let c = &self.config;
        let (rows, s) = (h.size()[0], h.size()[1]);
        let (e, nh) = (c.n_embd, c.n_head);
        let qkv = conv1d(&self.layer_norm(h, &b.ln1_w, &b.ln1_b)?, &b.attn_w, &b.attn_b)?; // [B, S, 3E]
        let split = |j: i64| -> Res<Tensor> { Ok(qkv.f_narrow(2, j * e, e)?.f_view([rows, s, nh, e / nh])?.f_transpose(1, 2)?) };
        let (q, mut k, mut v) = (split(0)?, split(1)?, split(2)?);
        if self.past > 0 {
            k = Tensor::f_cat(&[&self.keys[n], &k], 2)?;
            v = Tensor::f_cat(&[&self.values[n], &v], 2)?;
        }
        let o = Tensor::f_scaled_dot_product_attention(&q, &k, &v, mask, 0.0, causal, Some(b.scale), false)?;
        let o = conv1d(&o.f_transpose(1, 2)?.f_contiguous()?.f_reshape([rows, s, e])?, &b.proj_w, &b.proj_b)?;
        let h = o.f_add(h)?;
        let f = conv1d(&self.layer_norm(&h, &b.ln2_w, &b.ln2_b)?, &b.fc_w, &b.fc_b)?.f_gelu(c.gelu)?;
        let out = conv1d(&f, &b.mproj_w, &b.mproj_b)?.f_add(&h)?;
        Ok((out, k, v))
    }

    /// Runs ids [B, S] (on the device) at positions past..past+S of every
    /// row, extends the cache (only when the whole pass succeeds) and returns
    /// the logits of every position, [B, S, vocab]. After a reset B is free;
    /// until the next, every call has that B.
    pub fn forward(&mut self, ids: &Tensor) -> Res<Tensor> {
        let s = match ids.size()[..] {
            [b, s] if b > 0 && s > 0 && (self.past == 0 || self.keys.first().is_some_and(|k| k.size()[0] == b)) => s,
            ref d => {
                let rows = if self.past == 0 { "batch > 0".to_string() } else { format!("the cache's batch {}", self.keys[0].size()[0]) };
                return Err(format!("gpt2: input ids of shape {d:?}: want [{rows}, seq > 0]").into());
            }
        };
        // Attention: causal over the new positions, all of the past. The prompt
        // uses is_causal (as transformers' sdpa path does); one new token
        // attends to everything; several after a past get an explicit mask.
        let (mask, causal) = match (s, self.past) {
            (1, _) => (None, false),
            (_, 0) => (None, true),
            (_, p) => (Some(Tensor::f_ones([s, p + s], (Kind::Bool, self.device))?.f_tril(p)?), false),
        };
        let pos = self.wpe.f_narrow(0, self.past, s)?;
        let mut h = Tensor::f_embedding(&self.wte, ids, -1, false, false)?.f_add(&pos)?;
        let (mut keys, mut values) = (Vec::with_capacity(self.blocks.len()), Vec::with_capacity(self.blocks.len()));
        for n in 0..self.blocks.len() {
            let (out, k, v) = self.block(n, &h, mask.as_ref(), causal)?;
            h = out;
            keys.push(k);
            values.push(v);
        }
        let h = self.layer_norm(&h, &self.lnf_w, &self.lnf_b)?;
        let logits = h.f_linear::<Tensor>(self.lm_head.as_ref().unwrap_or(&self.wte), None)?;
        self.keys = keys;
        self.values = values;
        self.past += s;
        Ok(logits)
    }
}

impl CausalLm for Gpt2 {
    fn reset(&mut self) -> Res<()> {
        self.keys.clear();
        self.values.clear();
        self.past = 0;
        self.last = None;
        Ok(())
    }

    fn step_rows(&mut self, ids: &[u32], rows: usize) -> Res<Vec<u32>> {
        let c = &self.config;
        let s = row_len(ids, rows)? as i64;
        if self.past + s > c.n_positions {
            return Err(format!("gpt2: {} positions exceed n_positions {}", self.past + s, c.n_positions).into());
        }
        if let Some(id) = ids.iter().find(|&&t| t as i64 >= c.vocab_size) {
            return Err(format!("gpt2: token id {id} outside the vocabulary (size {})", c.vocab_size).into());
        }
        let ids: Vec<i64> = ids.iter().map(|&t| t as i64).collect();
        let x = Tensor::f_from_slice(&ids)?.f_view([rows as i64, s])?.f_to(self.device)?;
        let logits = self.forward(&x)?;
        let last = logits.f_select(1, s - 1)?; // [B, vocab]
                                               // argmax returns the first maximal index (ties → the lowest id); the
                                               // ids coming back to the host (one transfer) synchronise the device.
        let next = Vec::<i64>::try_from(&last.f_argmax(1, false)?.f_to(Device::Cpu)?)?;
        self.last = Some(last);
        next.into_iter().map(|t| u32::try_from(t).map_err(|_| format!("gpt2: argmax {t}").into())).collect()
    }

    fn last_logits_rows(&mut self, n: usize) -> Res<Vec<Vec<f32>>> {
        let last = self.last.as_ref().ok_or("gpt2: last_logits before a step")?;
        let n = (n as i64).min(last.size()[1]);
        let v = Vec::<f32>::try_from(&last.f_narrow(1, 0, n)?.f_to(Device::Cpu)?.f_reshape([-1])?)?;
        Ok(v.chunks_exact(n as usize).map(<[f32]>::to_vec).collect())
    }
}
