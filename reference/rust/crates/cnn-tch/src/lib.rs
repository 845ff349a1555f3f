//! dl/cnn on tch-rs (libtorch 2.11.0 from the pinned torch wheel): the seed
//! CNN as an nn::seq, trained with nn::Adam, as in tch's own mnist_conv example.

use mlbench_common::cnn::{History, Params, EVAL_BATCH};
use mlbench_common::{Res, Result, Spec};
use std::collections::HashMap;
use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, Tensor};

pub const FRAMEWORK: &str = "tch";
/// The exact pin of tch in Cargo.toml.
pub const FRAMEWORK_VERSION: &str = "0.24.0";

/// Conv2d(3,32,3,p1)-ReLU-MaxPool2-Conv2d(32,64,3,p1)-ReLU-MaxPool2-Flatten-
/// Linear(4096,512)-ReLU-Linear(512,10); variables named as PyTorch's.
pub fn net(vs: &nn::Path) -> nn::Sequential {
    let conv = nn::ConvConfig { padding: 1, ..Default::default() };
    nn::seq()
        .add(nn::conv2d(vs / "conv1", 3, 32, 3, conv))
        .add_fn(|x| x.relu().max_pool2d_default(2))
        .add(nn::conv2d(vs / "conv2", 32, 64, 3, conv))
        .add_fn(|x| x.relu().max_pool2d_default(2))
        .add_fn(|x| x.flatten(1, -1))
        .add(nn::linear(vs / "fc1", 64 * 8 * 8, 512, Default::default()))
        .add_fn(|x| x.relu())
        .add(nn::linear(vs / "fc2", 512, 10, Default::default()))
}

/// uint8 [N,3,32,32] -> float32 x/255, then (x - mean) / std per channel.
pub fn images(x: &Tensor, p: &Params) -> Tensor {
    let device = x.device();
    let mean = Tensor::from_slice(&p.mean).view([1, 3, 1, 1]).to_device(device);
    let std = Tensor::from_slice(&p.std).view([1, 3, 1, 1]).to_device(device);
    (x.to_kind(Kind::Float) / 255.0 - mean) / std
}

/// Copies the initial weights into the var store; names and shapes must match.
pub fn load_init(vs: &nn::VarStore, init: &[(String, Tensor)]) -> Res<()> {
    let vars = vs.variables();
    if vars.len() != init.len() {
        return Err(format!("init has {} tensors, the model {}", init.len(), vars.len()).into());
    }
    let lookup: HashMap<_, _> = init.iter().map(|(n, t)| (n.as_str(), t)).collect();
    tch::no_grad(|| {
        for (name, mut var) in vars {
            let t = lookup.get(name.as_str()).ok_or_else(|| format!("init lacks {name}"))?;
            if t.size() != var.size() {
                return Err(format!("init {name}: shape {:?}, model {:?}", t.size(), var.size()).into());
            }
            var.copy_(t);
        }
        Ok(())
    })
}

/// One pass over the samples `order` in consecutive batches; returns the loss
/// of each step (of the forward pass, before the update).
pub fn train_epoch(model: &impl Module, opt: &mut nn::Optimizer, x: &Tensor, y: &Tensor, order: &Tensor, batch_size: i64) -> Vec<Tensor> {
    let n = order.size()[0];
    (0..n)
        .step_by(batch_size as usize)
        .map(|i| {
            let idx = order.narrow(0, i, batch_size.min(n - i));
            let loss = model.forward(&x.index_select(0, &idx)).cross_entropy_for_logits(&y.index_select(0, &idx));
            opt.backward_step(&loss);
            loss.detach()
        })
        .collect()
}

/// Fraction of the test set classified right, in batches of EVAL_BATCH, without gradients.
pub fn accuracy(model: &impl Module, x: &Tensor, y: &Tensor) -> f64 {
    let n = y.size()[0];
    let correct: i64 = tch::no_grad(|| {
        (0..n)
            .step_by(EVAL_BATCH)
            .map(|i| {
                let len = (EVAL_BATCH as i64).min(n - i);
                let pred = model.forward(&x.narrow(0, i, len)).argmax(-1, false);
                pred.eq_tensor(&y.narrow(0, i, len)).sum(Kind::Int64).int64_value(&[])
            })
            .sum()
    });
    correct as f64 / n as f64
}

fn losses(steps: &[Tensor]) -> Res<Vec<f64>> {
    Ok(Vec::<f64>::try_from(Tensor::stack(steps, 0).to_kind(Kind::Double))?)
}

