//! What the dl/cnn crates (cnn-tch, cnn-candle, cnn-burn) share: the task's
//! parameters, the record of a training run and how it goes into the result
//! (the same for every framework, and the same as reference/python/cnn.py),
//! and the test fixture whose expected values come from PyTorch.

use crate::{Res, Result, Spec};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Test-set batch size for the accuracy after each epoch (as reference/python/cnn.py).
pub const EVAL_BATCH: usize = 1000;
/// Number of losses in the `loss_steps` probe.
pub const PROBE_STEPS: usize = 10;

/// The seed CNN's parameters: PyTorch names, shapes and fan-in, in file order.
pub const PARAMS: [(&str, &[usize], usize); 8] = [
    ("conv1.weight", &[32, 3, 3, 3], 27),
    ("conv1.bias", &[32], 27),
    ("conv2.weight", &[64, 32, 3, 3], 288),
    ("conv2.bias", &[64], 288),
    ("fc1.weight", &[512, 4096], 4096),
    ("fc1.bias", &[512], 4096),
    ("fc2.weight", &[10, 512], 512),
    ("fc2.bias", &[10], 512),
];

/// spec.params of dl/cnn.
#[derive(Debug, Clone)]
pub struct Params {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    pub seed: u64,
    /// Batches per epoch when set (the sweeps: a fixed number of Adam steps
    /// at each batch size); else the whole of each epoch's order.
    pub steps: Option<usize>,
}

impl Params {
    pub fn from_spec(spec: &Spec) -> Res<Params> {
        if spec.task != "dl/cnn" {
            return Err(format!("unknown task {:?}: want dl/cnn", spec.task).into());
        }
        let triple = |name: &str| -> Res<[f32; 3]> {
            // Every element must be a number: none is dropped silently.
            let v: Vec<f32> = spec
                .params
                .get(name)
                .and_then(|v| v.as_array())
                .and_then(|a| a.iter().map(|x| x.as_f64().map(|x| x as f32)).collect())
                .unwrap_or_default();
            v.try_into().map_err(|_| format!("spec: parameter {name:?} must be 3 numbers").into())
        };
        let p = Params {
            epochs: spec.usize("epochs")?,
            batch_size: spec.usize("batch_size")?,
            lr: spec.f64("lr")?,
            mean: triple("mean")?,
            std: triple("std")?,
            seed: spec.usize("seed")? as u64,
            steps: if spec.params.contains_key("steps") { Some(spec.usize("steps")?) } else { None },
        };
        if p.batch_size == 0 || p.epochs == 0 {
            return Err("spec: epochs and batch_size must be at least 1".into());
        }
        Ok(p)
    }

    /// The samples each epoch trains on out of per_epoch: the first
    /// steps * batch_size with steps, else all.
    pub fn samples(&self, per_epoch: usize) -> Res<usize> {
        match self.steps {
            None => Ok(per_epoch),
            Some(s) if s >= 1 && s * self.batch_size <= per_epoch => Ok(s * self.batch_size),
            Some(s) => Err(format!("steps {s} of batch {}: want 1 to {per_epoch} samples per epoch", self.batch_size).into()),
        }
    }

    /// Checks that the batch order (rows = epochs) covers the epochs asked for
    /// and that every entry is a row of the training set (`0..rows`): a
    /// negative index would otherwise wrap or saturate to another image.
    pub fn check_order(&self, shape: &[usize], values: &[i64], rows: usize) -> Res<()> {
        match shape {
            [e, _] if *e >= self.epochs => {}
            _ => return Err(format!("order has shape {shape:?}, params ask for {} epochs", self.epochs).into()),
        }
        match values.iter().find(|&&v| v < 0 || v as u64 >= rows as u64) {
            Some(v) => Err(format!("order: index {v} out of range [0, {rows})").into()),
            None => Ok(()),
        }
    }
}

/// The record of the timed training runs: per-epoch mean step loss and test
/// accuracy, the first steps' losses of epoch 0, and the images trained on.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct History {
    pub epoch_loss: Vec<f64>,
    pub epoch_test_accuracy: Vec<f64>,
    pub loss_steps: Vec<f64>,
    pub images_trained: usize,
    last_loss: f64,
    last_accuracy: f64,
}

impl History {
    /// Records epoch `epoch` of a repetition: the loss of each of its steps
    /// (before the step's update), the test accuracy after it and the number
    /// of images it trained on.
    pub fn epoch(&mut self, timed: bool, epoch: usize, step_losses: &[f64], accuracy: f64, images: usize) {
        let mean = step_losses.iter().sum::<f64>() / step_losses.len().max(1) as f64;
        if epoch == 0 {
            self.loss_steps = step_losses.iter().take(PROBE_STEPS).copied().collect();
        }
        if timed {
            self.images_trained += images;
            self.epoch_loss.push(mean);
            self.epoch_test_accuracy.push(accuracy);
        }
        self.last_loss = mean;
        self.last_accuracy = accuracy;
    }

