//! dl/cnn on candle (CPU): the seed CNN as a module struct trained with
//! candle_nn's AdamW at weight decay 0, as in candle's mnist-training example.

use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::{loss, AdamW, Conv2d, Conv2dConfig, Linear, Optimizer, ParamsAdamW, VarBuilder, VarMap};
use mlbench_common::cnn::{History, Params, EVAL_BATCH};
use mlbench_common::{Res, Result, Spec};
use std::collections::HashMap;

pub const FRAMEWORK: &str = "candle";
/// The exact pin of candle-core and candle-nn in Cargo.toml.
pub const FRAMEWORK_VERSION: &str = "0.11.1";

/// Conv2d(3,32,3,p1)-ReLU-MaxPool2-Conv2d(32,64,3,p1)-ReLU-MaxPool2-Flatten-
/// Linear(4096,512)-ReLU-Linear(512,10); variables named as PyTorch's.
#[derive(Debug)]
pub struct Net {
    conv1: Conv2d,
    conv2: Conv2d,
    fc1: Linear,
    fc2: Linear,
}

impl Net {
    pub fn new(vs: VarBuilder) -> candle_core::Result<Net> {
        let conv = Conv2dConfig { padding: 1, ..Default::default() };
        Ok(Net {
            conv1: candle_nn::conv2d(3, 32, 3, conv, vs.pp("conv1"))?,
            conv2: candle_nn::conv2d(32, 64, 3, conv, vs.pp("conv2"))?,
            fc1: candle_nn::linear(64 * 8 * 8, 512, vs.pp("fc1"))?,
            fc2: candle_nn::linear(512, 10, vs.pp("fc2"))?,
        })
    }
}

impl Module for Net {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        xs.apply(&self.conv1)?
            .relu()?
            .max_pool2d(2)?
            .apply(&self.conv2)?
            .relu()?
            .max_pool2d(2)?
            .flatten_from(1)?
            .apply(&self.fc1)?
            .relu()?
            .apply(&self.fc2)
    }
}

/// uint8 [N,3,32,32] -> float32 x/255, then (x - mean) / std per channel.
pub fn images(x: &Tensor, p: &Params) -> candle_core::Result<Tensor> {
    let mean = Tensor::new(&p.mean, x.device())?.reshape((1, 3, 1, 1))?;
    let std = Tensor::new(&p.std, x.device())?.reshape((1, 3, 1, 1))?;
    x.to_dtype(DType::F32)?.affine(1.0 / 255.0, 0.0)?.broadcast_sub(&mean)?.broadcast_div(&std)
}

/// Sets the var map's variables to the initial weights; names and shapes must match.
pub fn load_init(varmap: &mut VarMap, init: &HashMap<String, Tensor>) -> Res<()> {
    let n = varmap.all_vars().len();
    if init.len() != n {
        return Err(format!("init has {} tensors, the model {n}", init.len()).into());
    }
    Ok(varmap.set(init.iter())?)
}

/// One pass over the samples `order` in consecutive batches; returns the loss
/// of each step (of the forward pass, before the update).
pub fn train_epoch(
    model: &Net,
    opt: &mut AdamW,
    x: &Tensor,
    y: &Tensor,
    order: &Tensor,
    batch_size: usize,
) -> candle_core::Result<Vec<Tensor>> {
    let n = order.dim(0)?;
    (0..n)
        .step_by(batch_size)
        .map(|i| {
            let idx = order.narrow(0, i, batch_size.min(n - i))?;
            let loss = loss::cross_entropy(&model.forward(&x.index_select(&idx, 0)?)?, &y.index_select(&idx, 0)?)?;
            opt.backward_step(&loss)?;
            Ok(loss.detach())
        })
        .collect()
}

/// Fraction of the test set classified right, in batches of EVAL_BATCH.
pub fn accuracy(model: &Net, x: &Tensor, y: &Tensor) -> candle_core::Result<f64> {
    let n = y.dim(0)?;
    let mut correct = 0.0;
    for i in (0..n).step_by(EVAL_BATCH) {
        let len = EVAL_BATCH.min(n - i);
        let pred = model.forward(&x.narrow(0, i, len)?)?.argmax(D::Minus1)?;
        correct += pred.to_dtype(DType::I64)?.eq(&y.narrow(0, i, len)?)?.to_dtype(DType::F32)?.sum_all()?.to_scalar::<f32>()? as f64;
    }
    Ok(correct / n as f64)
}

fn losses(steps: &[Tensor]) -> candle_core::Result<Vec<f64>> {
    Ok(Tensor::stack(steps, 0)?.to_vec1::<f32>()?.into_iter().map(f64::from).collect())
}