pub fn run(spec: &Spec) -> Res<Result> {
    let p = Params::from_spec(spec)?;
    let mut res = Result::new(spec, FRAMEWORK, FRAMEWORK_VERSION);
    let device = match spec.device.as_str() {
        "cuda" if tch::Cuda::is_available() => Device::Cuda(0),
        "cuda" => return Err("device cuda asked for, but libtorch sees no CUDA device".into()),
        _ => Device::Cpu,
    };
    if let Device::Cuda(_) = device {
        tch::Cuda::cudnn_set_benchmark(false);
    }
    let sync = || {
        if let Device::Cuda(i) = device {
            tch::Cuda::synchronize(i as i64)
        }
    };
    tch::set_num_threads(spec.threads as i32);
    tch::manual_seed(p.seed as i64);

    let (train_x, train_y, test_x, test_y, order, init) = res.time(true, "load", || -> Res<_> {
        let read = |name: &str| -> Res<Tensor> { Ok(Tensor::read_npy(spec.input(name)?)?.to_device(device)) };
        let loaded = (
            images(&read("train_x")?, &p),
            read("train_y")?,
            images(&read("test_x")?, &p),
            read("test_y")?,
            read("order")?,
            Tensor::read_safetensors(spec.input("init")?)?,
        );
        sync();
        Ok(loaded)
    })?;
    let order_shape: Vec<usize> = order.size().iter().map(|&d| d as usize).collect();
    let order_values = Vec::<i64>::try_from(order.flatten(0, -1).to_kind(Kind::Int64).to_device(Device::Cpu))?;
    p.check_order(&order_shape, &order_values, train_y.size()[0] as usize)?;
    let per_epoch = p.samples(order_shape[1])?;

    let mut hist = History::default();
    for (_, timed) in spec.repetitions() {
        let vs = nn::VarStore::new(device);
        let model = net(&vs.root());
        load_init(&vs, &init)?; // every repetition trains from the same weights
        let mut opt = nn::Adam::default().build(&vs, p.lr)?;
        for e in 0..p.epochs {
            let epoch_order = order.get(e as i64).narrow(0, 0, per_epoch as i64);
            let steps = res.time(timed, "train_epoch", || {
                let steps = train_epoch(&model, &mut opt, &train_x, &train_y, &epoch_order, p.batch_size as i64);
                sync();
                steps
            });
            let acc = res.time(timed, "eval", || {
                let acc = accuracy(&model, &test_x, &test_y);
                sync();
                acc
            });
            hist.epoch(timed, e, &losses(&steps)?, acc, per_epoch);
        }
    }
    hist.finish(&mut res, &p, per_epoch);
    res.notes.push(format!(
        "tch {FRAMEWORK_VERSION} over libtorch 2.11.0 (the torch wheel's, LIBTORCH_USE_PYTORCH=1); float32 NCHW; \
         tch::set_num_threads({}) (libtorch intra-op threads), tch::manual_seed({})",
        spec.threads, p.seed
    ));
    res.notes.push(
        "model: nn::seq of nn::conv2d / nn::linear named as PyTorch's (same layouts: init.safetensors is copied in as is); \
         nn::Adam::default() = libtorch's torch::optim::Adam, betas (0.9, 0.999), eps 1e-8, no weight decay; \
         step: cross_entropy_for_logits (mean), opt.backward_step (zero_grad, backward, step); \
         load: npy files read with Tensor::read_npy, images to float32 x/255 then (x - mean) / std, on the device"
            .into(),
    );
    if let Device::Cuda(_) = device {
        mlbench_common::add_libtorch_cuda_math(&mut res);
        res.notes.push(
            "CUDA: tch::Cuda::synchronize before every clock read; libtorch_cuda.so linked with --no-as-needed; \
            cudnn.benchmark off (tch::Cuda::cudnn_set_benchmark(false)); tch 0.24 has no call for cudnn.deterministic \
            or TF32, so they stay at libtorch's defaults, which cnn.py and go-libtorch use too (params)"
                .into(),
        );
    }
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
        let path = fixture::temp_path("tch");
        fixture::write_safetensors(&path).unwrap();
        let vs = nn::VarStore::new(Device::Cpu);
        let model = net(&vs.root());
        load_init(&vs, &Tensor::read_safetensors(&path).unwrap()).unwrap();
        std::fs::remove_file(&path).unwrap();

        let p = Params { epochs: 1, batch_size: fixture::N, lr: fixture::LR, mean: fixture::MEAN, std: fixture::STD, seed: 0, steps: None };
        let x = images(&Tensor::from_slice(&fixture::images()).view([fixture::N as i64, 3, 32, 32]), &p);
        let y = Tensor::from_slice(&fixture::LABELS);
        let mut opt = nn::Adam::default().build(&vs, p.lr).unwrap();
        let order = Tensor::arange(fixture::N as i64, (Kind::Int64, Device::Cpu));
        let mut got = vec![];
        for _ in 0..2 {
            got.extend(losses(&train_epoch(&model, &mut opt, &x, &y, &order, fixture::N as i64)).unwrap());
        }
        got.push(tch::no_grad(|| model.forward(&x).cross_entropy_for_logits(&y).double_value(&[])));
        for (g, want) in got.iter().zip(fixture::LOSSES) {
            assert!((g - want).abs() < 1e-4, "losses {got:?}, want {:?}", fixture::LOSSES);
        }
        let vars = vs.variables();
        for (name, want) in fixture::AFTER_TWO_STEPS {
            let v = Vec::<f32>::try_from(vars[name].flatten(0, -1).narrow(0, 0, 3)).unwrap();
            for (g, w) in v.iter().zip(want) {
                // Two steps move these by ~2e-3; float noise in the gradients moves them ~1e-6.
                assert!((g - w).abs() < 1e-5, "{name}: {v:?}, want {want:?}");
            }
        }
    }
}
