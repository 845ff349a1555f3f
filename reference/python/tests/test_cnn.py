"""Runs cnn.py as the orchestrator does, on a tiny fake CIFAR set: a spec in, a result file out."""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import cnn

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "cnn.py")
MEAN, STD = [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]
N_TRAIN, N_TEST, EPOCHS = 640, 64, 3  # 640 images: 10 steps of 64, enough for loss_steps


@pytest.fixture(autouse=True)
def torch_threads():
    """cnn.run and the direct computation below set torch's thread count; give it back."""
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    # A learnable toy: each image is brightest in one channel, and that channel is its label.
    d = tmp_path_factory.mktemp("cifar")
    rng = np.random.default_rng(0)

    def images(n):
        y = rng.integers(0, 3, size=n)
        x = rng.integers(0, 160, size=(n, 3, 32, 32), dtype=np.uint8)
        x[np.arange(n), y] += 96
        return x, y.astype(np.int64)

    arrays = dict(zip(("train_x", "train_y"), images(N_TRAIN))) | dict(zip(("test_x", "test_y"), images(N_TEST)))
    arrays["order"] = np.stack([rng.permutation(N_TRAIN) for _ in range(EPOCHS)]).astype(np.int64)
    arrays["order_small"] = arrays["order"][:1, :100]  # 2 steps: 64 + 36
    paths = {}
    for name, a in arrays.items():
        paths[name] = str(d / f"{name}.npy")
        np.save(paths[name], a)
    torch.manual_seed(42)
    paths["init"] = str(d / "init.safetensors")
    save_file(cnn.Net().state_dict(), paths["init"])
    return paths


def make_spec(tmp_path, inputs, epochs=1, reps=1, task="dl/cnn"):
    inputs = {k: v for k, v in inputs.items() if k != "order_small"}
    return {
        "schema_version": 1,
        "task": task,
        "variant": "",
        "impl": "python-pytorch",
        "size": "quick",
        "inputs": inputs,
        "datasets": [{"name": "test", "sha256": "", "official": False, "source": "test"}],
        "params": {"epochs": epochs, "batch_size": 64, "lr": 1e-3, "mean": MEAN, "std": STD, "seed": 0},
        "warmup": 0,
        "reps": reps,
        "threads": 1,
        "device": "cpu",
        "result_path": str(tmp_path / "out.result.json"),
        "work_dir": str(tmp_path),
    }


