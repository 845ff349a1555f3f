//! The Rust side of the runner protocol (docs/PROTOCOL.md, schema version 1):
//! spec and result types, `.npy` loading, a monotonic timer, atomic writes.

pub mod checkpoint;
pub mod classical;
pub mod cnn;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

pub const SCHEMA_VERSION: u32 = 1;

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Res<T> = std::result::Result<T, Error>;

/// Unknown fields are refused, as the Go side (bench.ReadSpec) does.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub schema_version: u32,
    pub task: String,
    #[serde(default)]
    pub variant: String,
    pub r#impl: String,
    #[serde(default)]
    pub size: String,
    #[serde(default)]
    pub inputs: BTreeMap<String, String>,
    #[serde(default)]
    pub datasets: Vec<Value>,
    #[serde(default)]
    pub params: Map<String, Value>,
    pub warmup: usize,
    pub reps: usize,
    pub threads: usize,
    pub device: String,
    pub result_path: String,
    #[serde(default)]
    pub work_dir: String,
    /// Kept across processes of one job (see `checkpoint`); empty when none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub checkpoint_dir: String,
}

impl Spec {
    pub fn read(path: &str) -> Res<Spec> {
        let b = fs::read(path).map_err(|e| format!("read spec {path}: {e}"))?;
        let s: Spec = serde_json::from_slice(&b).map_err(|e| format!("spec {path}: malformed JSON: {e}"))?;
        if s.schema_version != SCHEMA_VERSION {
            return Err(format!("spec {path}: schema_version {}, want {SCHEMA_VERSION}", s.schema_version).into());
        }
        if s.reps < 1 || s.threads < 1 || s.task.is_empty() || s.r#impl.is_empty() || s.result_path.is_empty() {
            return Err(format!("spec {path}: task, impl, result_path, reps>=1, threads>=1 are required").into());
        }
        if s.device != "cpu" && s.device != "cuda" {
            return Err(format!("spec {path}: device {:?}: want cpu or cuda", s.device).into());
        }
        Ok(s)
    }
    pub fn input(&self, name: &str) -> Res<&str> {
        self.inputs.get(name).map(|s| s.as_str()).ok_or_else(|| format!("spec: input {name:?} missing").into())
    }
    pub fn f64(&self, name: &str) -> Res<f64> {
        self.params.get(name).and_then(|v| v.as_f64()).ok_or_else(|| format!("spec: number parameter {name:?} missing").into())
    }
    pub fn usize(&self, name: &str) -> Res<usize> {
        let v = self.f64(name)?;
        if v < 0.0 || v.fract() != 0.0 {
            return Err(format!("spec: parameter {name:?} = {v} is not a whole number").into());
        }
        Ok(v as usize)
    }
    pub fn str(&self, name: &str) -> Res<String> {
        self.params
            .get(name)
            .and_then(|v| v.as_str())
            .map(|s| s.to_string())
            .ok_or_else(|| format!("spec: string parameter {name:?} missing").into())
    }
    /// (rep, timed) pairs: the warm-up then the timed repetitions.
    pub fn repetitions(&self) -> impl Iterator<Item = (usize, bool)> {
        let w = self.warmup;
        (0..w + self.reps).map(move |i| (i, i >= w))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Result {
    pub schema_version: u32,
    pub task: String,
    pub variant: String,
    pub r#impl: String,
    pub language: String,
    pub language_version: String,
    pub framework: String,
    pub framework_version: String,
    pub params: Map<String, Value>,
    pub datasets: Vec<Value>,
    pub threads: usize,
    pub device: String,
    pub phases: BTreeMap<String, Vec<f64>>,
    pub metrics: BTreeMap<String, f64>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub not_applicable: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub series: BTreeMap<String, Vec<f64>>,
    pub probes: BTreeMap<String, Vec<f64>>,
    pub self_peak_rss_bytes: i64,
    pub notes: Vec<String>,
    pub errors: Vec<String>,
    /// Where this process went on from a checkpoint of an earlier one ("" = it did all the work).
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub resumed_from: String,
}

impl Result {
    pub fn new(spec: &Spec, framework: &str, framework_version: &str) -> Result {
        Result {
            schema_version: SCHEMA_VERSION,
            task: spec.task.clone(),
            variant: spec.variant.clone(),
            r#impl: spec.r#impl.clone(),
            language: "rust".into(),
            language_version: option_env!("MLBENCH_RUSTC_VERSION").unwrap_or("unknown").into(),
            framework: framework.into(),
            framework_version: framework_version.into(),
            params: spec.params.clone(),
            datasets: spec.datasets.clone(),
            threads: spec.threads,
            device: spec.device.clone(),
            phases: BTreeMap::new(),
            metrics: BTreeMap::new(),
            not_applicable: BTreeMap::new(),
            series: BTreeMap::new(),
            probes: BTreeMap::new(),
            self_peak_rss_bytes: 0,
            notes: vec![],
            errors: vec![],
            resumed_from: String::new(),
        }
    }
    pub fn add(&mut self, phase: &str, seconds: f64) {
        self.phases.entry(phase.into()).or_default().push(seconds);
    }
    /// Runs f, and when `timed` records its duration under `phase`.
    pub fn time<T>(&mut self, timed: bool, phase: &str, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        if timed {
            self.add(phase, t.elapsed().as_secs_f64());
        }
        out
    }
    pub fn probe(&mut self, name: &str, v: impl IntoIterator<Item = f64>) {
        self.probes.insert(name.into(), v.into_iter().collect());
    }
    pub fn metric(&mut self, name: &str, v: f64) {
        self.metrics.insert(name.into(), v);
    }
    pub fn validate(&self) -> Res<()> {
        for (k, vs) in self.phases.iter().chain(self.probes.iter()) {
            if let Some(v) = vs.iter().find(|v| !v.is_finite()) {
                return Err(format!("invalid result: {k} holds {v}").into());
            }
        }
        if let Some((k, v)) = self.metrics.iter().find(|(_, v)| !v.is_finite()) {
            return Err(format!("invalid result: metric {k} = {v}").into());
        }
        Ok(())
    }
}

/// Peak resident set of this process in bytes (Linux: VmHWM).
/// Records the CUDA math settings a libtorch implementation ran with on CUDA, under
/// the names cnn.py, llm_transformers.py and go-libtorch use (they read them back):
/// libtorch's defaults, the same in every implementation (cuDNN benchmark and
/// deterministic off, TF32 off for matmuls unless TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1,
/// on for cuDNN convolutions). tch 0.24 can set only cudnn.benchmark and read none of
/// them, so they are stated here, not read.
pub fn add_libtorch_cuda_math(res: &mut Result) {
    let tf32_matmul = std::env::var("TORCH_ALLOW_TF32_CUBLAS_OVERRIDE").is_ok_and(|v| v == "1");
    for (k, v) in
        [("cudnn_benchmark", false), ("cudnn_deterministic", false), ("cuda_matmul_allow_tf32", tf32_matmul), ("cudnn_allow_tf32", true)]
    {
        res.params.insert(k.into(), Value::Bool(v));
    }
}

pub fn peak_rss_bytes() -> i64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.to_string()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse::<i64>().ok()))
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// Writes v as JSON to path through a temporary file and a rename.
pub fn write_json_atomic<T: Serialize>(path: &str, v: &T) -> Res<()> {
    let p = Path::new(path);
    let dir = p.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.tmp-{}", p.file_name().unwrap().to_string_lossy(), std::process::id()));
    let res = (|| -> Res<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec_pretty(v)?)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        fs::rename(&tmp, p)?;
        Ok(())
    })();
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res
}

