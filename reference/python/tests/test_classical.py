"""Runs classical.py as the orchestrator does: a spec in, a result file out."""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "classical.py")


def save(d, **arrays):
    paths = {}
    for name, a in arrays.items():
        paths[name] = str(d / f"{name}.npy")
        np.save(paths[name], a)
    return paths


def split(n, rng):
    perm = rng.permutation(n).astype(np.int64)
    return perm[: n * 4 // 5], perm[n * 4 // 5 :]


@pytest.fixture
def linreg_inputs(tmp_path):
    # y = 3 + 2*x1 - x2 exactly: OLS must recover the coefficients.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 8))
    y = 3 + 2 * X[:, 0] - X[:, 1]
    train, test = split(len(y), rng)
    return save(tmp_path, X=X, y=y, train_idx=train, test_idx=test)


@pytest.fixture
def svm_inputs(tmp_path):
    rng = np.random.default_rng(1)
    centres = np.array([[0, 0, 0, 0], [4, 4, 0, 0], [0, 4, 4, 4]], dtype=float)
    y = np.repeat(np.arange(3, dtype=np.int64), 30)
    X = centres[y] + rng.normal(scale=0.5, size=(len(y), 4))
    train, test = split(len(y), rng)
    return save(tmp_path, X=X, y=y, train_idx=train, test_idx=test)


@pytest.fixture
def kmeans_inputs(tmp_path):
    rng = np.random.default_rng(2)
    centres = rng.uniform(-10, 10, size=(3, 8))
    y = np.repeat(np.arange(3, dtype=np.int64), 100)
    X = centres[y] + rng.normal(size=(len(y), 8))
    # The shared initial centres: the first row of each cluster.
    return save(tmp_path, X=X, y=y, init=X[[0, 100, 200]])


def run(tmp_path, task, inputs, params, warmup=1, reps=2):
    result_path = tmp_path / "out.result.json"
    spec = {
        "schema_version": 1,
        "task": task,
        "variant": "",
        "impl": "python-sklearn",
        "size": "quick",
        "inputs": inputs,
        "datasets": [{"name": "test", "sha256": "", "official": False, "source": "test"}],
        "params": params,
        "warmup": warmup,
        "reps": reps,
        "threads": 1,
        "device": "cpu",
        "result_path": str(result_path),
        "work_dir": str(tmp_path),
    }
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(spec))
    proc = subprocess.run([sys.executable, SCRIPT, "--spec", str(spec_path)], capture_output=True, text=True, check=False)
    return proc, result_path


def check(proc, result_path, reps=2):
    assert proc.returncode == 0, proc.stderr
    r = json.loads(result_path.read_text())
    assert r["schema_version"] == 1 and r["framework"] == "scikit-learn" and r["language"] == "python"
    assert set(r["phases"]) == {"load", "fit", "predict"}
    for vs in r["phases"].values():
        assert len(vs) == reps and all(v >= 0 and math.isfinite(v) for v in vs)
    assert all(math.isfinite(v) for v in r["metrics"].values())
    assert all(math.isfinite(v) for vs in r["probes"].values() for v in vs)
    assert r["notes"] and r["errors"] == []
    assert [f for f in os.listdir(result_path.parent) if f.startswith(".")] == []  # no temp file left
    return r


@pytest.mark.parametrize("replicate", [1, 3])
def test_linreg_exact(tmp_path, linreg_inputs, replicate):
    r = check(*run(tmp_path, "classical/linreg", linreg_inputs, {"replicate": replicate}))
    assert r["params"]["replicate"] == replicate
    np.testing.assert_allclose(r["probes"]["coef"], [2, -1, 0, 0, 0, 0, 0, 0, 3], atol=1e-9)
    _, y, test = (np.load(linreg_inputs[k]) for k in ("X", "y", "test_idx"))
    np.testing.assert_allclose(r["probes"]["pred_first20"], y[test][:20], atol=1e-9)
    assert r["metrics"]["r2"] == pytest.approx(1.0) and r["metrics"]["rmse"] < 1e-9


