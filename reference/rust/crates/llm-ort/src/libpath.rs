//! Finding the ONNX Runtime library: the one inside the pinned onnxruntime
//! wheel, so that Python, Go and Rust run the same build (ort/libpath.go).

use mlbench_common::Res;
use std::path::{Path, PathBuf};

/// The library file the benchmark uses (reference/python/requirements.lock).
pub const WANTED_LIBRARY: &str = "libonnxruntime.so.1.30.0";

/// The ONNX Runtime library, in this order: $ORT_DYLIB_PATH (the ort crate's
/// own variable), $MLBENCH_ORT_LIB, then onnxruntime/capi/ of a `.venv` in the
/// current directory or one above it, or beside or above the executable
/// (`<repo>/bin/llm-ort` → `<repo>/.venv`). In a capi folder it prefers
/// WANTED_LIBRARY, else the highest libonnxruntime.so.* there.
pub fn library_path() -> Res<PathBuf> {
    for var in ["ORT_DYLIB_PATH", "MLBENCH_ORT_LIB"] {
        if let Some(p) = std::env::var_os(var).filter(|p| !p.is_empty()) {
            let p = PathBuf::from(p);
            if !p.is_file() {
                return Err(format!("{var}={}: not a file", p.display()).into());
            }
            return Ok(p);
        }
    }
    let mut roots = vec![];
    if let Ok(wd) = std::env::current_dir() {
        roots.extend(ancestors(&wd));
    }
    if let Ok(exe) = std::env::current_exe().and_then(|e| e.canonicalize()) {
        if let Some(d) = exe.parent() {
            roots.extend(ancestors(d));
        }
    }
    for r in roots {
        for capi in venv_capi_dirs(&r.join(".venv")) {
            if let Some(p) = lib_in(&capi) {
                return Ok(p);
            }
        }
    }
    Err(format!(
        "ONNX Runtime library not found: set ORT_DYLIB_PATH or MLBENCH_ORT_LIB to {WANTED_LIBRARY}, \
        or run ./build.sh so .venv has the onnxruntime wheel"
    )
    .into())
}

/// dir and its parents up to the root, at most 6.
fn ancestors(dir: &Path) -> Vec<PathBuf> {
    dir.ancestors().take(6).map(Path::to_path_buf).collect()
}

/// venv/lib/python3*/site-packages/onnxruntime/capi, sorted.
fn venv_capi_dirs(venv: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(venv.join("lib"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
                .map(|e| e.path().join("site-packages").join("onnxruntime").join("capi"))
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The ONNX Runtime library in a wheel's capi folder, if any.
fn lib_in(dir: &Path) -> Option<PathBuf> {
    let p = dir.join(WANTED_LIBRARY);
    if p.is_file() {
        return Some(p);
    }
    let mut m: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("libonnxruntime.so.")))
        .collect();
    m.sort();
    m.pop()
}

/// The version in a library file name such as libonnxruntime.so.1.30.0
/// ("1.30.0"), or "".
pub fn version_from_path(p: &Path) -> String {
    let b = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    b.find(".so.").map(|i| b[i + 4..].to_string()).unwrap_or_default()
}

/// The version string the library reports (OrtGetApiBase()->GetVersionString()).
/// dlopen of a library already loaded by ort returns the same handle.
pub fn loaded_version(p: &Path) -> Res<String> {
    unsafe {
        let lib = libloading::Library::new(p).map_err(|e| format!("{}: {e}", p.display()))?;
        let get: libloading::Symbol<unsafe extern "C" fn() -> *const ort::sys::OrtApiBase> =
            lib.get(b"OrtGetApiBase").map_err(|e| format!("{}: {e}", p.display()))?;
        let base = get();
        if base.is_null() {
            return Err(format!("{}: OrtGetApiBase returned null", p.display()).into());
        }
        let v = ((*base).GetVersionString)();
        Ok(std::ffi::CStr::from_ptr(v).to_string_lossy().into_owned())
    }
}

/// The CUDA 13 and cuDNN 9 libraries ONNX Runtime's CUDA provider needs (it
/// has no RUNPATH), in load order, relative to the wheel's site-packages:
/// the list of onnxruntime.preload_dlls() on Linux, as ort/cuda.go (Go).
const CUDA_LIBS: [(&str, &str); 7] = [
    ("nvidia/cu13/lib", "libcublasLt.so.13"), // before libcublas, which needs it
    ("nvidia/cu13/lib", "libcublas.so.13"),
    ("nvidia/cu13/lib", "libnvrtc.so.13"),
    ("nvidia/cu13/lib", "libcurand.so.10"),
    ("nvidia/cu13/lib", "libcufft.so.12"),
    ("nvidia/cu13/lib", "libcudart.so.13"),
    ("nvidia/cudnn/lib", "libcudnn.so.9"),
];

/// Loads the nvidia-* wheels' CUDA libraries next to the ONNX Runtime library
/// `lib` (.../site-packages/onnxruntime/capi/), so that the CUDA provider finds
/// them by soname without LD_LIBRARY_PATH. They stay loaded for the life of the
/// process. One the wheels lack is left to the system loader (the CUDA image
/// has them in /usr/local/cuda); one that fails to load is an error.
pub fn preload_cuda(lib: &Path) -> Res<()> {
    let Some(site) = lib.parent().and_then(Path::parent).and_then(Path::parent) else { return Ok(()) };
    for (dir, name) in CUDA_LIBS {
        let p = site.join(dir).join(name);
        if p.is_file() {
            // SAFETY: loading a shared library runs its initialisers; these are NVIDIA's CUDA libraries.
            let l = unsafe { libloading::Library::new(&p) }.map_err(|e| format!("loading {} for the CUDA provider: {e}", p.display()))?;
            std::mem::forget(l);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_from_file_name() {
        assert_eq!(version_from_path(Path::new("/x/capi/libonnxruntime.so.1.30.0")), "1.30.0");
        assert_eq!(version_from_path(Path::new("/x/libonnxruntime.so")), "");
    }

    #[test]
    fn finds_the_library_in_a_venv() {
        let root = std::env::temp_dir().join(format!("mlb-ortlib-{}", std::process::id()));
        let capi = root.join(".venv/lib/python3.11/site-packages/onnxruntime/capi");
        std::fs::create_dir_all(&capi).unwrap();
        assert_eq!(lib_in(&capi), None);
        std::fs::write(capi.join("libonnxruntime.so.1.29.0"), b"").unwrap();
        assert_eq!(lib_in(&capi), Some(capi.join("libonnxruntime.so.1.29.0")));
        std::fs::write(capi.join("libonnxruntime.so.1.31.0"), b"").unwrap();
        assert_eq!(lib_in(&capi), Some(capi.join("libonnxruntime.so.1.31.0")), "the highest");
        std::fs::write(capi.join(WANTED_LIBRARY), b"").unwrap();
        assert_eq!(lib_in(&capi), Some(capi.join(WANTED_LIBRARY)), "the wanted one first");
        assert_eq!(venv_capi_dirs(&root.join(".venv")), vec![capi.clone()]);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
