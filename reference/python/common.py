"""The Python side of the runner protocol (docs/PROTOCOL.md, schema version 1).

Every reference implementation is a script run as ``python X.py --spec SPEC``:
it calls :func:`main` with a function ``run(spec, result)`` that fills the
result; :func:`main` writes it atomically to ``spec["result_path"]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

SCHEMA_VERSION = 1


class SpecError(ValueError):
    pass


# The spec's fields and their JSON types, as bench.Spec declares them: a
# field not named here, or of another type, is refused as the Go side does.
SPEC_FIELDS = {
    "schema_version": int,
    "task": str,
    "variant": str,
    "impl": str,
    "size": str,
    "inputs": dict,
    "datasets": list,
    "params": dict,
    "warmup": int,
    "reps": int,
    "threads": int,
    "device": str,
    "result_path": str,
    "work_dir": str,
    "checkpoint_dir": str,
}


def check_spec_fields(spec) -> None:
    """Raises SpecError for an unknown field or a field of the wrong type."""
    if not isinstance(spec, dict):
        raise SpecError(f"want a JSON object, got {type(spec).__name__}")
    for key, value in spec.items():
        want = SPEC_FIELDS.get(key)
        if want is None:
            raise SpecError(f"unknown field {key!r}")
        if value is None:
            continue  # JSON null: the zero value, as in Go
        if not isinstance(value, want) or (want is int and isinstance(value, bool)):
            raise SpecError(f"field {key!r} is {type(value).__name__}, want {want.__name__}")
    for key in ("inputs",):
        for name, p in (spec.get(key) or {}).items():
            if not isinstance(p, str):
                raise SpecError(f"{key}[{name!r}] is {type(p).__name__}, want str")


def read_spec(path: str) -> dict:
    try:
        with open(path) as f:
            spec = json.load(f)
        check_spec_fields(spec)
    except (OSError, json.JSONDecodeError) as e:
        raise SpecError(f"spec {path}: {e}") from None
    except SpecError as e:
        raise SpecError(f"spec {path}: {e}") from None
    if spec.get("schema_version") != SCHEMA_VERSION:
        raise SpecError(f"spec {path}: schema_version {spec.get('schema_version')}, want {SCHEMA_VERSION}")
    for key in ("task", "impl", "result_path"):
        if not spec.get(key):
            raise SpecError(f"spec {path}: {key} is empty")
    if int(spec.get("reps", 0)) < 1 or int(spec.get("threads", 0)) < 1:
        raise SpecError(f"spec {path}: reps and threads must be >= 1")
    if spec.get("device") not in ("cpu", "cuda"):
        raise SpecError(f"spec {path}: device {spec.get('device')!r}: want cpu or cuda")
    return spec


class Result(dict):
    """A result being filled; a dict with helpers for phases and probes."""

    def __init__(self, spec: dict, framework: str, framework_version: str):
        super().__init__(
            schema_version=SCHEMA_VERSION,
            task=spec["task"],
            variant=spec.get("variant", ""),
            impl=spec["impl"],
            language="python",
            language_version=platform.python_version(),
            framework=framework,
            framework_version=framework_version,
            params=dict(spec.get("params") or {}),
            datasets=spec.get("datasets") or [],
            threads=spec["threads"],
            device=spec["device"],
            phases={},
            metrics={},
            probes={},
            notes=[],
            errors=[],
        )

    def add(self, phase: str, seconds: float) -> None:
        self["phases"].setdefault(phase, []).append(float(seconds))

    @contextmanager
    def time(self, phase: str, timed: bool = True, sync: Callable[[], Any] | None = None):
        """Times the block with a monotonic clock; ``sync`` (e.g.
        torch.cuda.synchronize) runs before each clock read."""
        if sync:
            sync()
        t0 = time.perf_counter()
        yield
        if sync:
            sync()
        if timed:
            self.add(phase, time.perf_counter() - t0)

    def probe(self, name: str, values) -> None:
        self["probes"][name] = [float(v) for v in values]

    def metric(self, name: str, value: float) -> None:
        self["metrics"][name] = float(value)


def param_int(spec: dict, name: str) -> int:
    """The integer parameter name; missing, or not a whole number, is an
    error (as bench.Spec.Int): no silent default, no "3" read as 3."""
    v = param_float(spec, name)
    if v != int(v):
        raise SpecError(f"spec: parameter {name!r} = {v} is not an integer")
    return int(v)


def param_float(spec: dict, name: str) -> float:
    """The number parameter name (as bench.Spec.Float)."""
    v = (spec.get("params") or {}).get(name)
    if v is None:
        raise SpecError(f"spec: parameter {name!r} missing")
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise SpecError(f"spec: parameter {name!r} has type {type(v).__name__}, want number")
    return float(v)


def param_str(spec: dict, name: str) -> str:
    """The string parameter name (as bench.Spec.String)."""
    v = (spec.get("params") or {}).get(name)
    if not isinstance(v, str):
        what = "missing" if v is None else f"has type {type(v).__name__}, want string"
        raise SpecError(f"spec: parameter {name!r} {what}")
    return v


def cuda_math(torch) -> dict:
    """The CUDA math settings in effect (the same in every libtorch implementation on CUDA: libtorch's
    defaults, benchmark and deterministic off, TF32 off for matmuls and on for cuDNN convolutions), as
    result parameters: go-libtorch records them by torch.ReadCUDAMath, rust-tch states libtorch's defaults."""
    return {
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "cudnn_deterministic": torch.backends.cudnn.deterministic,
        "cuda_matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
        "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
    }


def repetitions(spec: dict):
    """Yields (rep, timed) for the warm-up then the timed repetitions."""
    warm = int(spec.get("warmup", 0))
    for i in range(warm + int(spec["reps"])):
        yield i, i >= warm


def rows(idx, n: int, name: str):
    """The row indices idx (an array read from an index file), checked to be
    whole numbers in [0, n): numpy would wrap -1 to the last row silently."""
    import numpy as np

    idx = np.asarray(idx)
    if idx.dtype.kind not in "iu":
        raise ValueError(f"{name}: dtype {idx.dtype}, want integers")
    bad = idx[(idx < 0) | (idx >= n)]
    if bad.size:
        raise ValueError(f"{name}: index {int(bad[0])} out of range [0, {n})")
    return idx


def validate(result: dict) -> None:
    def finite(where, v):
        if not math.isfinite(v):
            raise ValueError(f"invalid result: {where} = {v}")

    for k, vs in result["phases"].items():
        for i, v in enumerate(vs):
            finite(f"phase {k}[{i}]", v)
    for k, v in result["metrics"].items():
        finite(f"metric {k}", v)
    for k, vs in result["probes"].items():
        for i, v in enumerate(vs):
            finite(f"probe {k}[{i}]", v)


def write_json_atomic(path: str, obj: Any) -> None:
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix="." + os.path.basename(path) + ".tmp-")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f, indent=2, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def peak_rss_bytes() -> int:
    """Peak resident set of this process (Linux VmHWM). Not ru_maxrss: on
    Linux that also counts the parent's resident set at the time of exec."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main(run: Callable[[dict], dict]) -> None:
    """Entry point: parse --spec, call run(spec) -> Result, write it."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", required=True)
    args = ap.parse_args()
    try:
        spec = read_spec(args.spec)
    except SpecError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    try:
        result = run(spec)
        result["self_peak_rss_bytes"] = peak_rss_bytes()
        validate(result)
        write_json_atomic(spec["result_path"], result)
    except Exception as e:  # noqa: BLE001 (any error: one line on stderr, non-zero exit, no result)
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