    /// Writes metrics, series, the probe and the parameters used into res.
    pub fn finish(self, res: &mut Result, p: &Params, samples_per_epoch: usize) {
        let train_s: f64 = res.phases.get("train_epoch").map(|v| v.iter().sum()).unwrap_or(0.0);
        res.metric("test_accuracy", self.last_accuracy);
        res.metric("final_loss", self.last_loss);
        res.metric("images_per_s", self.images_trained as f64 / train_s);
        res.series.insert("epoch_loss".into(), self.epoch_loss);
        res.series.insert("epoch_test_accuracy".into(), self.epoch_test_accuracy);
        res.probe("loss_steps", self.loss_steps);
        for (k, v) in [
            ("epochs", json!(p.epochs)),
            ("batch_size", json!(p.batch_size)),
            ("lr", json!(p.lr)),
            ("seed", json!(p.seed)),
            ("optimizer", json!("adam")),
            ("betas", json!([0.9, 0.999])),
            ("eps", json!(1e-8)),
            ("weight_decay", json!(0.0)),
            ("loss", json!("cross_entropy_mean")),
            ("eval_batch_size", json!(EVAL_BATCH)),
            ("samples_per_epoch", json!(samples_per_epoch)),
        ] {
            res.params.insert(k.into(), v);
        }
        res.notes.push(format!(
            "loss_steps[k-1] = the loss of the forward pass of batch k of epoch 0, before its optimizer step (k = 1..{PROBE_STEPS}), \
             of the last repetition; epoch_loss = mean of the epoch's step losses; eval: the whole test set after every epoch, \
             without gradients, in batches of {EVAL_BATCH}"
        ));
    }
}

/// uint8 images [N,3,H,W] -> float32 x/255, then (x - mean) / std per channel.
pub fn normalize(x: &[u8], mean: [f32; 3], std: [f32; 3]) -> Vec<f32> {
    let plane = 32 * 32;
    x.chunks_exact(plane)
        .enumerate()
        .flat_map(|(i, px)| {
            let c = i % 3;
            px.iter().map(move |&v| (v as f32 / 255.0 - mean[c]) / std[c])
        })
        .collect()
}

/// A tiny fixed problem for the crates' tests, with expected values computed
/// independently by PyTorch (testdata/cnn_fixture.py, torch 2.11.0, CPU).
/// The values are written as PyTorch printed them, digits f32 cannot hold included.
#[allow(clippy::excessive_precision)]
pub mod fixture {
    use super::PARAMS;

    pub const MEAN: [f32; 3] = [0.4914, 0.4822, 0.4465];
    pub const STD: [f32; 3] = [0.2470, 0.2435, 0.2616];
    pub const N: usize = 4;
    pub const LABELS: [i64; N] = [3, 1, 4, 1];
    pub const LR: f64 = 1e-3;
    /// Cross-entropy on the batch before the first, before the second and after
    /// the second Adam step.
    pub const LOSSES: [f64; 3] = [2.3088975, 2.11565185, 1.90397704];
    /// Elements 0..3 of (flattened) parameters after the two Adam steps.
    pub const AFTER_TWO_STEPS: [(&str, [f32; 3]); 5] = [
        ("conv1.weight", [-0.19426018, 0.174507931, 0.160370231]),
        ("conv2.bias", [-0.0580531731, 0.0543878675, 0.0527070202]),
        ("fc1.weight", [-0.0045781252, -0.00516213197, -0.0064902599]),
        ("fc2.weight", [-0.0422866605, 0.041463457, 0.0377069525]),
        ("fc2.bias", [-0.0136237619, -0.0133911688, -0.0209983233]),
    ];

    /// The fixture's weights: name, shape, row-major values (PyTorch layout).
    pub fn weights() -> Vec<(&'static str, Vec<usize>, Vec<f32>)> {
        PARAMS
            .iter()
            .enumerate()
            .map(|(k, &(name, shape, fan_in))| {
                let n: usize = shape.iter().product();
                let scale = 1.0 / (fan_in as f64).sqrt();
                let v = (0..n as i64).map(|i| ((((i * 7919 + k as i64 * 104729) % 2001) as f64 / 1000.0 - 1.0) * scale) as f32).collect();
                (name, shape.to_vec(), v)
            })
            .collect()
    }

