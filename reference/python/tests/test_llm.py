"""Tests of models.py, llm_common.py, llm_transformers.py and llm_ort.py on tiny models.

The models (2 layers, hidden 64, 2 heads, real vocabularies) are made once per session by
models.py --tiny from the prepared tokenizers; tests skip when those are absent
(`mlbench data prepare --dataset bert_tokenizer --dataset gpt2_tokenizer --dataset squad_v2_dev`),
and fail instead under MLBENCH_REQUIRE_ALL=1 (conftest.py).
"""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import common
import llm_common

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.environ.get("MLBENCH_DATA", os.path.join(HERE, "..", "..", "data", "processed"))
TOKENIZERS = os.path.join(DATA, "tokenizers")
SQUAD = os.path.join(DATA, "squad_v2_dev", "dev-v2.0.json")
BERT_TOKENIZER = os.path.join(TOKENIZERS, "bert-base-uncased", "tokenizer.json")

os.environ["HF_HUB_OFFLINE"] = "1"
needs_data = pytest.mark.skipif(
    not all(os.path.exists(p) for p in (BERT_TOKENIZER, os.path.join(TOKENIZERS, "gpt2", "tokenizer.json"), SQUAD)),
    reason=f"prepared tokenizers and SQuAD not found under {DATA}",
)


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory):
    import models

    out = tmp_path_factory.mktemp("models")
    models.main(["--out", str(out), "--tokenizers", TOKENIZERS, "--tiny"])
    return out


@pytest.fixture(scope="session")
def bert_tokenizer():
    return llm_common.load_tokenizer(BERT_TOKENIZER)


# --- models.py ------------------------------------------------------------------------------


@needs_data
@pytest.mark.parametrize("name", ["bert-qa", "gpt2"])
def test_export_check(models_dir, name):
    meta = json.loads((models_dir / name / "meta.json").read_text())
    assert meta["trained"] is False and meta["tiny"] is True and meta["exporter"] == "dynamo"
    assert 0 <= meta["onnx_max_abs_diff"] <= 1e-4
    for f in ("config.json", "model.safetensors", "model.onnx", "tokenizer.json"):
        assert (models_dir / name / f).stat().st_size > 0
    import onnxruntime as ort

    sess = ort.InferenceSession(str(models_dir / name / "model.onnx"), providers=["CPUExecutionProvider"])
    inputs, outputs = [i.name for i in sess.get_inputs()], [o.name for o in sess.get_outputs()]
    if name == "bert-qa":
        assert inputs == ["input_ids", "attention_mask", "token_type_ids"]
        assert outputs == ["start_logits", "end_logits"]
    else:
        kv = [f"{i}.{k}" for i in range(2) for k in ("key", "value")]
        assert inputs == ["input_ids", "attention_mask", "position_ids"] + [f"past_key_values.{n}" for n in kv]
        assert outputs == ["logits"] + [f"present.{n}" for n in kv]


@needs_data
def test_models_second_run_skips(models_dir, capsys):
    import models

    before = {p.name: p.stat().st_mtime_ns for p in (models_dir / "gpt2").iterdir()}
    models.main(["--out", str(models_dir), "--tokenizers", TOKENIZERS, "--tiny", "--model", "gpt2"])
    assert "up to date" in capsys.readouterr().out
    assert before == {p.name: p.stat().st_mtime_ns for p in (models_dir / "gpt2").iterdir()}


