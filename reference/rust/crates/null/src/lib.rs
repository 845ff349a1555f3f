//! rust-null, the null implementation of every task (bench/null.go): it reads
//! the spec and every input through the same protocol code as the other Rust
//! implementations (`mlbench_common`), times each of the task's phases (the
//! spec's `phases` parameter) around nothing, and writes a result without
//! probes or metrics. Its wall time and phases are what Rust costs before any
//! work; parity does not apply to it.

use mlbench_common::{Res, Result, Spec, SCHEMA_VERSION};
use std::fs;

/// The phase names of the spec's `phases` parameter.
pub fn phases(spec: &Spec) -> Res<Vec<String>> {
    let bad = || -> mlbench_common::Error { "spec: parameter \"phases\" missing or not a list of phase names".into() };
    let list = spec.params.get("phases").and_then(|v| v.as_array()).ok_or_else(bad)?;
    let names: Vec<String> = list.iter().filter_map(|v| v.as_str()).filter(|s| !s.is_empty()).map(String::from).collect();
    if names.is_empty() || names.len() != list.len() {
        return Err(bad());
    }
    Ok(names)
}

/// Reads every input of spec: a file whole into memory, a directory listed
/// (what is in it is a framework's to load). Returns the bytes read.
pub fn read_inputs(spec: &Spec) -> Res<u64> {
    let mut n = 0;
    for (name, path) in &spec.inputs {
        let meta = fs::metadata(path).map_err(|e| format!("input {name} ({path}): {e}"))?;
        if meta.is_dir() {
            fs::read_dir(path).map_err(|e| format!("input {name} ({path}): {e}"))?.count();
            continue;
        }
        n += fs::read(path).map_err(|e| format!("input {name} ({path}): {e}"))?.len() as u64;
    }
    Ok(n)
}

/// Times "load" around reading the inputs and every other phase around
/// nothing, once per repetition.
pub fn run(spec: &Spec) -> Res<Result> {
    let mut res = Result::new(spec, "null", &SCHEMA_VERSION.to_string());
    let names = phases(spec)?;
    let mut read = 0;
    for (_, timed) in spec.repetitions() {
        for p in &names {
            if p == "load" {
                read = res.time(timed, p, || read_inputs(spec))?;
            } else {
                res.time(timed, p, || ());
            }
        }
    }
    res.notes.push(format!(
        "null implementation: load reads every input ({read} bytes; directories listed, not loaded), the other phases time nothing"
    ));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(dir: &std::path::Path, params: serde_json::Value, inputs: serde_json::Value) -> Spec {
        serde_json::from_value(json!({
            "schema_version": 1, "task": "classical/linreg", "impl": "rust-null", "inputs": inputs,
            "params": params, "warmup": 1, "reps": 3, "threads": 1, "device": "cpu",
            "result_path": dir.join("result.json").to_str().unwrap(),
        }))
        .unwrap()
    }

    fn tempdir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("mlb-null-{tag}-{}", std::process::id()));
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn reads_inputs_and_times_phases_only() {
        let d = tempdir("ok");
        fs::write(d.join("X.npy"), [7u8; 123]).unwrap();
        fs::create_dir_all(d.join("model")).unwrap();
        fs::write(d.join("model").join("w.bin"), [0u8; 1000]).unwrap();
        let s = spec(
            &d,
            json!({"phases": ["load", "fit", "predict"], "replicate": 1}),
            json!({"X": d.join("X.npy"), "model_dir": d.join("model")}),
        );
        let r = run(&s).unwrap();
        assert_eq!(r.phases.keys().collect::<Vec<_>>(), ["fit", "load", "predict"]);
        assert!(r.phases.values().all(|v| v.len() == 3), "timed repetitions only: {:?}", r.phases);
        assert!(r.probes.is_empty() && r.metrics.is_empty(), "a null result must not look computed");
        assert!(r.notes.last().unwrap().contains("(123 bytes;"), "the directory is listed, not read: {:?}", r.notes);
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn refuses_missing_phases_and_inputs() {
        let d = tempdir("bad");
        let e = run(&spec(&d, json!({}), json!({}))).unwrap_err().to_string();
        assert!(e.contains("parameter \"phases\" missing"), "{e}");
        let e = run(&spec(&d, json!({"phases": ["load", 3]}), json!({}))).unwrap_err().to_string();
        assert!(e.contains("not a list of phase names"), "{e}");
        let e = run(&spec(&d, json!({"phases": ["load"]}), json!({"X": d.join("none.npy")}))).unwrap_err().to_string();
        assert!(e.contains("none.npy"), "{e}");
        fs::remove_dir_all(d).unwrap();
    }
}
