"""Tests of batched GPT-2 generation (llm_common.generate_batch and the gpt2 sweep's param batch,
issue 22's batch variants) through both Python implementations, on the tiny models of
test_llm.py."""

import numpy as np
import pytest
from test_llm import assert_same_outputs, models_dir, needs_data, run_inline  # noqa: F401 (models_dir: a fixture)
from test_llm_sweep import sweep_spec

import llm_common

ROWS, PROMPT_LEN, NEW_TOKENS = 4, 12, 6


def test_generate_batch_bookkeeping():
    # A fake model: row b's next id is (last + 1 + b) % 300, tied with id 299 (argmax: the lower id).
    calls = []

    def step(ids, past):
        calls.append((ids.tolist(), past))
        logits = np.zeros((len(ids), 300), np.float32)
        logits[:, 299] = 1
        logits[np.arange(len(ids)), (ids[:, -1] + 1 + np.arange(len(ids))) % 300] = 1
        return logits, (past or 0) + ids.shape[1]

    gens = llm_common.generate_batch(step, np.array([[7, 10], [20, 296]]), 3)
    assert [g.tokens for g in gens] == [[11, 12, 13], [298, 0, 2]]
    assert calls == [([[7, 10], [20, 296]], None), ([[11], [298]], 2), ([[12], [0]], 3)]
    assert gens[0].ttft == gens[1].ttft and gens[0].per_token == gens[1].per_token and len(gens[0].per_token) == 2
    assert [len(g.logits) for g in gens] == [3, 3] and len(gens[1].logits[0]) == 256
    assert gens[0].logits[0][11] == 1 and gens[1].logits[0][11] == 0 and gens[1].logits[1][0] == 1
    assert [g.margins for g in gens] == [[0.0] * 3, [0.0] * 3]


def gpt2_step(impl, models_dir):  # noqa: F811
    d = models_dir / "gpt2"
    if impl == "python-ort":
        import llm_ort

        sess = llm_ort.session({"threads": 1, "device": "cpu", "inputs": {"model_dir": str(d)}})
        return llm_ort.gpt2_step(sess, str(d))
    from transformers import GPT2LMHeadModel

    import llm_transformers

    model = GPT2LMHeadModel.from_pretrained(d, attn_implementation=llm_transformers.ATTENTION).eval()
    return llm_transformers.gpt2_step(model, "cpu")


@needs_data
@pytest.mark.parametrize("impl", ["python-transformers", "python-ort"])
def test_batched_rows_equal_batch_one(models_dir, impl):  # noqa: F811
    import torch

    step = gpt2_step(impl, models_dir)
    prompts = np.random.default_rng(22).integers(0, 50256, size=(ROWS, PROMPT_LEN), dtype=np.int64)
    with torch.inference_mode():
        alone = [llm_common.generate(step, p.tolist(), NEW_TOKENS) for p in prompts]
        for batch in (4, 2):
            got = [g for i in range(0, ROWS, batch) for g in llm_common.generate_batch(step, prompts[i : i + batch], NEW_TOKENS)]
            assert len(got) == ROWS
            for row, (g, want) in enumerate(zip(got, alone)):
                assert g.tokens == want.tokens, (batch, row)
                np.testing.assert_allclose(g.logits, want.logits, rtol=0, atol=1e-4, err_msg=f"batch {batch}, row {row}")
                np.testing.assert_allclose(g.margins, want.margins, rtol=0, atol=1e-4, err_msg=f"batch {batch}, row {row}")
                assert len(g.per_token) == NEW_TOKENS - 1


def batch_spec(tmp_path, impl, models_dir, batch):  # noqa: F811
    spec = sweep_spec(tmp_path, "llm/gpt2", impl, models_dir, PROMPT_LEN)
    path = tmp_path / "batch_prompt_ids.npy"
    np.save(path, np.random.default_rng(8).integers(0, 50256, size=(ROWS, PROMPT_LEN), dtype=np.int64))
    spec["inputs"]["prompt_ids"] = str(path)
    spec["params"]["new_tokens"] = NEW_TOKENS
    if batch is not None:
        spec["params"]["batch"] = batch
    return spec


@needs_data
@pytest.mark.parametrize("batch", [2, 4])
def test_sweep_batch_variant(tmp_path, models_dir, batch):  # noqa: F811
    import llm_ort
    import llm_transformers

    ref = run_inline(batch_spec(tmp_path, "python-transformers", models_dir, batch), llm_transformers)
    got = run_inline(batch_spec(tmp_path, "python-ort", models_dir, batch), llm_ort)
    for r in (ref, got):
        assert r["errors"] == []
        steps = 2 * ROWS // batch  # reps 2, every batch in every rep
        assert len(r["phases"]["ttft"]) == steps and len(r["phases"]["per_token"]) == steps * (NEW_TOKENS - 1)
        assert set(r["metrics"]) == {"tokens_per_s", "ttft_p50", "per_token_p50"}
        assert len(r["probes"]["gen_logits"]) == batch * 5 * 256 and len(r["probes"]["tokens"]) == batch * NEW_TOKENS
        assert r["params"]["batch"] == batch and r["params"]["rows"] == ROWS and r["params"]["prompt_len"] == PROMPT_LEN
    assert_same_outputs(ref, got, "llm/gpt2")
    # Row 0 of the batch variant is the batch-1 variant's probe (a missing batch is 1).
    one = run_inline(batch_spec(tmp_path, "python-ort", models_dir, None), llm_ort)
    assert one["params"]["batch"] == 1 and len(one["phases"]["ttft"]) == 2 * ROWS
    assert got["probes"]["tokens"][:NEW_TOKENS] == one["probes"]["tokens"]
    np.testing.assert_allclose(got["probes"]["gen_logits"][: 5 * 256], one["probes"]["gen_logits"], rtol=0, atol=1e-4)


@needs_data
@pytest.mark.parametrize(
    "batch,message",
    [(3, r"^input prompt_ids: 4 rows is not a multiple of batch 3$"), (0, r"^batch 0: want >= 1$"), (-2, r"^batch -2: want >= 1$")],
)
def test_sweep_refuses_a_bad_batch(tmp_path, models_dir, batch, message):  # noqa: F811
    import llm_ort

    with pytest.raises(ValueError, match=message):
        llm_ort.run(batch_spec(tmp_path, "python-ort", models_dir, batch))
