import json
import math
import os

import pytest

import common

GOOD = {
    "schema_version": 1,
    "task": "classical/linreg",
    "impl": "python-sklearn",
    "inputs": {},
    "params": {},
    "warmup": 0,
    "reps": 1,
    "threads": 1,
    "device": "cpu",
    "result_path": "/tmp/x.result.json",
}


def write(tmp_path, text):
    p = tmp_path / "spec.json"
    p.write_text(text)
    return str(p)


def test_read_spec_good(tmp_path):
    assert common.read_spec(write(tmp_path, json.dumps(GOOD)))["task"] == "classical/linreg"


@pytest.mark.parametrize("text", ["", "{", "not json", '{"schema_version": 1,}'])
def test_read_spec_malformed(tmp_path, text):
    with pytest.raises(common.SpecError):
        common.read_spec(write(tmp_path, text))


def test_read_spec_missing_file(tmp_path):
    with pytest.raises(common.SpecError):
        common.read_spec(str(tmp_path / "nope.json"))


@pytest.mark.parametrize(
    "change",
    [
        {"schema_version": 2},
        {"schema_version": None},
        {"schema_version": "1"},
        {"reps": 0},
        {"threads": 0},
        {"device": "tpu"},
        {"task": ""},
    ],
)
def test_read_spec_wrong_schema(tmp_path, change):
    with pytest.raises(common.SpecError):
        common.read_spec(write(tmp_path, json.dumps({**GOOD, **change})))


@pytest.mark.parametrize("key", ["schema_version", "task", "impl", "result_path", "reps", "threads", "device"])
def test_read_spec_missing_field(tmp_path, key):
    spec = {k: v for k, v in GOOD.items() if k != key}
    with pytest.raises(common.SpecError):
        common.read_spec(write(tmp_path, json.dumps(spec)))


def test_repetitions():
    assert list(common.repetitions({"warmup": 2, "reps": 3})) == [(0, False), (1, False), (2, True), (3, True), (4, True)]


def test_write_json_atomic(tmp_path):
    path = tmp_path / "r.json"
    common.write_json_atomic(str(path), {"a": [1.5]})
    assert json.loads(path.read_text()) == {"a": [1.5]}
    assert os.listdir(tmp_path) == ["r.json"]


def test_write_json_atomic_fails_cleanly(tmp_path):
    path = tmp_path / "r.json"
    with pytest.raises(ValueError):  # NaN is not JSON
        common.write_json_atomic(str(path), {"a": math.nan})
    assert os.listdir(tmp_path) == []


def test_write_json_atomic_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / "r.json"
    common.write_json_atomic(str(path), {"a": 1})
    with pytest.raises(TypeError):
        common.write_json_atomic(str(path), {"a": object()})
    assert json.loads(path.read_text()) == {"a": 1}
    assert os.listdir(tmp_path) == ["r.json"]


def test_write_json_atomic_missing_dir(tmp_path):
    with pytest.raises(OSError):
        common.write_json_atomic(str(tmp_path / "no" / "r.json"), {})


def result(**kw):
    r = common.Result(GOOD, "fw", "1.0")
    r.add("fit", 0.5)
    r.metric("m", 1.0)
    r.probe("p", [1, 2])
    for k, v in kw.items():
        r[k].update(v)
    return r


def test_validate_accepts_finite():
    common.validate(result())


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("where", ["phases", "probes"])
def test_validate_rejects_nonfinite_lists(where, bad):
    with pytest.raises(ValueError):
        common.validate(result(**{where: {"x": [1.0, bad]}}))


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_validate_rejects_nonfinite_metric(bad):
    with pytest.raises(ValueError):
        common.validate(result(metrics={"x": bad}))


@pytest.mark.parametrize(
    "change",
    [
        {"bogus": 1},
        {"reps": "3"},
        {"reps": 1.5},
        {"reps": True},
        {"params": []},
        {"inputs": {"X": 1}},
        {"device": 0},
        {"datasets": {}},
    ],
)
def test_read_spec_rejects_unknown_fields_and_wrong_types(tmp_path, change):
    with pytest.raises(common.SpecError):
        common.read_spec(write(tmp_path, json.dumps({**GOOD, **change})))


def test_read_spec_accepts_every_go_field(tmp_path):
    spec = {**GOOD, "variant": "n=1", "size": "quick", "datasets": [{"name": "d"}], "work_dir": "/tmp", "checkpoint_dir": "/tmp/c"}
    assert common.read_spec(write(tmp_path, json.dumps(spec)))["size"] == "quick"


def test_rows_rejects_out_of_range_indices():
    np = pytest.importorskip("numpy")
    assert list(common.rows(np.array([0, 2]), 3, "train_idx")) == [0, 2]
    for bad in ([0, -1], [3], [0.0, 1.0]):
        with pytest.raises(ValueError, match="train_idx"):
            common.rows(np.array(bad), 3, "train_idx")


def test_main_reports_an_unwritable_result_in_one_line(tmp_path):
    import subprocess
    import sys

    spec = {**GOOD, "result_path": str(tmp_path / "missing" / "r.json")}
    script = tmp_path / "impl.py"
    script.write_text(
        "import common\ndef run(spec):\n    r = common.Result(spec, 'fw', '1')\n    r.add('fit', 0.1)\n    return r\ncommon.main(run)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.abspath(common.__file__))}
    p = subprocess.run(
        [sys.executable, str(script), "--spec", write(tmp_path, json.dumps(spec))], check=False, capture_output=True, text=True, env=env
    )
    assert p.returncode == 1
    assert p.stderr.strip().count("\n") == 0, p.stderr
    assert p.stderr.startswith("error: FileNotFoundError"), p.stderr


@pytest.mark.parametrize(
    "params,call",
    [
        ({}, "int"),
        ({"k": "8"}, "int"),
        ({"k": 8.5}, "int"),
        ({"k": True}, "int"),
        ({"k": None}, "float"),
        ({"k": [1]}, "float"),
        ({"k": 1}, "str"),
        ({}, "str"),
    ],
)
def test_params_are_required_and_typed(params, call):
    with pytest.raises(common.SpecError, match="'k'"):
        getattr(common, "param_" + call)({"params": params}, "k")


def test_params_read():
    spec = {"params": {"k": 8, "tol": 1e-4, "kernel": "linear", "n": 3.0}}
    assert common.param_int(spec, "k") == 8 and common.param_int(spec, "n") == 3
    assert common.param_float(spec, "tol") == 1e-4
    assert common.param_str(spec, "kernel") == "linear"