@needs_data
def test_gpt2_onnx_from_empty_past(models_dir):
    """The prompt runs with zero-length past tensors, then one token with the presents fed back:
    both match GPT2LMHeadModel."""
    import onnxruntime as ort
    import torch
    from transformers import GPT2LMHeadModel

    d = models_dir / "gpt2"
    model = GPT2LMHeadModel.from_pretrained(d).eval()
    sess = ort.InferenceSession(str(d / "model.onnx"), providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()][3:]
    prompt = [464, 2068, 7586, 21831]
    past = {n: np.zeros((1, 2, 0, 32), dtype=np.float32) for n in names}
    logits, *present = sess.run(
        None, {"input_ids": np.array([prompt]), "attention_mask": np.ones((1, 4), np.int64), "position_ids": np.arange(4)[None], **past}
    )
    assert [p.shape for p in present] == [(1, 2, 4, 32)] * 4
    nxt, *present2 = sess.run(
        None,
        {
            "input_ids": np.array([[11]]),
            "attention_mask": np.ones((1, 5), np.int64),
            "position_ids": np.array([[4]]),
            **dict(zip(names, present)),
        },
    )
    with torch.inference_mode():
        out = model(torch.tensor([prompt]), use_cache=True)
        out2 = model(torch.tensor([[11]]), cache=out.cache, use_cache=True)
    np.testing.assert_allclose(logits, out.logits.numpy(), atol=1e-4)
    np.testing.assert_allclose(nxt, out2.logits.numpy(), atol=1e-4)
    assert present2[0].shape == (1, 2, 5, 32)


# --- windows --------------------------------------------------------------------------------


def long_questions(n=3, min_tokens=380):
    """The first n questions (one per paragraph) whose context has at least min_tokens tokens."""
    tok, seen, out = llm_common.load_tokenizer(BERT_TOKENIZER), set(), []
    for q in llm_common.load_squad(SQUAD):
        if q.context not in seen and len(tok.encode(q.context, add_special_tokens=False).ids) >= min_tokens:
            out.append(q)
            if len(out) == n:
                return out
        seen.add(q.context)
    return out


@needs_data
@pytest.mark.parametrize("max_length,stride", [(384, 128), (64, 16)])
def test_windows_equal_hugging_face(bert_tokenizer, max_length, stride):
    from transformers import PreTrainedTokenizerFast

    hf = PreTrainedTokenizerFast(tokenizer_file=BERT_TOKENIZER)
    qs = long_questions() + llm_common.load_squad(SQUAD, 2)
    n_windows = 0
    for q in qs:
        ours = llm_common.windows(bert_tokenizer, q.question, q.context, max_length, stride)
        enc = hf(
            q.question,
            q.context,
            truncation="only_second",
            max_length=max_length,
            stride=stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            return_token_type_ids=True,
        )
        assert len(ours) == len(enc["input_ids"]), q.id
        for k, w in enumerate(ours):
            assert w.input_ids[0].tolist() == enc["input_ids"][k]
            assert w.token_type_ids[0].tolist() == enc["token_type_ids"][k]
            assert w.attention_mask[0].tolist() == enc["attention_mask"][k]
            ctx = [i for i, s in enumerate(enc.sequence_ids(k)) if s == 1]
            assert ctx[0] == w.context_start and len(ctx) == len(w.offsets)
            assert [tuple(o) for o in w.offsets.tolist()] == [enc["offset_mapping"][k][i] for i in ctx]
        n_windows += len(ours)
    assert n_windows > len(qs)  # several windows per long context


# --- post-processing and metrics ------------------------------------------------------------


class FakeWindow:
    def __init__(self, context_start, offsets):
        self.context_start, self.offsets = context_start, np.array(offsets)


def test_best_answer_picks_the_known_span():
    context = "Paris is the capital of France."
    #          0    5  8   12      20 23    29
    w = FakeWindow(3, [[0, 5], [6, 8], [9, 12], [13, 20], [21, 23], [24, 30], [30, 31]])
    s, e = np.zeros(11, np.float32), np.zeros(11, np.float32)
    s[3 + 5], e[3 + 6] = 5, 4  # "France." 9
    s[3 + 0], e[3 + 0] = 3, 3  # "Paris" 6
    text, score, null = llm_common.best_answer(context, [w], [s], [e])
    assert (text, score, null) == ("France.", 9.0, 0.0)
    t, u = s.copy(), e.copy()
    t[3 + 6], u[3 + 5] = 7, 7  # "." to "France" would score 14, but a span needs start <= end
    assert llm_common.best_answer(context, [w], [t], [u]) == ("France", 12.0, 0.0)
    # Spans longer than max_answer_length are not candidates.
    text, score, _ = llm_common.best_answer(context, [w], [s], [e], max_answer_length=1)
    assert (text, score) == ("Paris", 6.0)


