"""Runs null.py as the orchestrator does: a spec in, a result file out."""

import json
import os
import subprocess
import sys

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "null.py")


def spec_for(tmp_path, params, inputs):
    return {
        "schema_version": 1,
        "task": "llm/gpt2",
        "variant": "",
        "impl": "python-null",
        "size": "quick",
        "inputs": inputs,
        "datasets": [],
        "params": params,
        "warmup": 1,
        "reps": 3,
        "threads": 1,
        "device": "cpu",
        "result_path": str(tmp_path / "result.json"),
        "work_dir": str(tmp_path),
    }


def run(tmp_path, spec):
    p = tmp_path / "spec.json"
    p.write_text(json.dumps(spec))
    return subprocess.run([sys.executable, SCRIPT, "--spec", str(p)], check=False, capture_output=True, text=True)


def test_null_reads_inputs_and_times_phases_only(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights.bin").write_bytes(b"\0" * 100)
    (tmp_path / "prompts.json").write_bytes(b"[" + b" " * 999 + b"]")
    spec = spec_for(
        tmp_path,
        {"phases": ["load", "tokenize", "ttft", "per_token"], "new_tokens": 150},
        {"model_dir": str(tmp_path / "model"), "prompts": str(tmp_path / "prompts.json")},
    )
    out = run(tmp_path, spec)
    assert out.returncode == 0, out.stderr
    res = json.loads((tmp_path / "result.json").read_text())
    assert res["impl"] == "python-null" and res["framework"] == "null" and res["language"] == "python"
    assert sorted(res["phases"]) == ["load", "per_token", "tokenize", "ttft"]
    assert all(len(v) == 3 for v in res["phases"].values()), "timed repetitions only, not the warm-up"
    assert res["probes"] == {} and res["metrics"] == {}, "a null result must not look computed"
    # The directory is listed, not read: 1001 bytes are the prompts file's.
    assert "(1001 bytes;" in res["notes"][-1]


def test_null_without_phases_fails_in_one_line(tmp_path):
    out = run(tmp_path, spec_for(tmp_path, {}, {}))
    assert out.returncode != 0
    assert out.stderr.strip().count("\n") == 0
    assert "parameter 'phases' missing" in out.stderr
    assert not (tmp_path / "result.json").exists()


def test_null_with_a_missing_input_fails(tmp_path):
    out = run(tmp_path, spec_for(tmp_path, {"phases": ["load"]}, {"X": str(tmp_path / "none.npy")}))
    assert out.returncode == 1
    assert "none.npy" in out.stderr
    assert not (tmp_path / "result.json").exists()