    /// The fixture's uint8 images [N,3,32,32].
    pub fn images() -> Vec<u8> {
        (0..(N * 3 * 32 * 32) as i64).map(|i| ((i * 31 + 7) % 256) as u8).collect()
    }

    /// Writes the weights as a safetensors file (f32, little-endian).
    pub fn write_safetensors(path: &std::path::Path) -> std::io::Result<()> {
        let w = weights();
        let (mut header, mut off) = (serde_json::Map::new(), 0usize);
        for (name, shape, v) in &w {
            header.insert(name.to_string(), serde_json::json!({"dtype": "F32", "shape": shape, "data_offsets": [off, off + 4 * v.len()]}));
            off += 4 * v.len();
        }
        let mut h = serde_json::to_vec(&header).unwrap();
        while h.len() % 8 != 0 {
            h.push(b' ');
        }
        let mut b = (h.len() as u64).to_le_bytes().to_vec();
        b.extend_from_slice(&h);
        w.iter().flat_map(|(_, _, v)| v.iter()).for_each(|x| b.extend_from_slice(&x.to_le_bytes()));
        std::fs::write(path, b)
    }

    /// A path for a test's fixture file, unique to the process and tag.
    pub fn temp_path(tag: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("mlbench-cnn-{tag}-{}.safetensors", std::process::id()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_refuse_a_mean_with_a_non_number() {
        let spec = |mean: serde_json::Value| -> Spec {
            serde_json::from_value(json!({"schema_version": 1, "task": "dl/cnn", "impl": "x", "warmup": 0,
                "reps": 1, "threads": 1, "device": "cpu", "result_path": "/tmp/r.json",
                "params": {"epochs": 1, "batch_size": 64, "lr": 1e-3, "seed": 0, "mean": mean, "std": [1, 1, 1]}}))
            .unwrap()
        };
        assert!(Params::from_spec(&spec(json!([0.5, 0.5, 0.5]))).is_ok_and(|p| p.steps.is_none()));
        let e = Params::from_spec(&spec(json!(["a", 0.5, 0.5, 0.5]))).unwrap_err().to_string();
        assert!(e.contains("\"mean\" must be 3 numbers"), "{e}");
    }

    #[test]
    fn order_must_cover_the_epochs_and_index_training_rows() {
        let mut p = Params { epochs: 1, batch_size: 2, lr: 1e-3, mean: [0.0; 3], std: [1.0; 3], seed: 0, steps: None };
        assert!(p.check_order(&[1, 3], &[0, 2, 1], 3).is_ok());
        for (bad, want) in [(-1i64, "index -1 out of range [0, 3)"), (3, "index 3 out of range [0, 3)")] {
            let e = p.check_order(&[1, 3], &[0, bad, 1], 3).unwrap_err().to_string();
            assert!(e.contains(want), "{bad}: {e}");
        }
        p.epochs = 2;
        let e = p.check_order(&[1, 3], &[0, 2, 1], 3).unwrap_err().to_string();
        assert!(e.contains("params ask for 2 epochs"), "{e}");
    }

    #[test]
    fn steps_cut_each_epoch() {
        let mut p = Params { epochs: 1, batch_size: 16, lr: 1e-3, mean: [0.0; 3], std: [1.0; 3], seed: 0, steps: None };
        assert_eq!(p.samples(100).unwrap(), 100);
        p.steps = Some(3);
        assert_eq!(p.samples(100).unwrap(), 48);
        p.steps = Some(7);
        assert!(p.samples(100).unwrap_err().to_string().contains("steps 7 of batch 16"));
        p.steps = Some(0);
        assert!(p.samples(100).is_err());
    }

    #[test]
    fn normalize_per_channel() {
        let mut x = vec![0u8; 2 * 3 * 1024];
        x[1024] = 255; // image 0, channel 1, pixel 0
        x[5 * 1024 + 1] = 51; // image 1, channel 2, pixel 1
        let v = normalize(&x, [0.5, 0.25, 0.0], [0.5, 0.25, 1.0]);
        assert_eq!(v[0], -1.0);
        assert_eq!(v[1024], 3.0);
        assert!((v[5 * 1024 + 1] - 0.2).abs() < 1e-7);
    }

    #[test]
    #[allow(clippy::excessive_precision)]
    fn fixture_weights_as_torch() {
        // First values printed by testdata/cnn_fixture.py's weights().
        let w = fixture::weights();
        assert_eq!(w[0].2[..3], [-0.19245009124279022f32, 0.1762842833995819, 0.15992602705955505]);
        assert_eq!(w[7].2[..3], [-0.011623067781329155f32, -0.015379572287201881, -0.019136076793074608]);
    }
}
