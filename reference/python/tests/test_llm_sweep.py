"""Tests of llm_sweep.py (the --size sweep input mode) through both Python implementations, on
the tiny models of test_llm.py."""

import numpy as np
import pytest
from test_llm import assert_same_outputs, models_dir, needs_data, run_inline, spec_for  # noqa: F401 (models_dir: a fixture)


def sweep_spec(tmp_path, task, impl, models_dir, length):  # noqa: F811
    spec = spec_for(tmp_path, task, impl, models_dir, impl)
    rng = np.random.default_rng(length)
    spec["size"], spec["reps"] = "sweep", 2
    if task == "llm/bert-qa":
        ids = rng.integers(1996, 29612, size=(3, length), dtype=np.int64)
        ids[:, 0], ids[:, 5], ids[:, -1] = 101, 102, 102
        types = np.zeros_like(ids)
        types[:, 6:] = 1
        for name, a in (("ids", ids), ("token_type_ids", types)):
            np.save(tmp_path / f"{name}.npy", a)
            spec["inputs"][name] = str(tmp_path / f"{name}.npy")
        del spec["inputs"]["squad"]
        spec["params"] = {"seq_len": length, "trained": False}
    else:
        np.save(tmp_path / "prompt_ids.npy", rng.integers(0, 50256, size=(2, length), dtype=np.int64))
        spec["inputs"]["prompt_ids"] = str(tmp_path / "prompt_ids.npy")
        del spec["inputs"]["prompts"]
        spec["params"] = {"prompt_len": length, "new_tokens": 4, "trained": False}
    return spec


@needs_data
@pytest.mark.parametrize("task,length", [("llm/bert-qa", 16), ("llm/bert-qa", 48), ("llm/gpt2", 8)])
def test_sweep_implementations_agree(tmp_path, models_dir, task, length):  # noqa: F811
    import llm_ort
    import llm_transformers

    ref = run_inline(sweep_spec(tmp_path, task, "python-transformers", models_dir, length), llm_transformers)
    got = run_inline(sweep_spec(tmp_path, task, "python-ort", models_dir, length), llm_ort)
    for r in (ref, got):
        assert r["errors"] == []
        if task == "llm/bert-qa":
            # No tokenizer, no answers: one model call per row and repetition.
            assert set(r["phases"]) == {"load", "model"} and len(r["phases"]["model"]) == 3 * 2
            assert set(r["metrics"]) == {"requests_per_s", "tokens_per_s", "latency_p50", "latency_p90"}
            assert len(r["probes"]["start_logits"]) == 3 * min(length, 64)
            assert r["params"]["seq_len"] == length and r["params"]["rows"] == 3
        else:
            assert set(r["phases"]) == {"load", "ttft", "per_token"}
            assert len(r["phases"]["ttft"]) == 2 * 2 and len(r["phases"]["per_token"]) == 2 * 2 * 3
            assert len(r["probes"]["tokens"]) == 4 and r["params"]["prompt_len"] == length
    assert_same_outputs(ref, got, task)


@needs_data
def test_sweep_refuses_a_wrong_length(tmp_path, models_dir):  # noqa: F811
    import llm_ort

    spec = sweep_spec(tmp_path, "llm/bert-qa", "python-ort", models_dir, 16)
    spec["params"]["seq_len"] = 32
    with pytest.raises(ValueError, match=r"input ids: dtype int64, shape \[3, 16\]: want int64 \[rows, 32\]"):
        llm_ort.run(spec)
