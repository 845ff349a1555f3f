// The build script of the crates on tch (cnn-tch, llm-tch), included by
// their build.rs. torch-sys links libtorch but leaves the binary
// without a path to it, and rustc's --as-needed drops libtorch_cuda.so
// (nothing refers to it by symbol, its kernels register themselves when it
// loads). So: find torch/lib as torch-sys does (LIBTORCH_USE_PYTORCH=1: the
// active python's torch; else LIBTORCH_LIB or LIBTORCH/lib), add an rpath to
// it, and link libtorch_cuda.so with --no-as-needed when it is there. With
// LIBTORCH_USE_PYTORCH=1 it also records that torch's version
// (MLBENCH_TORCH_VERSION, named in the result's notes).
use std::path::PathBuf;
use std::process::Command;

fn python() -> &'static str {
    if std::env::var_os("VIRTUAL_ENV").is_some() { "python" } else { "python3" }
}

fn torch_lib() -> Option<PathBuf> {
    for v in ["LIBTORCH_USE_PYTORCH", "LIBTORCH", "LIBTORCH_LIB", "VIRTUAL_ENV", "PATH"] {
        println!("cargo:rerun-if-env-changed={v}");
    }
    if std::env::var_os("LIBTORCH_USE_PYTORCH").is_some() {
        let out = Command::new(python())
            .args(["-c", "from torch.utils import cpp_extension as e; print(e.library_paths()[0])"])
            .output()
            .ok()?;
        return String::from_utf8(out.stdout).ok().map(|s| PathBuf::from(s.trim()));
    }
    if let Some(lib) = std::env::var_os("LIBTORCH_LIB") {
        return Some(PathBuf::from(lib).join("lib"));
    }
    std::env::var_os("LIBTORCH").map(|d| PathBuf::from(d).join("lib"))
}

fn torch_version() -> Option<String> {
    std::env::var_os("LIBTORCH_USE_PYTORCH")?;
    let out = Command::new(python()).args(["-c", "import torch; print(torch.__version__)"]).output().ok()?;
    let v = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !v.is_empty()).then_some(v)
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../common/tch_build.rs");
    if let Some(v) = torch_version() {
        println!("cargo:rustc-env=MLBENCH_TORCH_VERSION={v}");
    }
    let Some(lib) = torch_lib().filter(|p| p.join("libtorch_cpu.so").exists()) else {
        println!("cargo:warning={}: torch/lib not found; the binary needs LD_LIBRARY_PATH", env!("CARGO_PKG_NAME"));
        return;
    };
    println!("cargo:rustc-env=MLBENCH_TORCH_LIB={}", lib.display());
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    if lib.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}