pub fn run(spec: &Spec) -> Res<Result> {
    let p = Params::from_spec(spec)?;
    if spec.device != "cpu" {
        return Err(format!("cnn-candle is built for the CPU only, spec asks for {}", spec.device).into());
    }
    let mut res = Result::new(spec, FRAMEWORK, FRAMEWORK_VERSION);
    // candle's CPU kernels size their rayon pools and gemm's parallelism from
    // RAYON_NUM_THREADS (CANDLE_NUM_THREADS for its own pool), read when first used.
    std::env::set_var("RAYON_NUM_THREADS", spec.threads.to_string());
    std::env::set_var("CANDLE_NUM_THREADS", spec.threads.to_string());
    let device = Device::Cpu; // nothing is random: no dropout, weights from init

    let (train_x, train_y, test_x, test_y, order, init) = res.time(true, "load", || -> Res<_> {
        let read = |name: &str| -> Res<Tensor> { Ok(Tensor::read_npy(spec.input(name)?)?) };
        Ok((
            images(&read("train_x")?, &p)?,
            read("train_y")?,
            images(&read("test_x")?, &p)?,
            read("test_y")?,
            read("order")?,
            candle_core::safetensors::load(spec.input("init")?, &device)?,
        ))
    })?;
    p.check_order(order.dims(), &order.flatten_all()?.to_dtype(DType::I64)?.to_vec1::<i64>()?, train_y.dim(0)?)?;
    let per_epoch = p.samples(order.dim(1)?)?;

    let mut hist = History::default();
    for (_, timed) in spec.repetitions() {
        let mut varmap = VarMap::new();
        let model = Net::new(VarBuilder::from_varmap(&varmap, DType::F32, &device))?;
        load_init(&mut varmap, &init)?; // every repetition trains from the same weights
        let mut opt = AdamW::new(varmap.all_vars(), ParamsAdamW { lr: p.lr, weight_decay: 0.0, ..Default::default() })?;
        for e in 0..p.epochs {
            let epoch_order = order.get(e)?.narrow(0, 0, per_epoch)?;
            let steps = res.time(timed, "train_epoch", || train_epoch(&model, &mut opt, &train_x, &train_y, &epoch_order, p.batch_size))?;
            let acc = res.time(timed, "eval", || accuracy(&model, &test_x, &test_y))?;
            hist.epoch(timed, e, &losses(&steps)?, acc, per_epoch);
        }
    }
    hist.finish(&mut res, &p, per_epoch);
    res.notes.push(format!(
        "candle {FRAMEWORK_VERSION}, CPU, no mkl/accelerate (candle's gemm crate and its own conv kernels); float32 NCHW; \
         threads: RAYON_NUM_THREADS = CANDLE_NUM_THREADS = {} set in-process before first use (they size gemm's and candle's rayon pools)",
        spec.threads
    ));
    res.notes.push(
        "model: candle_nn::conv2d / linear named as PyTorch's (same layouts: init.safetensors is set into the VarMap as is); \
         optimizer: candle_nn::AdamW with weight_decay 0.0, betas (0.9, 0.999), eps 1e-8: with no decay its update \
         theta -= lr * m_hat / (sqrt(v_hat) + eps) is exactly Adam's; step: loss::cross_entropy (log_softmax + nll, mean), \
         opt.backward_step; load: npy files read with Tensor::read_npy, images to float32 x/255 then (x - mean) / std"
            .into(),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlbench_common::cnn::fixture;

    /// The fixture's loss before and after two Adam steps, and some weights
    /// after them, as PyTorch computes them (mlbench_common::cnn::fixture).
    #[test]
    fn forward_loss_and_adam_steps_match_pytorch() {
        let dev = Device::Cpu;
        let path = fixture::temp_path("candle");
        fixture::write_safetensors(&path).unwrap();
        let init = candle_core::safetensors::load(&path, &dev).unwrap();
        std::fs::remove_file(&path).unwrap();
        let mut varmap = VarMap::new();
        let model = Net::new(VarBuilder::from_varmap(&varmap, DType::F32, &dev)).unwrap();
        load_init(&mut varmap, &init).unwrap();

        let p = Params { epochs: 1, batch_size: fixture::N, lr: fixture::LR, mean: fixture::MEAN, std: fixture::STD, seed: 0, steps: None };
        let x = images(&Tensor::from_vec(fixture::images(), (fixture::N, 3, 32, 32), &dev).unwrap(), &p).unwrap();
        let y = Tensor::new(&fixture::LABELS, &dev).unwrap();
        let order = Tensor::arange(0i64, fixture::N as i64, &dev).unwrap();
        let mut opt = AdamW::new(varmap.all_vars(), ParamsAdamW { lr: p.lr, weight_decay: 0.0, ..Default::default() }).unwrap();
        let mut got = vec![];
        for _ in 0..2 {
            got.extend(losses(&train_epoch(&model, &mut opt, &x, &y, &order, fixture::N).unwrap()).unwrap());
        }
        got.push(loss::cross_entropy(&model.forward(&x).unwrap(), &y).unwrap().to_scalar::<f32>().unwrap() as f64);
        for (g, want) in got.iter().zip(fixture::LOSSES) {
            assert!((g - want).abs() < 1e-4, "losses {got:?}, want {:?}", fixture::LOSSES);
        }
        let vars = varmap.data().lock().unwrap();
        for (name, want) in fixture::AFTER_TWO_STEPS {
            let v = vars[name].flatten_all().unwrap().narrow(0, 0, 3).unwrap().to_vec1::<f32>().unwrap();
            for (g, w) in v.iter().zip(want) {
                // Two steps move these by ~2e-3; float noise in the gradients moves them ~1e-6.
                assert!((g - w).abs() < 1e-5, "{name}: {v:?}, want {want:?}");
            }
        }
    }
}