/// Entry point for a reference binary: parses `--spec PATH`, runs f, writes
/// the result; on error prints one line and exits non-zero.
pub fn main_with(f: impl FnOnce(&Spec) -> Res<Result>) {
    let args: Vec<String> = std::env::args().collect();
    let path = match args.iter().position(|a| a == "--spec").and_then(|i| args.get(i + 1)) {
        Some(p) => p.clone(),
        None => {
            eprintln!("usage: {} --spec SPEC.json", args.first().map(|s| s.as_str()).unwrap_or("prog"));
            std::process::exit(2);
        }
    };
    let spec = match Spec::read(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let out = f(&spec).and_then(|mut r| {
        r.self_peak_rss_bytes = peak_rss_bytes();
        r.validate()?;
        write_json_atomic(&spec.result_path, &r)
    });
    if let Err(e) = out {
        // One line, as the protocol asks (candle's errors append a backtrace).
        eprintln!("error: {}", e.to_string().lines().next().unwrap_or(""));
        std::process::exit(1);
    }
}

/// A dense array read from a `.npy` file, converted to the element type asked for.
#[derive(Debug, Clone)]
pub struct Npy<T> {
    pub shape: Vec<usize>,
    pub data: Vec<T>,
}

fn npy_header(b: &[u8], path: &str) -> Res<(String, bool, Vec<usize>, usize)> {
    if b.len() < 10 || &b[..6] != b"\x93NUMPY" {
        return Err(format!("{path}: not a .npy file").into());
    }
    let (hlen, start) = match b[6] {
        1 => (u16::from_le_bytes([b[8], b[9]]) as usize, 10),
        2 | 3 => {
            if b.len() < 12 {
                return Err(format!("{path}: truncated .npy header").into());
            }
            (u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize, 12)
        }
        v => return Err(format!("{path}: unsupported .npy version {v}").into()),
    };
    if b.len() < start + hlen {
        return Err(format!("{path}: truncated .npy header").into());
    }
    let h = std::str::from_utf8(&b[start..start + hlen])?;
    let field = |k: &str| -> Res<&str> {
        let i = h.find(&format!("'{k}'")).ok_or_else(|| format!("{path}: .npy header lacks {k}"))?;
        Ok(h[i + k.len() + 2..].trim_start_matches([':', ' ']))
    };
    let descr = field("descr")?;
    let descr = descr.get(1..).unwrap_or("").split('\'').next().unwrap_or("").to_string();
    let fortran = field("fortran_order")?.starts_with("True");
    let sh = field("shape")?;
    let sh = sh.strip_prefix('(').and_then(|s| s.split_once(')')).map(|(s, _)| s).ok_or_else(|| format!("{path}: bad shape"))?;
    let shape: Vec<usize> =
        sh.split(',').map(|s| s.trim()).filter(|s| !s.is_empty()).map(|s| s.parse::<usize>()).collect::<std::result::Result<_, _>>()?;
    Ok((descr, fortran, shape, start + hlen))
}

/// Reads a `.npy` array of f8, f4, i8, i4 or u1 and converts every element to T.
pub fn read_npy<T: FromNpy>(path: &str) -> Res<Npy<T>> {
    let b = fs::read(path).map_err(|e| format!("read {path}: {e}"))?;
    let (descr, fortran, shape, off) = npy_header(&b, path)?;
    if fortran {
        return Err(format!("{path}: Fortran-order arrays are not supported").into());
    }
    let body = &b[off..];
    let size = match descr.as_str() {
        "<f8" | "<i8" => 8,
        "<f4" | "<i4" => 4,
        "|u1" | "<u1" => 1,
        d => return Err(format!("{path}: unsupported dtype {d}").into()),
    };
    let n = npy_elements(&shape, size, body.len())
        .ok_or_else(|| format!("{path}: truncated: {} data bytes for shape {:?}", body.len(), shape))?;
    if body.len() != n * size {
        return Err(format!("{path}: truncated: {} data bytes for shape {:?}", body.len(), shape).into());
    }
    let mut data = Vec::with_capacity(n);
    for c in body.chunks_exact(size) {
        let v = match descr.as_str() {
            "<f8" => f64::from_le_bytes(c.try_into().unwrap()),
            "<i8" => i64::from_le_bytes(c.try_into().unwrap()) as f64,
            "<f4" => f32::from_le_bytes(c.try_into().unwrap()) as f64,
            "<i4" => i32::from_le_bytes(c.try_into().unwrap()) as f64,
            _ => c[0] as f64,
        };
        data.push(T::from_f64(v));
    }
    Ok(Npy { shape, data })
}

/// The element count of `shape`, or None when the product or its byte count
/// (`elem` bytes each) overflows or exceeds the `body` bytes the file holds: a
/// header that claims more than the file cannot be allocated for.
fn npy_elements(shape: &[usize], elem: usize, body: usize) -> Option<usize> {
    let n = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))?;
    (n.checked_mul(elem)? <= body).then_some(n)
}