def test_best_answer_null_and_windows():
    context = "a b c d"
    # Two windows: [CLS] a b [SEP] and [CLS] c d [SEP].
    w1, w2 = FakeWindow(1, [[0, 1], [2, 3]]), FakeWindow(1, [[4, 5], [6, 7]])
    s1, e1 = np.array([2, 2, 1, 0], np.float32), np.array([2, 0, 1, 0], np.float32)  # null 4, best "a b" 3
    s2, e2 = np.array([1, 0, 3, 0], np.float32), np.array([1, 0, 2, 0], np.float32)  # null 2, best "d" 5
    assert llm_common.best_answer(context, [w1, w2], [s1, s2], [e1, e2]) == ("d", 5.0, 2.0)
    s2[2] = 0  # best is now "a b" (3), still above the null score, the minimum over windows (2)
    assert llm_common.best_answer(context, [w1, w2], [s1, s2], [e1, e2]) == ("a b", 3.0, 2.0)
    e1[2] = 0  # best 2 ("a" and "c d" tie: the earlier window wins) is not above the null score 2
    assert llm_common.best_answer(context, [w1, w2], [s1, s2], [e1, e2]) == ("", 2.0, 2.0)


def test_squad_v2_metrics():
    # Expected values follow the official evaluate-v2.0.py: normalisation drops case, punctuation,
    # the articles a/an/the and extra whitespace; F1 is over tokens; no-answer scores 1 only for "".
    assert llm_common.normalize_answer("  The  Eiffel-Tower, an icon! ") == "eiffeltower icon"
    assert llm_common.squad_scores(["the Eiffel Tower"], "Eiffel tower.") == (1, 1.0)
    assert llm_common.squad_scores(["Eiffel Tower"], "the tower in Paris") == (0, pytest.approx(2 * (1 / 3 * 1 / 2) / (1 / 3 + 1 / 2)))
    assert llm_common.squad_scores(["Paris", "in Paris, France"], "Paris France") == (0, 0.8)
    assert llm_common.squad_scores([], "") == (1, 1)
    assert llm_common.squad_scores([], "anything") == (0, 0)
    assert llm_common.squad_scores(["London"], "") == (0, 0)
    assert llm_common.squad_scores(["a"], "an") == (1, 1)  # both normalise to "": gold becomes [""]
    assert llm_common.percentile([1, 2, 3, 4], 50) == 2.5 and llm_common.percentile([1, 2, 3, 4], 90) == pytest.approx(3.7)


def test_generate_bookkeeping():
    # A fake model whose next token is (last + 1) % 300, with a tie at 0 that argmax breaks low.
    calls = []

    def step(ids, past):  # batched (llm_common.generate_batch): ids [1, n], logits [1, 300]
        calls.append((ids[0].tolist(), past))
        logits = np.zeros((1, 300), np.float32)
        logits[0, (ids[0, -1] + 1) % 300] = 1
        return logits, (past or 0) + ids.shape[1]

    g = llm_common.generate(step, [7, 298], 4)
    assert g.tokens == [299, 0, 1, 2]
    assert calls == [([7, 298], None), ([299], 2), ([0], 3), ([1], 4)]
    assert len(g.per_token) == 3 and g.ttft >= 0 and len(g.logits) == 4 and len(g.logits[0]) == 256
    assert g.logits[0][255] == 0 and g.logits[1][0] == 1


# --- the two implementations, end to end ----------------------------------------------------


