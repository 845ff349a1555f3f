// torch-sys links libtorch but leaves the binary without a path to it, and
// rustc's --as-needed drops libtorch_cuda.so (nothing refers to it by symbol,
// its kernels register themselves when it loads). So: find torch/lib as
// torch-sys does (LIBTORCH_USE_PYTORCH=1: the active python's torch; else
// LIBTORCH_LIB or LIBTORCH/lib), add an rpath to it, and link libtorch_cuda.so
// with --no-as-needed when it is there.
use std::path::PathBuf;
use std::process::Command;

fn torch_lib() -> Option<PathBuf> {
    for v in ["LIBTORCH_USE_PYTORCH", "LIBTORCH", "LIBTORCH_LIB", "VIRTUAL_ENV", "PATH"] {
        println!("cargo:rerun-if-env-changed={v}");
    }
    if std::env::var_os("LIBTORCH_USE_PYTORCH").is_some() {
        let python = if std::env::var_os("VIRTUAL_ENV").is_some() { "python" } else { "python3" };
        let out = Command::new(python)
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

fn main() {
    let Some(lib) = torch_lib().filter(|p| p.join("libtorch_cpu.so").exists()) else {
        println!("cargo:warning=cnn-tch: torch/lib not found; the binary needs LD_LIBRARY_PATH");
        return;
    };
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    if lib.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}