def run(spec):
    spec_path = os.path.join(spec["work_dir"], "spec.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    proc = subprocess.run([sys.executable, SCRIPT, "--spec", spec_path], capture_output=True, text=True, check=False)
    return proc, spec["result_path"]


def check(proc, result_path, epochs, reps=1, steps=10):
    assert proc.returncode == 0, proc.stderr
    with open(result_path) as f:
        r = json.load(f)
    assert r["schema_version"] == 1 and r["framework"] == "pytorch" and r["language"] == "python"
    assert {k: len(v) for k, v in r["phases"].items()} == {"load": 1, "train_epoch": epochs * reps, "eval": epochs * reps}
    assert all(v >= 0 and math.isfinite(v) for vs in r["phases"].values() for v in vs)
    assert set(r["metrics"]) == {"test_accuracy", "final_loss", "images_per_s"}
    assert all(math.isfinite(v) for v in r["metrics"].values())
    assert len(r["probes"]["loss_steps"]) == steps
    assert all(math.isfinite(v) for v in r["probes"]["loss_steps"])
    assert len(r["series"]["epoch_loss"]) == len(r["series"]["epoch_test_accuracy"]) == epochs * reps
    assert r["metrics"]["final_loss"] == r["series"]["epoch_loss"][-1]
    assert r["metrics"]["test_accuracy"] == r["series"]["epoch_test_accuracy"][-1]
    assert r["params"]["betas"] == [0.9, 0.999] and r["params"]["eps"] == 1e-8
    assert r["notes"] and r["errors"] == []
    assert [f for f in os.listdir(os.path.dirname(result_path)) if f.startswith(".")] == []  # no temp file
    return r


@pytest.fixture(scope="module")
def trained(inputs, tmp_path_factory):
    """One run of EPOCHS epochs over the 640 images, shared by the tests below."""
    return check(*run(make_spec(tmp_path_factory.mktemp("run"), inputs, epochs=EPOCHS)), epochs=EPOCHS)


def test_first_step_loss_is_exact(inputs, trained):
    # The loss of step 1, computed here directly: the first batch of order[0] through the init weights.
    torch.set_num_threads(1)
    model = cnn.Net()
    model.load_state_dict(cnn.load_init(inputs["init"]))
    idx = np.load(inputs["order"])[0][:64]
    x = torch.from_numpy(np.load(inputs["train_x"])[idx]).float() / 255
    x = (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    y = torch.from_numpy(np.load(inputs["train_y"])[idx])
    with torch.no_grad():
        loss = torch.nn.functional.cross_entropy(model(x), y)
    assert trained["probes"]["loss_steps"][0] == loss.item()


def test_learns(trained):
    loss = trained["series"]["epoch_loss"]
    assert loss[0] > loss[1] > loss[2]
    assert trained["probes"]["loss_steps"][9] < trained["probes"]["loss_steps"][0]
    assert trained["metrics"]["test_accuracy"] > 0.9


def test_images_per_s(trained):
    assert trained["metrics"]["images_per_s"] == pytest.approx(EPOCHS * N_TRAIN / sum(trained["phases"]["train_epoch"]))


def test_reps_retrain_from_init(tmp_path, inputs):
    spec = make_spec(tmp_path, inputs, reps=2)
    spec["inputs"]["order"] = inputs["order_small"]
    r = check(*run(spec), epochs=1, reps=2, steps=2)
    a, b = r["series"]["epoch_loss"]
    assert a == b  # same weights, same order, one thread: the same run twice


def test_wrong_init_shape(tmp_path, inputs):
    state = cnn.Net().state_dict()
    state["fc2.weight"] = torch.zeros(5, 512)
    spec = make_spec(tmp_path, inputs)
    spec["inputs"]["init"] = str(tmp_path / "bad.safetensors")
    save_file(state, spec["inputs"]["init"])
    proc, result_path = run(spec)
    assert proc.returncode != 0
    assert proc.stderr.startswith("error:") and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "fc2.weight" in proc.stderr
    assert not os.path.exists(result_path)
    assert [f for f in os.listdir(tmp_path) if f.startswith(".")] == []


def test_too_few_epochs_in_order(tmp_path, inputs):
    with pytest.raises(ValueError, match="order has 3 epochs"):
        cnn.run(make_spec(tmp_path, inputs, epochs=EPOCHS + 1))


def test_unknown_task(tmp_path, inputs):
    with pytest.raises(ValueError, match="unknown task"):
        cnn.run(make_spec(tmp_path, inputs, task="dl/nope"))


def test_order_out_of_range(tmp_path, inputs):
    order = np.load(inputs["order"])
    order[0, 5] = -1  # torch would wrap it to the last image
    path = str(tmp_path / "bad_order.npy")
    np.save(path, order)
    spec = make_spec(tmp_path, inputs)
    spec["inputs"]["order"] = path
    with pytest.raises(ValueError, match="order: index -1 out of range"):
        cnn.run(spec)


def test_steps_cut_each_epoch(tmp_path, inputs):
    # The sweeps' steps parameter: 3 batches of 16 from order[0], then eval as usual.
    spec = make_spec(tmp_path, inputs, reps=1)
    spec["params"].update(batch_size=16, steps=3)
    r = check(*run(spec), epochs=1, steps=3)
    assert r["params"]["steps"] == 3 and r["params"]["samples_per_epoch"] == 48
    assert r["metrics"]["images_per_s"] == pytest.approx(48 / r["phases"]["train_epoch"][0])
    spec["params"].update(steps=N_TRAIN)
    proc, _ = run(spec)
    assert proc.returncode != 0 and "steps" in proc.stderr.strip().splitlines()[-1]
