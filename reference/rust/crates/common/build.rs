// Records the compiler version for Result::language_version (MLBENCH_RUSTC_VERSION).
use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc).arg("--version").output().ok();
    let v = out
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.split_whitespace().nth(1).map(str::to_string))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=MLBENCH_RUSTC_VERSION={v}");
    println!("cargo:rerun-if-env-changed=RUSTC");
}
