"""Prints one JSON object: the Python version and the versions of the ML
packages installed here (missing ones left out). `mlbench env` calls it.

Fast by design: versions come from importlib.metadata, nothing is imported.
With --torch it also imports torch and reports its threads and CUDA; with
--blas it imports torch and NumPy and names their BLAS and oneDNN builds.
"""

import json
import platform
import re
import sys
from importlib import metadata

PACKAGES = [
    "numpy",
    "scipy",
    "scikit-learn",
    "torch",
    "transformers",
    "onnxruntime",
    "onnxruntime-gpu",
    "tokenizers",
    "safetensors",
    "onnx",
    # the CUDA runtime and cuDNN that torch and onnxruntime-gpu load
    "nvidia-cuda-runtime",
    "nvidia-cudnn-cu13",
]


def versions():
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def torch_info():
    try:
        import torch
    except Exception as e:  # noqa: BLE001 (a broken install is worth reporting, not crashing on)
        return {"error": f"{type(e).__name__}: {e}"}
    return {
        "num_threads": torch.get_num_threads(),
        "num_interop_threads": torch.get_num_interop_threads(),
        "cuda_available": torch.cuda.is_available(),
        "cuda_version": torch.version.cuda,
        "cuda_device_count": torch.cuda.device_count(),
        "cudnn_version": torch.backends.cudnn.version(),
    }


def torch_blas():
    """torch's BLAS, MKL and oneDNN builds and the CPU kernels ATen dispatches to, in one line."""
    try:
        import torch
    except Exception as e:  # noqa: BLE001 (a broken install is worth reporting, not crashing on)
        return f"torch: {type(e).__name__}: {e}"
    show = torch.__config__.show()
    parts = []
    for label, pattern in (("BLAS", r"BLAS_INFO=(\w+)"), ("MKL", r"Math Kernel Library Version (\S+)"), ("oneDNN", r"MKL-DNN (v[\d.]+)")):
        m = re.search(pattern, show)
        if m and (label != "oneDNN" or torch.backends.mkldnn.is_available()):
            parts.append(f"{label} {m.group(1)}")
    parts.append(f"CPU kernels {torch.backends.cpu.get_cpu_capability()}")
    return f"torch {torch.__version__}: " + ", ".join(parts)


def numpy_blas():
    """NumPy's BLAS build and the kernel architecture it picked at run time (threadpoolctl)."""
    try:
        import numpy as np
    except Exception as e:  # noqa: BLE001
        return f"numpy: {type(e).__name__}: {e}"
    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    line = f"numpy {np.__version__}: {blas.get('name', 'unknown BLAS')} {blas.get('version', '')}".rstrip()
    try:
        from threadpoolctl import threadpool_info

        archs = [p["architecture"] for p in threadpool_info() if p.get("user_api") == "blas" and p.get("architecture")]
        if archs:
            line += f" ({', '.join(sorted(set(archs)))} kernels)"
    except ImportError:
        pass
    return line


def main():
    info = {"python": platform.python_version(), "executable": sys.executable, "packages": versions()}
    if "--torch" in sys.argv[1:] and "torch" in info["packages"]:
        info["torch"] = torch_info()
    if "--blas" in sys.argv[1:]:
        info["blas"] = [f() for name, f in (("numpy", numpy_blas), ("torch", torch_blas)) if name in info["packages"]]
    json.dump(info, sys.stdout)
    print()


if __name__ == "__main__":
    main()