def test_svm(tmp_path, svm_inputs):
    r = check(*run(tmp_path, "classical/svm", svm_inputs, {"C": 1.0, "tol": 1e-3, "kernel": "linear"}))
    y, test = np.load(svm_inputs["y"]), np.load(svm_inputs["test_idx"])
    assert len(r["probes"]["test_pred"]) == len(test)
    assert set(r["probes"]["test_pred"]) <= {0.0, 1.0, 2.0}
    assert r["metrics"]["accuracy"] == pytest.approx(np.mean(np.array(r["probes"]["test_pred"]) == y[test]))
    assert r["metrics"]["accuracy"] > 0.9
    assert r["params"]["kernel"] == "linear" and r["params"]["C"] == 1.0


def test_kmeans(tmp_path, kmeans_inputs):
    params = {"k": 3, "seed": 42, "max_iter": 300, "tol": 1e-4, "n_init": 1}
    r = check(*run(tmp_path, "classical/kmeans", kmeans_inputs, params))
    assert r["probes"] == {}
    assert r["metrics"]["inertia"] > 0 and r["metrics"]["ari"] == pytest.approx(1.0)
    assert r["params"]["n_init"] == 1 and r["params"]["algorithm"] == "lloyd"
    # From one point of each cluster Lloyd reaches the same clustering.
    assert r["metrics"]["inertia_shared_init"] == pytest.approx(r["metrics"]["inertia"], rel=1e-9)


def test_kmeans_is_deterministic(tmp_path, kmeans_inputs):
    params = {"k": 3, "seed": 42, "max_iter": 300, "tol": 1e-4, "n_init": 1}
    a = check(*run(tmp_path, "classical/kmeans", kmeans_inputs, params))
    b = check(*run(tmp_path, "classical/kmeans", kmeans_inputs, params))
    assert a["metrics"] == b["metrics"]


def assert_failed(proc, result_path):
    assert proc.returncode != 0
    assert proc.stderr.strip().startswith("error:")
    assert not result_path.exists()
    assert [f for f in os.listdir(result_path.parent) if f.startswith(".")] == []


def test_unknown_task(tmp_path, linreg_inputs):
    proc, out = run(tmp_path, "classical/nope", linreg_inputs, {})
    assert_failed(proc, out)
    assert "unknown task" in proc.stderr


def test_missing_input_file(tmp_path, linreg_inputs):
    os.remove(linreg_inputs["X"])
    assert_failed(*run(tmp_path, "classical/linreg", linreg_inputs, {"replicate": 1}))


def test_missing_input_name(tmp_path, linreg_inputs):
    del linreg_inputs["test_idx"]
    assert_failed(*run(tmp_path, "classical/linreg", linreg_inputs, {"replicate": 1}))


def test_kmeans_rejects_n_init(tmp_path, kmeans_inputs):
    params = {"k": 3, "seed": 42, "max_iter": 300, "tol": 1e-4, "n_init": 10}
    assert_failed(*run(tmp_path, "classical/kmeans", kmeans_inputs, params))


def test_bad_spec(tmp_path, linreg_inputs):
    proc, out = run(tmp_path, "classical/linreg", linreg_inputs, {}, reps=0)
    assert proc.returncode == 2
    assert not out.exists()


@pytest.mark.parametrize("bad", [-1, 10**6])
def test_linreg_rejects_indices_out_of_range(tmp_path, linreg_inputs, bad):
    idx = np.load(linreg_inputs["train_idx"])
    idx[3] = bad  # numpy would wrap -1 to the last row and report ok
    np.save(linreg_inputs["train_idx"], idx)
    proc, out = run(tmp_path, "classical/linreg", linreg_inputs, {"replicate": 1})
    assert_failed(proc, out)
    assert f"train_idx: index {bad} out of range" in proc.stderr


@pytest.mark.parametrize("params", [{}, {"replicate": "2"}, {"replicate": 1.5}])
def test_linreg_rejects_missing_or_mistyped_params(tmp_path, linreg_inputs, params):
    proc, out = run(tmp_path, "classical/linreg", linreg_inputs, params)
    assert_failed(proc, out)
    assert "replicate" in proc.stderr
