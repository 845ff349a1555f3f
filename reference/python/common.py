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


def read_spec(path: str) -> dict:
    try:
        with open(path) as f:
            spec = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
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


def repetitions(spec: dict):
    """Yields (rep, timed) for the warm-up then the timed repetitions."""
    warm = int(spec.get("warmup", 0))
    for i in range(warm + int(spec["reps"])):
        yield i, i >= warm


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
    except Exception as e:  # one line on stderr, non-zero exit, no result  # noqa: BLE001
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
    write_json_atomic(spec["result_path"], result)