def spec_for(tmp_path, task, impl, models_dir, name):
    if task == "llm/bert-qa":
        inputs = {"model_dir": str(models_dir / "bert-qa"), "tokenizer": str(models_dir / "bert-qa" / "tokenizer.json"), "squad": SQUAD}
        params = {"max_length": 384, "stride": 128, "n_best": 20, "max_answer_length": 30, "limit": 3, "trained": False}
    else:
        prompts = tmp_path / "prompts.json"
        prompts.write_text(json.dumps({"prompts": ["The quick brown fox", "Once upon a time, in a small village,", "x"]}))
        inputs = {"model_dir": str(models_dir / "gpt2"), "tokenizer": str(models_dir / "gpt2" / "tokenizer.json"), "prompts": str(prompts)}
        params = {"new_tokens": 5, "limit": 2, "trained": False}
    return {
        "schema_version": 1,
        "task": task,
        "variant": "",
        "impl": impl,
        "size": "quick",
        "inputs": inputs,
        "datasets": [],
        "params": params,
        "warmup": 1,
        "reps": 1,
        "threads": 1,
        "device": "cpu",
        "result_path": str(tmp_path / f"{name}.result.json"),
        "work_dir": str(tmp_path),
    }


def run_inline(spec, module):
    result = module.run(spec)
    result["self_peak_rss_bytes"] = common.peak_rss_bytes()
    common.validate(result)
    return json.loads(json.dumps(result, allow_nan=False))


def assert_same_outputs(ref, got, task):
    """Two results of one spec agree: logits probes within 1e-3, GPT-2's ids equal."""
    for key in ("start_logits", "end_logits", "gen_logits"):
        if key in ref["probes"]:
            diff = np.max(np.abs(np.array(ref["probes"][key]) - np.array(got["probes"][key])))
            assert diff <= 1e-3, (key, diff)
    if task == "llm/gpt2":
        assert ref["probes"]["tokens"] == got["probes"]["tokens"]


def check_result(r, task):
    want = {"llm/bert-qa": {"load", "tokenize", "model", "postprocess"}, "llm/gpt2": {"load", "tokenize", "ttft", "per_token"}}[task]
    assert set(r["phases"]) == want and len(r["phases"]["load"]) == 1
    assert all(v >= 0 and math.isfinite(v) for vs in r["phases"].values() for v in vs)
    assert r["notes"] and r["errors"] == []
    if task == "llm/bert-qa":
        assert all(len(r["phases"][p]) == 3 for p in ("tokenize", "model", "postprocess"))
        assert set(r["metrics"]) == {"requests_per_s", "latency_p50", "latency_p90", "latency_p99", "windows_per_request"}
        assert r["not_applicable"] == {"em": "random weights", "f1": "random weights"}
        assert len(r["probes"]["start_logits"]) == len(r["probes"]["end_logits"]) == 3 * 64
    else:
        assert len(r["phases"]["ttft"]) == 2 and len(r["phases"]["per_token"]) == 2 * 4
        assert set(r["metrics"]) == {"tokens_per_s", "ttft_p50", "per_token_p50"}
        assert len(r["probes"]["gen_logits"]) == 5 * 256 and len(r["probes"]["tokens"]) == 5


@needs_data
@pytest.mark.parametrize("task", ["llm/bert-qa", "llm/gpt2"])
def test_implementations_agree(tmp_path, models_dir, task):
    import llm_ort
    import llm_transformers

    ref = run_inline(spec_for(tmp_path, task, "python-transformers", models_dir, "ref"), llm_transformers)
    got = run_inline(spec_for(tmp_path, task, "python-ort", models_dir, "ort"), llm_ort)
    for r in (ref, got):
        check_result(r, task)
    assert ref["framework"] == "transformers" and got["framework"] == "onnxruntime"
    assert_same_outputs(ref, got, task)


@needs_data
def test_ort_script_writes_a_result(tmp_path, models_dir):
    """The script as the orchestrator starts it: spec file in, result file out, nothing else left."""
    spec = spec_for(tmp_path, "llm/gpt2", "python-ort", models_dir, "cli")
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    proc = subprocess.run(
        [sys.executable, os.path.join(HERE, "llm_ort.py"), "--spec", str(tmp_path / "spec.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    check_result(json.loads((tmp_path / "cli.result.json").read_text()), "llm/gpt2")
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".")]