/// Reads a `.npy` array of row indices into a table of `rows` rows: every
/// element must be a whole number in `0..rows` (a negative index would
/// otherwise saturate to row 0).
pub fn read_indices(path: &str, rows: usize) -> Res<Vec<usize>> {
    let a = read_npy::<f64>(path)?;
    a.data
        .iter()
        .map(|&v| {
            if v.fract() == 0.0 && v >= 0.0 && v < rows as f64 {
                Ok(v as usize)
            } else {
                Err(format!("{path}: index {v} out of range [0, {rows})").into())
            }
        })
        .collect()
}

pub trait FromNpy: Copy {
    fn from_f64(v: f64) -> Self;
}
impl FromNpy for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
}
impl FromNpy for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}
impl FromNpy for i64 {
    fn from_f64(v: f64) -> Self {
        v as i64
    }
}
impl FromNpy for usize {
    fn from_f64(v: f64) -> Self {
        v as usize
    }
}
impl FromNpy for u8 {
    fn from_f64(v: f64) -> Self {
        v as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy_bytes(descr: &str, shape: &str, body: &[u8]) -> Vec<u8> {
        let mut h = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(h.len() as u16).to_le_bytes());
        b.extend_from_slice(h.as_bytes());
        b.extend_from_slice(body);
        b
    }

