//! transformers' BertForQuestionAnswering for inference at batch 1, written
//! with libtorch ops through tch: the same math as transformers 5 (BERT
//! embeddings, encoder layers with scaled_dot_product_attention, the
//! qa_outputs head), as models/bert.go does it in Go.

use crate::weights::{self, Weights};
use mlbench_common::Res;
use mlbench_llm::{QaModel, Window};
use tch::{Device, Kind, Tensor};

/// The part of a transformers BertConfig that Bert reads.
#[derive(Debug, Clone)]
pub struct BertConfig {
    pub vocab_size: i64,
    pub hidden_size: i64,
    pub num_hidden_layers: i64,
    pub num_attention_heads: i64,
    pub intermediate_size: i64,
    pub max_position_embeddings: i64,
    pub type_vocab_size: i64,
    pub layer_norm_eps: f64,
    /// torch's gelu `approximate`: "none" (hidden_act gelu) or "tanh".
    pub gelu: &'static str,
}

impl BertConfig {
    pub fn read(model_dir: &str) -> Res<BertConfig> {
        let cfg = weights::config(model_dir)?;
        let c = BertConfig {
            vocab_size: weights::int(&cfg, "vocab_size")?,
            hidden_size: weights::int(&cfg, "hidden_size")?,
            num_hidden_layers: weights::int(&cfg, "num_hidden_layers")?,
            num_attention_heads: weights::int(&cfg, "num_attention_heads")?,
            intermediate_size: weights::int(&cfg, "intermediate_size")?,
            max_position_embeddings: weights::int(&cfg, "max_position_embeddings")?,
            type_vocab_size: weights::int(&cfg, "type_vocab_size")?,
            layer_norm_eps: weights::float(&cfg, "layer_norm_eps", 1e-12)?,
            gelu: weights::gelu_kind(weights::string(&cfg, "hidden_act", "gelu")?)?,
        };
        if c.hidden_size % c.num_attention_heads != 0 {
            return Err(format!(
                "{model_dir}/config.json: hidden_size {} not a multiple of num_attention_heads {}",
                c.hidden_size, c.num_attention_heads
            )
            .into());
        }
        let pos = weights::string(&cfg, "position_embedding_type", "absolute")?;
        if pos != "absolute" {
            return Err(format!("{model_dir}/config.json: position_embedding_type {pos:?}: only absolute is supported").into());
        }
        Ok(c)
    }
}

struct Layer {
    q_w: Tensor,
    q_b: Tensor,
    k_w: Tensor,
    k_b: Tensor,
    v_w: Tensor,
    v_b: Tensor, // attention.self.{query,key,value}
    ao_w: Tensor,
    ao_b: Tensor,
    ln1_w: Tensor,
    ln1_b: Tensor, // attention.output.{dense,LayerNorm}
    i_w: Tensor,
    i_b: Tensor, // intermediate.dense
    o_w: Tensor,
    o_b: Tensor,
    ln2_w: Tensor,
    ln2_b: Tensor, // output.{dense,LayerNorm}
}

/// BertForQuestionAnswering: a BERT encoder (no pooler) and qa_outputs,
/// Linear(hidden, 2) giving the start and end logits.
pub struct Bert {
    pub config: BertConfig,
    pub device: Device,
    word: Tensor,
    pos: Tensor,
    typ: Tensor,
    emb_ln_w: Tensor,
    emb_ln_b: Tensor,
    layers: Vec<Layer>,
    qa_w: Tensor,
    qa_b: Tensor,
}

impl Bert {
    /// Loads model_dir/config.json and model_dir/model.safetensors onto device.
    pub fn load(model_dir: &str, device: Device) -> Res<Bert> {
        let c = BertConfig::read(model_dir)?;
        let mut w = Weights::load(model_dir, device)?;
        let (h, i) = (c.hidden_size, c.intermediate_size);
        let e = "bert.embeddings.";
        let word = w.take(&format!("{e}word_embeddings.weight"), &[c.vocab_size, h])?;
        let pos = w.take(&format!("{e}position_embeddings.weight"), &[c.max_position_embeddings, h])?;
        let typ = w.take(&format!("{e}token_type_embeddings.weight"), &[c.type_vocab_size, h])?;
        let emb_ln_w = w.take(&format!("{e}LayerNorm.weight"), &[h])?;
        let emb_ln_b = w.take(&format!("{e}LayerNorm.bias"), &[h])?;
        let mut layers = Vec::with_capacity(c.num_hidden_layers as usize);
        for n in 0..c.num_hidden_layers {
            let p = format!("bert.encoder.layer.{n}.");
            let mut t = |name: &str, shape: &[i64]| w.take(&format!("{p}{name}"), shape);
            layers.push(Layer {
                q_w: t("attention.self.query.weight", &[h, h])?,
                q_b: t("attention.self.query.bias", &[h])?,
                k_w: t("attention.self.key.weight", &[h, h])?,
                k_b: t("attention.self.key.bias", &[h])?,
                v_w: t("attention.self.value.weight", &[h, h])?,
                v_b: t("attention.self.value.bias", &[h])?,
                ao_w: t("attention.output.dense.weight", &[h, h])?,
                ao_b: t("attention.output.dense.bias", &[h])?,
                ln1_w: t("attention.output.LayerNorm.weight", &[h])?,
                ln1_b: t("attention.output.LayerNorm.bias", &[h])?,
                i_w: t("intermediate.dense.weight", &[i, h])?,
                i_b: t("intermediate.dense.bias", &[i])?,
                o_w: t("output.dense.weight", &[h, i])?,
                o_b: t("output.dense.bias", &[h])?,
                ln2_w: t("output.LayerNorm.weight", &[h])?,
                ln2_b: t("output.LayerNorm.bias", &[h])?,
            });
        }
        let qa_w = w.take("qa_outputs.weight", &[2, h])?;
        let qa_b = w.take("qa_outputs.bias", &[2])?;
        Ok(Bert { config: c, device, word, pos, typ, emb_ln_w, emb_ln_b, layers, qa_w, qa_b })
    }

