"""Prints one JSON object: the Python version and the versions of the ML
packages installed here (missing ones left out). `mlbench env` calls it.

Fast by design: versions come from importlib.metadata, nothing is imported.
With --torch it also imports torch and reports its threads and CUDA.
"""

import json
import platform
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


def main():
    info = {"python": platform.python_version(), "executable": sys.executable, "packages": versions()}
    if "--torch" in sys.argv[1:] and "torch" in info["packages"]:
        info["torch"] = torch_info()
    json.dump(info, sys.stdout)
    print()


if __name__ == "__main__":
    main()