    #[test]
    fn reads_f8_matrix() {
        let body: Vec<u8> = [1.5f64, -2.0, 3.25, 4.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let p = std::env::temp_dir().join(format!("mlb-npy-{}.npy", std::process::id()));
        fs::write(&p, npy_bytes("<f8", "(2, 2)", &body)).unwrap();
        let a: Npy<f64> = read_npy(p.to_str().unwrap()).unwrap();
        assert_eq!(a.shape, vec![2, 2]);
        assert_eq!(a.data, vec![1.5, -2.0, 3.25, 4.0]);
        fs::remove_file(p).unwrap();
    }

    #[test]
    fn rejects_shapes_whose_product_overflows() {
        let p = std::env::temp_dir().join(format!("mlb-npy-o-{}.npy", std::process::id()));
        for shape in ["(4294967296, 4294967296)", "(18446744073709551615, 2)", "(2305843009213693952,)"] {
            fs::write(&p, npy_bytes("<f8", shape, &[0u8; 16])).unwrap();
            let e = read_npy::<f64>(p.to_str().unwrap()).unwrap_err().to_string();
            assert!(e.contains("truncated"), "{shape}: {e}");
        }
        fs::remove_file(p).unwrap();
    }

    #[test]
    fn indices_must_be_in_range() {
        let p = std::env::temp_dir().join(format!("mlb-npy-i-{}.npy", std::process::id()));
        let path = p.to_str().unwrap();
        let body = |v: &[i64]| -> Vec<u8> { v.iter().flat_map(|v| v.to_le_bytes()).collect() };
        fs::write(&p, npy_bytes("<i8", "(3,)", &body(&[0, 2, 1]))).unwrap();
        assert_eq!(read_indices(path, 3).unwrap(), vec![0, 2, 1]);
        for bad in [[0i64, -1, 1], [0, 3, 1]] {
            fs::write(&p, npy_bytes("<i8", "(3,)", &body(&bad))).unwrap();
            let e = read_indices(path, 3).unwrap_err().to_string();
            assert!(e.contains("out of range [0, 3)"), "{bad:?}: {e}");
        }
        fs::remove_file(p).unwrap();
    }

    /// Property: no byte string makes the reader panic or allocate more than
    /// the file holds; it returns an array or an error. Inputs are valid
    /// headers with random shapes and bodies, and random mutations of them
    /// (a fixed-seed generator, so a failure can be replayed).
    #[test]
    fn never_panics_on_mutated_files() {
        let mut state = 0x9e3779b97f4a7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let p = std::env::temp_dir().join(format!("mlb-npy-p-{}.npy", std::process::id()));
        let path = p.to_str().unwrap().to_string();
        let descrs = ["<f8", "<i8", "<f4", "<i4", "|u1", "<c16", ""];
        for _ in 0..3000 {
            let dims: Vec<String> = (0..next() % 4)
                .map(|_| match next() % 4 {
                    0 => (next() % 5).to_string(),
                    1 => u64::MAX.to_string(),
                    2 => (1u64 << (next() % 64)).to_string(),
                    _ => "-1".to_string(),
                })
                .collect();
            let shape = format!("({}{})", dims.join(", "), if dims.len() == 1 { "," } else { "" });
            let body: Vec<u8> = (0..next() % 64).map(|_| next() as u8).collect();
            let mut b = npy_bytes(descrs[(next() % descrs.len() as u64) as usize], &shape, &body);
            for _ in 0..next() % 4 {
                if b.is_empty() {
                    break;
                }
                let i = (next() % b.len() as u64) as usize;
                let special = b"(),:'\x00";
                match next() % 3 {
                    0 => b[i] = next() as u8,
                    1 => b.truncate(i),
                    _ => b.insert(i, special[(next() % special.len() as u64) as usize]),
                }
            }
            fs::write(&p, &b).unwrap();
            if let Ok(a) = read_npy::<f64>(&path) {
                assert_eq!(a.data.len(), a.shape.iter().product::<usize>());
            }
        }
        fs::remove_file(p).unwrap();
    }

    #[test]
    fn spec_refuses_unknown_fields_and_wrong_types() {
        let p = std::env::temp_dir().join(format!("mlb-spec-{}.json", std::process::id()));
        let path = p.to_str().unwrap();
        let good = serde_json::json!({"schema_version": 1, "task": "t", "impl": "i", "warmup": 0,
            "reps": 1, "threads": 1, "device": "cpu", "result_path": "/tmp/r.json", "params": {"k": 8}});
        fs::write(&p, good.to_string()).unwrap();
        assert_eq!(Spec::read(path).unwrap().usize("k").unwrap(), 8);
        for (k, v) in [("bogus", serde_json::json!(1)), ("reps", serde_json::json!("3")), ("params", serde_json::json!([]))] {
            let mut s = good.clone();
            s[k] = v;
            fs::write(&p, s.to_string()).unwrap();
            assert!(Spec::read(path).is_err(), "{k}");
        }
        fs::remove_file(p).unwrap();
    }

    #[test]
    fn rejects_truncated() {
        let body: Vec<u8> = [1i64, 2, 3].iter().flat_map(|v| v.to_le_bytes()).collect();
        let p = std::env::temp_dir().join(format!("mlb-npy-t-{}.npy", std::process::id()));
        fs::write(&p, npy_bytes("<i8", "(4,)", &body)).unwrap();
        let e = read_npy::<i64>(p.to_str().unwrap()).unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
        fs::remove_file(p).unwrap();
    }
}
