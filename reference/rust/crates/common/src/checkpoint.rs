//! Checkpoints (docs/PROTOCOL.md, "Checkpoints"): state kept in the spec's
//! `checkpoint_dir` so that a job killed at its timeout can be continued by
//! a later `mlbench run --resume` in a new process.
//!
//! Each save is a fresh directory `state-N` holding what the implementation
//! wrote plus `meta.json`; the file `latest` names the newest complete one
//! and is replaced atomically, so a process killed while saving leaves the
//! previous state intact.

use crate::{write_json_atomic, Res, Spec};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};

pub struct Checkpoint {
    dir: PathBuf,
    /// What the state was made for: a state is only continued under a spec
    /// with the same task, inputs, parameters and settings.
    key: Value,
}

#[derive(Serialize, Deserialize)]
struct Meta<M> {
    key: Value,
    meta: M,
}

impl Checkpoint {
    /// The spec's checkpoint directory, or None when the orchestrator gave none.
    pub fn from_spec(spec: &Spec) -> Option<Checkpoint> {
        if spec.checkpoint_dir.is_empty() {
            return None;
        }
        let key = json!({
            "task": spec.task, "variant": spec.variant, "impl": spec.r#impl, "size": spec.size,
            "inputs": spec.inputs, "datasets": spec.datasets, "params": spec.params,
            "warmup": spec.warmup, "reps": spec.reps, "threads": spec.threads, "device": spec.device,
        });
        Some(Checkpoint { dir: PathBuf::from(&spec.checkpoint_dir), key })
    }

    fn latest_name(&self) -> Res<Option<String>> {
        match fs::read_to_string(self.dir.join("latest")) {
            Ok(s) => Ok(Some(s.trim().to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("checkpoint {}: {e}", self.dir.display()).into()),
        }
    }

    /// The newest saved state: its directory (with the files `save` wrote)
    /// and its meta. None when nothing was saved. A state made for another
    /// spec, or one that cannot be read, is an error: it is never silently
    /// ignored or continued.
    pub fn latest<M: DeserializeOwned>(&self) -> Res<Option<(PathBuf, M)>> {
        let Some(name) = self.latest_name()? else { return Ok(None) };
        let dir = self.dir.join(&name);
        let path = dir.join("meta.json");
        let b = fs::read(&path).map_err(|e| format!("checkpoint {}: {e}", path.display()))?;
        let m: Meta<M> = serde_json::from_slice(&b).map_err(|e| format!("checkpoint {}: {e}", path.display()))?;
        if m.key != self.key {
            return Err(format!(
                "checkpoint {} was made for another spec (task, inputs, parameters or settings differ): remove it to start again",
                self.dir.display()
            )
            .into());
        }
        Ok(Some((dir, m.meta)))
    }

    /// Saves a new state: `write` fills a fresh directory, then its meta is
    /// written and `latest` is pointed at it; older states are removed.
    pub fn save<M: Serialize>(&self, meta: &M, write: impl FnOnce(&Path) -> Res<()>) -> Res<()> {
        let prev = self.latest_name()?;
        let n = prev.as_deref().and_then(|s| s.strip_prefix("state-")).and_then(|s| s.parse::<u64>().ok()).map_or(0, |n| n + 1);
        let name = format!("state-{n}");
        let dir = self.dir.join(&name);
        let _ = fs::remove_dir_all(&dir); // left by a process killed while saving
        fs::create_dir_all(&dir).map_err(|e| format!("checkpoint {}: {e}", dir.display()))?;
        write(&dir)?;
        write_json_atomic(dir.join("meta.json").to_str().unwrap(), &Meta { key: self.key.clone(), meta })?;
        let tmp = self.dir.join(".latest.tmp");
        fs::write(&tmp, &name)?;
        fs::rename(&tmp, self.dir.join("latest"))?;
        for e in fs::read_dir(&self.dir)?.flatten() {
            let f = e.file_name().to_string_lossy().to_string();
            if f.starts_with("state-") && f != name {
                let _ = fs::remove_dir_all(e.path());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(dir: &Path, seed: u64) -> Spec {
        serde_json::from_value(json!({
            "schema_version": 1, "task": "dl/cnn", "impl": "x", "size": "full", "params": {"seed": seed},
            "warmup": 0, "reps": 1, "threads": 2, "device": "cpu", "result_path": "/dev/null",
            "checkpoint_dir": dir.to_str().unwrap(),
        }))
        .unwrap()
    }

    #[test]
    fn saves_continues_and_refuses_another_specs_state() {
        let dir = std::env::temp_dir().join(format!("mlbench-ckpt-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let c = Checkpoint::from_spec(&spec(&dir, 1)).unwrap();
        assert!(c.latest::<u32>().unwrap().is_none());

        for epoch in 1..=3u32 {
            c.save(&epoch, |d| Ok(fs::write(d.join("weights"), format!("w{epoch}"))?)).unwrap();
        }
        let (d, epoch) = c.latest::<u32>().unwrap().unwrap();
        assert_eq!(epoch, 3);
        assert_eq!(fs::read_to_string(d.join("weights")).unwrap(), "w3");
        let states: Vec<_> =
            fs::read_dir(&dir).unwrap().flatten().filter(|e| e.file_name().to_string_lossy().starts_with("state-")).collect();
        assert_eq!(states.len(), 1, "older states are removed");

        // A save that fails half-way leaves the previous state the latest.
        assert!(c.save(&4u32, |_| Err("disk full".into())).is_err());
        assert_eq!(c.latest::<u32>().unwrap().unwrap().1, 3);

        let other = Checkpoint::from_spec(&spec(&dir, 2)).unwrap();
        let err = other.latest::<u32>().unwrap_err().to_string();
        assert!(err.contains("made for another spec"), "{err}");

        let mut no = spec(&dir, 1);
        no.checkpoint_dir.clear();
        assert!(Checkpoint::from_spec(&no).is_none());
        fs::remove_dir_all(&dir).unwrap();
    }
}
