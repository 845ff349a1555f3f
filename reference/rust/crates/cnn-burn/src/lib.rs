//! dl/cnn on burn 0.21: the ndarray backend (CPU) under Autodiff, the seed CNN
//! as a derived Module, burn's Adam, a hand-written loop as in burn's
//! custom-training-loop example.

use burn::backend::{Autodiff, NdArray};
use burn::module::AutodiffModule;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::Adam;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::prelude::*;
use burn::record::{BinFileRecorder, FullPrecisionSettings, Recorder};
use burn::store::{ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore};
use burn::tensor::backend::AutodiffBackend;
use mlbench_common::checkpoint::Checkpoint;
use mlbench_common::cnn::{History, Params, EVAL_BATCH};
use mlbench_common::{read_npy, Res, Result, Spec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

pub const FRAMEWORK: &str = "burn";
/// The exact pin of burn in Cargo.toml.
pub const FRAMEWORK_VERSION: &str = "0.21.0";

/// The backend: ndarray on the CPU, float32, with autodiff for training.
pub type Inner = NdArray<f32>;
pub type Train = Autodiff<Inner>;

/// Conv2d(3,32,3,p1)-ReLU-MaxPool2-Conv2d(32,64,3,p1)-ReLU-MaxPool2-Flatten-
/// Linear(4096,512)-ReLU-Linear(512,10); fields named as PyTorch's modules.
#[derive(Module, Debug)]
pub struct Net<B: Backend> {
    conv1: Conv2d<B>,
    conv2: Conv2d<B>,
    fc1: Linear<B>,
    fc2: Linear<B>,
    pool: MaxPool2d,
    activation: Relu,
}

impl<B: Backend> Net<B> {
    pub fn new(device: &B::Device) -> Self {
        let conv = |c_in, c_out| Conv2dConfig::new([c_in, c_out], [3, 3]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1));
        Net {
            conv1: conv(3, 32).init(device),
            conv2: conv(32, 64).init(device),
            fc1: LinearConfig::new(64 * 8 * 8, 512).init(device),
            fc2: LinearConfig::new(512, 10).init(device),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            activation: Relu::new(),
        }
    }

    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = self.pool.forward(self.activation.forward(self.conv1.forward(x)));
        let x = self.pool.forward(self.activation.forward(self.conv2.forward(x)));
        let x = self.activation.forward(self.fc1.forward(x.flatten(1, 3)));
        self.fc2.forward(x)
    }
}

/// Loads PyTorch-layout weights: conv kernels are [out, in, kh, kw] in both;
/// burn's Linear weight is [in, out], so PyTorchToBurnAdapter transposes it.
/// Every parameter must be in the file.
pub fn load_init<B: Backend>(model: &mut Net<B>, path: &str) -> Res<()> {
    let mut store = SafetensorsStore::from_file(path).with_from_adapter(PyTorchToBurnAdapter);
    let r = model.load_from(&mut store).map_err(|e| format!("{path}: {e}"))?;
    if !r.missing.is_empty() || !r.errors.is_empty() || !r.unused.is_empty() {
        return Err(format!("{path}: missing {:?}, unused {:?}, errors {:?}", r.missing, r.unused, r.errors).into());
    }
    Ok(())
}

/// uint8 images [N,3,32,32] (as f32) -> x/255, then (x - mean) / std per channel.
pub fn images<B: Backend>(x: Vec<f32>, n: usize, p: &Params, device: &B::Device) -> Tensor<B, 4> {
    let x = Tensor::<B, 4>::from_data(TensorData::new(x, [n, 3, 32, 32]), device);
    let mean = Tensor::<B, 1>::from_floats(p.mean, device).reshape([1, 3, 1, 1]);
    let std = Tensor::<B, 1>::from_floats(p.std, device).reshape([1, 3, 1, 1]);
    (x / 255.0 - mean) / std
}

fn labels<B: Backend>(y: Vec<i64>, device: &B::Device) -> Tensor<B, 1, Int> {
    let n = y.len();
    Tensor::from_data(TensorData::new(y, [n]), device)
}

/// One pass over the samples `order` in consecutive batches; returns the
/// trained model and the loss of each step (of the forward pass, before the update).
pub fn train_epoch<B: AutodiffBackend, O: Optimizer<Net<B>, B>>(
    mut model: Net<B>,
    optim: &mut O,
    lr: f64,
    x: &Tensor<B, 4>,
    y: &Tensor<B, 1, Int>,
    order: &[i64],
    batch_size: usize,
) -> (Net<B>, Vec<f64>) {
    let device = x.device();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut losses = Vec::with_capacity(order.len().div_ceil(batch_size));
    for idx in order.chunks(batch_size) {
        let idx = labels::<B>(idx.to_vec(), &device);
        let loss = loss_fn.forward(model.forward(x.clone().select(0, idx.clone())), y.clone().select(0, idx));
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(lr, model, grads);
        losses.push(loss.into_scalar().elem::<f64>());
    }
    (model, losses)
}