    fn layer_norm(&self, x: &Tensor, w: &Tensor, b: &Tensor) -> Res<Tensor> {
        Ok(x.f_layer_norm([self.config.hidden_size], Some(w), Some(b), self.config.layer_norm_eps, true)?)
    }

    /// BertLayer on h [1, S, H]; mask is None (every position attends to
    /// every other) or a Bool mask [1, 1, 1, S] (true: attend).
    fn layer(&self, l: &Layer, h: &Tensor, mask: Option<&Tensor>) -> Res<Tensor> {
        let c = &self.config;
        let s = h.size()[1];
        let (nh, hd) = (c.num_attention_heads, c.hidden_size / c.num_attention_heads);
        let heads = |w: &Tensor, b: &Tensor| -> Res<Tensor> { Ok(h.f_linear(w, Some(b))?.f_view([1, s, nh, hd])?.f_transpose(1, 2)?) };
        let (q, k, v) = (heads(&l.q_w, &l.q_b)?, heads(&l.k_w, &l.k_b)?, heads(&l.v_w, &l.v_b)?);
        let scale = (hd as f64).powf(-0.5);
        let ctx = Tensor::f_scaled_dot_product_attention(&q, &k, &v, mask, 0.0, false, Some(scale), false)?;
        let ctx = ctx.f_transpose(1, 2)?.f_reshape([1, s, c.hidden_size])?;
        let a = self.layer_norm(&ctx.f_linear(&l.ao_w, Some(&l.ao_b))?.f_add(h)?, &l.ln1_w, &l.ln1_b)?;
        let inter = a.f_linear(&l.i_w, Some(&l.i_b))?.f_gelu(c.gelu)?;
        self.layer_norm(&inter.f_linear(&l.o_w, Some(&l.o_b))?.f_add(&a)?, &l.ln2_w, &l.ln2_b)
    }

    /// The start and end logits [S] of one sequence (batch 1): the inputs to
    /// the device, the forward pass, the logits back to the host.
    pub fn forward(&self, ids: &[i64], type_ids: &[i64], attention_mask: &[i64]) -> Res<(Vec<f32>, Vec<f32>)> {
        let c = &self.config;
        let n = ids.len();
        if n == 0 || type_ids.len() != n || attention_mask.len() != n {
            return Err(format!("bert: {n} input ids, {} token type ids, {} mask values", type_ids.len(), attention_mask.len()).into());
        }
        if n as i64 > c.max_position_embeddings {
            return Err(format!("bert: {n} tokens exceed max_position_embeddings {}", c.max_position_embeddings).into());
        }
        if let Some(id) = ids.iter().find(|&&t| t < 0 || t >= c.vocab_size) {
            return Err(format!("bert: token id {id} outside the vocabulary (size {})", c.vocab_size).into());
        }
        if let Some(t) = type_ids.iter().find(|&&t| t < 0 || t >= c.type_vocab_size) {
            return Err(format!("bert: token type id {t}: type_vocab_size is {}", c.type_vocab_size).into());
        }
        let s = n as i64;
        let input = |v: &[i64]| -> Res<Tensor> { Ok(Tensor::f_from_slice(v)?.f_view([1, s])?.f_to(self.device)?) };
        // transformers drops a mask of all ones (sdpa then attends everywhere); otherwise padding is masked out.
        let mask = if attention_mask.iter().all(|&m| m != 0) { None } else { Some(input(attention_mask)?.f_ne(0)?.f_view([1, 1, 1, s])?) };
        let (x, tt) = (input(ids)?, input(type_ids)?);
        // BertEmbeddings: (word + token type) + position, then LayerNorm (no dropout at inference).
        let mut h = Tensor::f_embedding(&self.word, &x, -1, false, false)?
            .f_add(&Tensor::f_embedding(&self.typ, &tt, -1, false, false)?)?
            .f_add(&self.pos.f_narrow(0, 0, s)?)?;
        h = self.layer_norm(&h, &self.emb_ln_w, &self.emb_ln_b)?;
        for l in &self.layers {
            h = self.layer(l, &h, mask.as_ref())?;
        }
        // qa_outputs [1, S, 2] → host, one copy; start = [..., 0], end = [..., 1].
        let logits = h.f_linear(&self.qa_w, Some(&self.qa_b))?.f_to(Device::Cpu)?.f_contiguous()?.f_view([-1])?;
        if logits.f_kind()? != Kind::Float {
            return Err(format!("bert: logits of kind {:?}", logits.f_kind()?).into());
        }
        let flat = Vec::<f32>::try_from(&logits)?;
        if flat.len() != 2 * n {
            return Err(format!("bert: {} logits for {n} tokens", flat.len()).into());
        }
        Ok((flat.iter().step_by(2).copied().collect(), flat.iter().skip(1).step_by(2).copied().collect()))
    }
}

impl QaModel for Bert {
    fn logits(&mut self, w: &Window) -> Res<(Vec<f32>, Vec<f32>)> {
        self.forward(&w.input_ids, &w.token_type_ids, &w.attention_mask)
    }
}
