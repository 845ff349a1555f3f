"""Null implementation (python-null) of every task: what Python costs before any work.

    python null.py --spec SPEC.json

It starts as every reference script does, through common.py's protocol code
(spec read and checked, result written atomically), reads every input (a file
whole into memory, a directory listed: model weights are a framework's to
load), and times each of the task's phases (the spec's ``phases`` parameter)
around nothing. It imports no numerical library: its wall time is the
interpreter's and the protocol's fixed cost, not numpy's or torch's. It
writes no probes or metrics, so parity does not apply to it (bench/null.go).
"""

import os

import common


def read_inputs(spec) -> int:
    """Reads every input of spec; returns the bytes read."""
    n = 0
    for name in sorted(spec["inputs"]):
        path = spec["inputs"][name]
        if os.path.isdir(path):
            os.listdir(path)
            continue
        with open(path, "rb") as f:
            n += len(f.read())
    return n


def phases(spec) -> list:
    ps = (spec.get("params") or {}).get("phases")
    if not isinstance(ps, list) or not ps or not all(isinstance(p, str) and p for p in ps):
        raise common.SpecError("spec: parameter 'phases' missing or not a list of phase names")
    return ps


def run(spec):
    result = common.Result(spec, "null", str(common.SCHEMA_VERSION))
    names = phases(spec)
    read = 0
    for _, timed in common.repetitions(spec):
        for p in names:
            with result.time(p, timed):
                if p == "load":
                    read = read_inputs(spec)
    result["notes"].append(
        f"null implementation: load reads every input ({read} bytes; directories listed, not loaded), the other phases time nothing"
    )
    return result


if __name__ == "__main__":
    common.main(run)