/// Fraction of the test set classified right, in batches of EVAL_BATCH (no autodiff).
pub fn accuracy<B: Backend>(model: &Net<B>, x: &Tensor<B, 4>, y: &Tensor<B, 1, Int>) -> f64 {
    let n = y.dims()[0];
    let correct: i64 = (0..n)
        .step_by(EVAL_BATCH)
        .map(|i| {
            let end = (i + EVAL_BATCH).min(n);
            let pred = model.forward(x.clone().slice(i..end)).argmax(1).flatten::<1>(0, 1);
            pred.equal(y.clone().slice(i..end)).int().sum().into_scalar().elem::<i64>()
        })
        .sum();
    correct as f64 / n as f64
}

/// The optimizer the loop trains with.
pub type Optim = OptimizerAdaptor<Adam, Net<Train>, Train>;

/// Model and optimizer (Adam's moments and step count) at full precision:
/// training goes on from a saved state exactly as it would have without the save.
fn recorder() -> BinFileRecorder<FullPrecisionSettings> {
    BinFileRecorder::new()
}

/// Writes the model and the optimizer state into dir.
pub fn save_state(dir: &Path, model: &Net<Train>, optim: &Optim) -> Res<()> {
    model.clone().save_file(dir.join("model"), &recorder()).map_err(|e| format!("save model: {e}"))?;
    recorder().record(optim.to_record(), dir.join("optim")).map_err(|e| format!("save optimizer: {e}"))?;
    Ok(())
}

/// Reads what save_state wrote.
pub fn load_state(dir: &Path, device: &burn::tensor::Device<Train>) -> Res<(Net<Train>, Optim)> {
    let model = Net::<Train>::new(device)
        .load_file(dir.join("model"), &recorder(), device)
        .map_err(|e| format!("load model from {}: {e}", dir.display()))?;
    let record = recorder().load(dir.join("optim"), device).map_err(|e| format!("load optimizer from {}: {e}", dir.display()))?;
    Ok((model, adam().init().load_record(record)))
}

/// What a checkpoint holds besides the model and optimizer: where training
/// stands, and what has been measured so far.
#[derive(Serialize, Deserialize)]
struct Progress {
    rep: usize,
    /// The epoch to train next (== epochs when rep is finished).
    next_epoch: usize,
    phases: BTreeMap<String, Vec<f64>>,
    hist: History,
}

pub fn adam() -> AdamConfig {
    // PyTorch's defaults: burn's epsilon default is 1e-5. burn divides by
    // sqrt(v) + eps * sqrt(1 - beta2^t) after scaling m by sqrt(1 - beta2^t) /
    // (1 - beta1^t): the same as PyTorch's m_hat / (sqrt(v_hat) + eps).
    AdamConfig::new().with_beta_1(0.9).with_beta_2(0.999).with_epsilon(1e-8)
}

