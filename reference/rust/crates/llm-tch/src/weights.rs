//! model.safetensors and config.json of a model directory (docs/LLM.md).

use mlbench_common::Res;
use serde_json::Value;
use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

/// Where one tensor lies in the file.
struct Entry {
    kind: Kind,
    shape: Vec<i64>,
    /// Byte range in the file.
    start: u64,
    end: u64,
}

/// The tensors of a model.safetensors by name, taken one by one onto a
/// device. The header is parsed here and each tensor's bytes are read from
/// the file straight into libtorch memory (one copy, no intermediate buffer
/// of the whole file, which made loading take ~3x as long as transformers').
pub struct Weights {
    path: PathBuf,
    file: File,
    entries: HashMap<String, Entry>,
    device: Device,
}

fn kind_of(dtype: &str) -> Option<Kind> {
    Some(match dtype {
        "F32" => Kind::Float,
        "F16" => Kind::Half,
        "BF16" => Kind::BFloat16,
        "F64" => Kind::Double,
        _ => return None,
    })
}

impl Weights {
    /// Opens model_dir/model.safetensors and reads its header.
    pub fn load(model_dir: &str, device: Device) -> Res<Weights> {
        let path = Path::new(model_dir).join("model.safetensors");
        if cfg!(target_endian = "big") {
            return Err("safetensors are little-endian: this reader needs a little-endian host".into());
        }
        if !path.is_file() {
            return Err(format!("{}: no such file", path.display()).into());
        }
        let p = path.display().to_string();
        let mut file = File::open(&path).map_err(|e| format!("open {p}: {e}"))?;
        let size = file.metadata().map_err(|e| format!("{p}: {e}"))?.len();
        let mut n = [0u8; 8];
        file.read_exact(&mut n).map_err(|e| format!("{p}: not a safetensors file: {e}"))?;
        let n = u64::from_le_bytes(n);
        if n > 100 << 20 || 8 + n > size {
            return Err(format!("{p}: not a safetensors file (header length {n}, file size {size})").into());
        }
        let mut header = vec![0u8; n as usize];
        file.read_exact(&mut header).map_err(|e| format!("{p}: {e}"))?;
        let header: Value = serde_json::from_slice(&header).map_err(|e| format!("{p}: not a safetensors header: {e}"))?;
        let header = header.as_object().ok_or_else(|| format!("{p}: not a safetensors header"))?;
        let mut entries = HashMap::new();
        for (name, v) in header.iter().filter(|(k, _)| *k != "__metadata__") {
            let bad = || format!("{p}: tensor {name}: bad header entry {v}");
            let dtype = v["dtype"].as_str().ok_or_else(bad)?;
            let kind = kind_of(dtype).ok_or_else(|| format!("{p}: tensor {name}: dtype {dtype}, want a float type"))?;
            let shape = v["shape"]
                .as_array()
                .ok_or_else(bad)?
                .iter()
                .map(|d| d.as_i64().filter(|&d| d >= 0).ok_or_else(bad))
                .collect::<Result<Vec<i64>, _>>()?;
            let off = v["data_offsets"].as_array().filter(|o| o.len() == 2).ok_or_else(bad)?;
            let (a, b) = (off[0].as_u64().ok_or_else(bad)?, off[1].as_u64().ok_or_else(bad)?);
            let bytes = shape.iter().product::<i64>() as u64 * kind.elt_size_in_bytes() as u64;
            if b < a || b - a != bytes {
                return Err(bad().into());
            }
            if 8 + n + b > size {
                return Err(format!("{p}: tensor {name} ends at byte {}, the file has {size}: truncated?", 8 + n + b).into());
            }
            entries.insert(name.clone(), Entry { kind, shape, start: 8 + n + a, end: 8 + n + b });
        }
        Ok(Weights { path, file, entries, device })
    }

    /// Whether the file holds name.
    pub fn has(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    /// The tensor name, which must have the given shape, as float32 on the device.
    pub fn take(&mut self, name: &str, shape: &[i64]) -> Res<Tensor> {
        let e = self.entries.remove(name).ok_or_else(|| format!("{}: no tensor {name}", self.path.display()))?;
        if e.shape != shape {
            return Err(format!("{}: {name} has shape {:?}, want {shape:?}", self.path.display(), e.shape).into());
        }
        let t = Tensor::f_empty(shape, (e.kind, Device::Cpu))?;
        let len = (e.end - e.start) as usize;
        if len > 0 {
            // SAFETY: t is a fresh contiguous CPU tensor of exactly len bytes
            // (numel × element size, checked against the header in load), and
            // nothing else refers to its storage while the slice lives. The
            // file's bytes are little-endian, as the tensor's on this host.
            let dst = unsafe { std::slice::from_raw_parts_mut(t.data_ptr() as *mut u8, len) };
            self.file.read_exact_at(dst, e.start).map_err(|err| format!("{}: read {name}: {err}", self.path.display()))?;
        }
        let t = if e.kind == Kind::Float { t } else { t.f_to_kind(Kind::Float)? };
        Ok(if self.device == Device::Cpu { t } else { t.f_to(self.device)? })
    }
}

/// The model's config.json.
pub fn config(model_dir: &str) -> Res<Value> {
    mlbench_llm::read_config(model_dir)
}

/// A positive integer of config.json.
pub fn int(cfg: &Value, key: &str) -> Res<i64> {
    Ok(mlbench_llm::config_usize(cfg, key)? as i64)
}

/// A positive number of config.json, or def when the key is absent or null.
pub fn float(cfg: &Value, key: &str, def: f64) -> Res<f64> {
    match &cfg[key] {
        Value::Null => Ok(def),
        v => v.as_f64().filter(|&x| x > 0.0).ok_or_else(|| format!("config.json: {key} {v}: want a positive number").into()),
    }
}

/// A string of config.json, or def when the key is absent or null.
pub fn string<'a>(cfg: &'a Value, key: &str, def: &'a str) -> Res<&'a str> {
    match &cfg[key] {
        Value::Null => Ok(def),
        v => v.as_str().ok_or_else(|| format!("config.json: {key} {v}: want a string").into()),
    }
}

/// A boolean of config.json, or def when the key is absent or null.
pub fn boolean(cfg: &Value, key: &str, def: bool) -> Res<bool> {
    match &cfg[key] {
        Value::Null => Ok(def),
        v => v.as_bool().ok_or_else(|| format!("config.json: {key} {v}: want true or false").into()),
    }
}

/// GELU as transformers' ACT2FN names it: "gelu" exact (erf), "gelu_new" and
/// "gelu_pytorch_tanh" the tanh approximation; returns torch's `approximate`.
pub fn gelu_kind(act: &str) -> Res<&'static str> {
    match act {
        "gelu" => Ok("none"),
        "gelu_new" | "gelu_pytorch_tanh" => Ok("tanh"),
        _ => Err(format!("config.json: activation {act:?}: want gelu, gelu_new or gelu_pytorch_tanh").into()),
    }
}