pub fn run(spec: &Spec) -> Res<Result> {
    let p = Params::from_spec(spec)?;
    if spec.device != "cpu" {
        return Err(format!("cnn-burn runs the ndarray backend on the CPU only, spec asks for {}", spec.device).into());
    }
    let mut res = Result::new(spec, FRAMEWORK, FRAMEWORK_VERSION);
    // The ndarray backend parallelises over rayon's global pool and its matmul
    // through matrixmultiply's threads; both read these when first used.
    std::env::set_var("RAYON_NUM_THREADS", spec.threads.to_string());
    std::env::set_var("MATMUL_NUM_THREADS", spec.threads.to_string());
    let device = Default::default();
    Train::seed(&device, p.seed);

    let mut train_rows = 0;
    let (train_x, train_y, test_x, test_y, order) = res.time(true, "load", || -> Res<_> {
        let img = |name: &str| -> Res<(Vec<f32>, usize)> {
            let a = read_npy::<f32>(spec.input(name)?)?;
            Ok((a.data, a.shape[0]))
        };
        let ((tx, tn), (vx, vn)) = (img("train_x")?, img("test_x")?);
        train_rows = tn;
        let order = read_npy::<i64>(spec.input("order")?)?;
        Ok((
            images::<Train>(tx, tn, &p, &device),
            labels::<Train>(read_npy::<i64>(spec.input("train_y")?)?.data, &device),
            images::<Inner>(vx, vn, &p, &device),
            labels::<Inner>(read_npy::<i64>(spec.input("test_y")?)?.data, &device),
            order,
        ))
    })?;
    p.check_order(&order.shape, &order.data, train_rows)?;
    let (row, per_epoch) = (order.shape[1], p.samples(order.shape[1])?);

    // A checkpoint after every epoch lets a job killed at its timeout go on
    // with `mlbench run --resume` (docs/PROTOCOL.md, "Checkpoints"): a full
    // run on the ndarray backend takes longer than some machines are lent.
    let ckpt = Checkpoint::from_spec(spec);
    let mut hist = History::default();
    let (mut start_rep, mut start_epoch, mut state) = (0, 0, None);
    if let Some((dir, prog)) = ckpt.as_ref().map(|c| c.latest::<Progress>()).transpose()?.flatten() {
        // The phases so far come from the earlier processes, load included:
        // this process's load is not recorded.
        res.phases = prog.phases;
        hist = prog.hist;
        (start_rep, start_epoch) = (prog.rep, prog.next_epoch);
        res.resumed_from = format!("rep {} of {}, epoch {} of {}", start_rep + 1, spec.warmup + spec.reps, start_epoch + 1, p.epochs);
        if start_epoch >= p.epochs {
            (start_rep, start_epoch) = (start_rep + 1, 0);
        } else {
            state = Some(dir);
        }
    }
    for (rep, timed) in spec.repetitions().skip(start_rep) {
        let (mut model, mut optim) = match state.take() {
            Some(dir) => load_state(&dir, &device)?,
            None => {
                let mut model = Net::<Train>::new(&device);
                load_init(&mut model, spec.input("init")?)?; // every repetition trains from the same weights
                (model, adam().init())
            }
        };
        let first = if rep == start_rep { start_epoch } else { 0 };
        for e in first..p.epochs {
            let epoch_order = &order.data[e * row..e * row + per_epoch];
            let (trained, steps) =
                res.time(timed, "train_epoch", || train_epoch(model, &mut optim, p.lr, &train_x, &train_y, epoch_order, p.batch_size));
            model = trained;
            let acc = res.time(timed, "eval", || accuracy(&model.valid(), &test_x, &test_y));
            hist.epoch(timed, e, &steps, acc, per_epoch);
            if let Some(c) = &ckpt {
                let prog = Progress { rep, next_epoch: e + 1, phases: res.phases.clone(), hist: hist.clone() };
                c.save(&prog, |dir| save_state(dir, &model, &optim))?;
            }
        }
    }
    hist.finish(&mut res, &p, per_epoch);
    if !res.resumed_from.is_empty() {
        res.notes.push(format!(
            "went on from a checkpoint at {}: model and Adam state saved after every epoch (burn BinFileRecorder, full precision), \
             with the timings and losses so far; load is the first process's",
            res.resumed_from
        ));
    }
    res.notes.push(format!(
        "burn {FRAMEWORK_VERSION}, backend Autodiff<NdArray<f32>> (CPU; burn-ndarray default features std, simd, multi-threads); \
         threads: RAYON_NUM_THREADS = MATMUL_NUM_THREADS = {} set in-process before first use (rayon's global pool, matrixmultiply's threads)",
        spec.threads
    ));
    res.notes.push(
        "model: burn::nn Conv2d / Linear / MaxPool2d / Relu; init.safetensors loaded with burn-store's SafetensorsStore and \
         PyTorchToBurnAdapter (conv kernels as they are; Linear weights transposed from PyTorch's [out, in] to burn's [in, out]); \
         optimizer: burn's Adam with beta_1 0.9, beta_2 0.999, epsilon 1e-8 (burn's default is 1e-5), no weight decay; \
         step: CrossEntropyLoss (mean), backward, GradientsParams, optim.step; eval on model.valid() (no autodiff); \
         load: npy files read by mlbench-common, images to float32 x/255 then (x - mean) / std as burn tensor ops"
            .into(),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlbench_common::cnn::fixture;

    /// Training on from a saved state (a new process going on from a
    /// checkpoint) gives exactly what training straight through gives.
    #[test]
    fn training_goes_on_from_a_saved_state_exactly() {
        let device = Default::default();
        let path = fixture::temp_path("burn-state");
        fixture::write_safetensors(&path).unwrap();
        let init = || {
            let mut model = Net::<Train>::new(&device);
            load_init(&mut model, path.to_str().unwrap()).unwrap();
            (model, adam().init())
        };
        let p = Params { epochs: 1, batch_size: 2, lr: fixture::LR, mean: fixture::MEAN, std: fixture::STD, seed: 0, steps: None };
        let x = images::<Train>(fixture::images().into_iter().map(f32::from).collect(), fixture::N, &p, &device);
        let y = labels::<Train>(fixture::LABELS.to_vec(), &device);
        let order: Vec<i64> = vec![2, 0, 3, 1];
        let epochs = |(mut model, mut optim): (Net<Train>, Optim), n: usize, losses: &mut Vec<f64>| {
            for _ in 0..n {
                let (m, steps) = train_epoch(model, &mut optim, p.lr, &x, &y, &order, p.batch_size);
                model = m;
                losses.extend(steps);
            }
            (model, optim)
        };
        let (mut straight, mut split) = (vec![], vec![]);
        let (a, _) = epochs(init(), 3, &mut straight);

        let (b, optim) = epochs(init(), 1, &mut split);
        let dir = std::env::temp_dir().join(format!("mlbench-burn-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        save_state(&dir, &b, &optim).unwrap();
        drop((b, optim));
        let (b, _) = epochs(load_state(&dir, &device).unwrap(), 2, &mut split);
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_file(&path).unwrap();

        assert_eq!(straight.len(), 6);
        assert_eq!(straight, split, "step losses");
        let w = |m: &Net<Train>| m.fc1.weight.val().into_data().to_vec::<f32>().unwrap();
        assert_eq!(w(&a), w(&b), "fc1 weights after the last step");
        let err = load_state(&dir, &device).err().expect("a missing state is an error").to_string();
        assert!(err.contains("load model from"), "{err}");
    }

    /// The fixture's loss before and after two Adam steps, and some weights
    /// after them, as PyTorch computes them (mlbench_common::cnn::fixture).
    #[test]
    fn forward_loss_and_adam_steps_match_pytorch() {
        let device = Default::default();
        let path = fixture::temp_path("burn");
        fixture::write_safetensors(&path).unwrap();
        let mut model = Net::<Train>::new(&device);
        load_init(&mut model, path.to_str().unwrap()).unwrap();
        std::fs::remove_file(&path).unwrap();

        let p = Params { epochs: 1, batch_size: fixture::N, lr: fixture::LR, mean: fixture::MEAN, std: fixture::STD, seed: 0, steps: None };
        let x = images::<Train>(fixture::images().into_iter().map(f32::from).collect(), fixture::N, &p, &device);
        let y = labels::<Train>(fixture::LABELS.to_vec(), &device);
        let order: Vec<i64> = (0..fixture::N as i64).collect();
        let mut optim = adam().init();
        let mut got = vec![];
        for _ in 0..2 {
            let (m, steps) = train_epoch(model, &mut optim, p.lr, &x, &y, &order, fixture::N);
            model = m;
            got.extend(steps);
        }
        let loss = CrossEntropyLossConfig::new().init(&device).forward(model.forward(x), y);
        got.push(loss.into_scalar().elem::<f64>());
        for (g, want) in got.iter().zip(fixture::LOSSES) {
            assert!((g - want).abs() < 1e-4, "losses {got:?}, want {:?}", fixture::LOSSES);
        }
        // burn keeps fc weights as [in, out]: PyTorch's element k of row 0 is burn's [k, 0].
        let first3 = |t: Tensor<Train, 2>, transposed: bool| {
            let t = if transposed { t.transpose() } else { t };
            t.flatten::<1>(0, 1).slice(0..3).into_data().to_vec::<f32>().unwrap()
        };
        for (name, want) in fixture::AFTER_TWO_STEPS {
            let v = match name {
                "conv1.weight" => first3(model.conv1.weight.val().flatten(1, 3), false),
                "conv2.bias" => model.conv2.bias.as_ref().unwrap().val().slice(0..3).into_data().to_vec::<f32>().unwrap(),
                "fc1.weight" => first3(model.fc1.weight.val(), true),
                "fc2.weight" => first3(model.fc2.weight.val(), true),
                "fc2.bias" => model.fc2.bias.as_ref().unwrap().val().slice(0..3).into_data().to_vec::<f32>().unwrap(),
                _ => unreachable!(),
            };
            for (g, w) in v.iter().zip(want) {
                // Two steps move these by ~2e-3; float noise in the gradients moves them ~1e-6.
                assert!((g - w).abs() < 1e-5, "{name}: {v:?}, want {want:?}");
            }
        }
    }
}
