"""The LLM workloads of docs/LLM.md, shared by llm_transformers.py and llm_ort.py.

Each implementation supplies only its model call; everything that must be the
same in every language (SQuAD order, windows, post-processing, SQuAD v2 EM/F1,
greedy generation and its clocks, probes, metrics) is here, written as the
contract states it.
"""

import collections
import json
import re
import string
import time
from dataclasses import dataclass

import numpy as np
from tokenizers import Tokenizer

import common
import llm_sweep

MAX_QUESTION_TOKENS = 64
PROBE_QUESTIONS, PROBE_POSITIONS = 20, 64
PROBE_STEPS, PROBE_VOCAB = 5, 256


# --- inputs ---------------------------------------------------------------------------------


@dataclass
class Question:
    id: str
    question: str
    context: str
    answers: list  # gold answer texts; empty when unanswerable


def load_squad(path, limit=0):
    """SQuAD 2.0 questions in file order (articles, paragraphs, qas); the first `limit` (0 = all)."""
    with open(path) as f:
        data = json.load(f)["data"]
    qs = [
        Question(qa["id"], qa["question"], p["context"], [a["text"] for a in qa["answers"]])
        for article in data
        for p in article["paragraphs"]
        for qa in p["qas"]
    ]
    return qs[:limit] if limit else qs


def load_prompts(path, limit=0):
    with open(path) as f:
        prompts = json.load(f)["prompts"]
    return prompts[:limit] if limit else prompts


def load_tokenizer(path):
    return Tokenizer.from_file(path)


# --- bert-qa: windows -----------------------------------------------------------------------


@dataclass
class Window:
    input_ids: np.ndarray  # int64 [1, n]: [CLS] question [SEP] context tokens [SEP]
    token_type_ids: np.ndarray  # int64 [1, n]
    attention_mask: np.ndarray  # int64 [1, n], all ones
    context_start: int  # position of the window's first context token
    offsets: np.ndarray  # int64 [n_context, 2]: character span of each context token


def windows(tokenizer, question, context, max_length=384, stride=128):
    """[CLS] question [SEP] window [SEP] for each window over the context's tokens (docs/LLM.md):
    windows of L = max_length - len(question) - 3 tokens starting at 0, L-stride, 2(L-stride),
    ... until one reaches the end, as Hugging Face's truncation="only_second",
    return_overflowing_tokens=True does."""
    q = tokenizer.encode(question, add_special_tokens=False).ids[:MAX_QUESTION_TOKENS]
    c = tokenizer.encode(context, add_special_tokens=False)
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    size = max_length - len(q) - 3
    if size <= stride:
        raise ValueError(f"max_length {max_length} leaves {size} context tokens, not more than stride {stride}")
    ids, offsets = np.array(c.ids, dtype=np.int64), np.array(c.offsets, dtype=np.int64).reshape(-1, 2)
    head = np.array([cls, *q, sep], dtype=np.int64)
    out, start = [], 0
    while True:
        end = min(start + size, len(ids))
        n = len(head) + (end - start) + 1
        types = np.ones(n, dtype=np.int64)
        types[: len(head)] = 0
        out.append(
            Window(
                input_ids=np.concatenate([head, ids[start:end], [sep]])[None],
                token_type_ids=types[None],
                attention_mask=np.ones((1, n), dtype=np.int64),
                context_start=len(head),
                offsets=offsets[start:end],
            )
        )
        if end == len(ids):
            return out
        start += size - stride


# --- bert-qa: post-processing ---------------------------------------------------------------


def best_answer(context, wins, start_logits, end_logits, n_best=20, max_answer_length=30):
    """The answer text ("" for no answer), the best span's score and the null score.

    In each window, the n_best largest start and end logits among context positions (ties: lower
    position first); spans with start <= end and at most max_answer_length tokens; score =
    start + end logit (float64). The best span over all windows (ties: earlier window, lower start,
    lower end) wins if its score is above the null score, the minimum over windows of
    start_logits[0] + end_logits[0]."""
    best, best_score = None, -np.inf
    null = min(float(s[0]) + float(e[0]) for s, e in zip(start_logits, end_logits))
    for w, s, e in zip(wins, start_logits, end_logits):
        lo, hi = w.context_start, w.context_start + len(w.offsets)
        starts = np.sort(lo + np.argsort(-s[lo:hi], kind="stable")[:n_best])
        ends = np.sort(lo + np.argsort(-e[lo:hi], kind="stable")[:n_best])
        for i in starts:
            for j in ends:
                if j < i or j - i + 1 > max_answer_length:
                    continue
                score = float(s[i]) + float(e[j])
                if score > best_score:
                    best, best_score = (w, i - lo, j - lo), score
    if best is None or not best_score > null:
        return "", best_score, null
    w, i, j = best
    return context[w.offsets[i, 0] : w.offsets[j, 1]], best_score, null


# --- bert-qa: the official SQuAD v2.0 metrics (evaluate-v2.0.py) ----------------------------


def normalize_answer(s):
    """Lower text and remove punctuation, articles and extra whitespace."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def compute_exact(gold, pred):
    return int(normalize_answer(gold) == normalize_answer(pred))


def compute_f1(gold, pred):
    gold_toks, pred_toks = normalize_answer(gold).split(), normalize_answer(pred).split()
    if not gold_toks or not pred_toks:
        return int(gold_toks == pred_toks)  # no-answer: 1 if both empty, else 0
    common_toks = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    num_same = sum(common_toks.values())
    if num_same == 0:
        return 0
    precision, recall = num_same / len(pred_toks), num_same / len(gold_toks)
    return 2 * precision * recall / (precision + recall)


def squad_scores(answers, pred):
    """(exact, f1) of one prediction, the max over gold answers; unanswerable gold = [""]."""
    golds = [a for a in answers if normalize_answer(a)] or [""]
    return max(compute_exact(a, pred) for a in golds), max(compute_f1(a, pred) for a in golds)


def answer_hash(text):
    """32-bit FNV-1a of the answer's UTF-8 bytes: the `answers` probe compares answer texts as numbers."""
    h = 0x811C9DC5
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def percentile(values, q):
    """Linear interpolation between closest ranks (numpy's default, R type 7)."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


# --- workloads ------------------------------------------------------------------------------


def warmups(spec):
    return int(spec.get("warmup", 0))


def bert_qa(spec, result, tokenizer, run_window, sync=None):
    """Runs the bert-qa workload; run_window(Window) -> (start_logits, end_logits) as 1-D numpy arrays."""
    if "ids" in spec["inputs"]:
        return llm_sweep.bert_qa(spec, result, run_window, sync)  # --size sweep: fixed token ids
    p = spec["params"]
    max_length, stride = common.param_int(spec, "max_length"), common.param_int(spec, "stride")
    n_best, max_answer = common.param_int(spec, "n_best"), common.param_int(spec, "max_answer_length")
    limit = common.param_int(spec, "limit")
    questions = load_squad(spec["inputs"]["squad"], limit)
    result["params"].update(
        max_length=max_length,
        stride=stride,
        n_best=n_best,
        max_answer_length=max_answer,
        limit=limit,
        max_question_tokens=MAX_QUESTION_TOKENS,
    )

    def request(q, timed):
        with result.time("tokenize", timed, sync):
            wins = windows(tokenizer, q.question, q.context, max_length, stride)
        with result.time("model", timed, sync):
            logits = [run_window(w) for w in wins]
        with result.time("postprocess", timed, sync):
            answer, _, _ = best_answer(q.context, wins, [s for s, _ in logits], [e for _, e in logits], n_best, max_answer)
        return wins, logits, answer

    for _ in range(warmups(spec)):
        request(questions[0], False)
    starts, ends, em, f1, hashes, n_windows = [], [], [], [], [], 0
    for rep in range(int(spec["reps"])):
        for k, q in enumerate(questions):
            wins, logits, answer = request(q, True)
            if rep == 0:
                n_windows += len(wins)
                if k < PROBE_QUESTIONS:
                    starts.extend(logits[0][0][:PROBE_POSITIONS])
                    ends.extend(logits[0][1][:PROBE_POSITIONS])
                exact, f = squad_scores(q.answers, answer)
                hashes.append(answer_hash(answer))
                em.append(exact)
                f1.append(f)

    ph = result["phases"]
    total = [a + b + c for a, b, c in zip(ph["tokenize"], ph["model"], ph["postprocess"])]
    result.metric("requests_per_s", len(total) / sum(total))
    for q in (50, 90, 99):
        result.metric(f"latency_p{q}", percentile(total, q))
    result.metric("windows_per_request", n_windows / len(questions))
    if p.get("trained"):
        result.metric("em", 100 * np.mean(em))
        result.metric("f1", 100 * np.mean(f1))
    else:
        result["not_applicable"] = {"em": "random weights", "f1": "random weights"}
    result.probe("start_logits", starts)
    result.probe("end_logits", ends)
    result.probe("answers", hashes)


@dataclass
class Generation:
    tokens: list  # the generated ids
    ttft: float  # seconds from the prompt call to the first id
    per_token: list  # seconds per later id, from feeding the previous id to having the next
    logits: list  # the first PROBE_STEPS positions' logits, vocabulary ids 0..PROBE_VOCAB-1
    margins: list  # per generated id: its logit minus the runner-up's (a near tie is below 1e-4)


def host(a):
    """A numpy array or torch tensor as a numpy array: no copy unless it is on a device."""
    return a.detach().cpu().numpy() if hasattr(a, "detach") else a


def top2_margins(logits):
    """Per row of [B, vocab] numpy logits: largest minus second-largest logit (0 when tied), in float64."""
    top = np.partition(logits.astype(np.float64), -2, axis=-1)[:, -2:]
    return (top[:, 1] - top[:, 0]).tolist()


def generate_batch(step, prompts, new_tokens, sync=None):
    """Greedy decoding of exactly new_tokens ids for B prompts of one length at once, with a cache.

    step(ids, past) -> (logits of the last position, past): ids int64 [B, n] (the prompts, then
    the B previous ids as [B, 1]), past None for the prompts; logits [B, vocab] as a numpy array
    or torch tensor (per row argmax: the first maximum, i.e. ties to the lowest id).
    One Generation per row, in order; their ttft and per_token are the batch's clocks (each step
    from feeding the ids until all B next ids are on the host), shared."""
    clock = time.perf_counter
    ids = np.asarray(prompts, dtype=np.int64)
    if ids.ndim != 2:
        raise ValueError(f"prompts: shape {list(ids.shape)}: want [batch, length]")
    rows = len(ids)
    tokens, probes, margins = [[] for _ in range(rows)], [[] for _ in range(rows)], [[] for _ in range(rows)]
    per_token, past = [], None
    for n in range(new_tokens):
        if sync:
            sync()
        t0 = clock()
        logits, past = step(ids, past)
        ids = host(logits.argmax(-1))[:, None]  # the B next ids, [B, 1]
        if sync:
            sync()
        dt = clock() - t0
        if n == 0:
            ttft = dt
        else:
            per_token.append(dt)
        out = host(logits)  # after the clock: a device's logits come to the host for the probes only
        if n < PROBE_STEPS:
            for b, row in enumerate(out[:, :PROBE_VOCAB].tolist()):
                probes[b].append(row)
        for b, (token, margin) in enumerate(zip(ids[:, 0].tolist(), top2_margins(out))):
            tokens[b].append(token)
            margins[b].append(margin)
    return [Generation(tokens[b], ttft, per_token, probes[b], margins[b]) for b in range(rows)]


def generate(step, prompt_ids, new_tokens, sync=None):
    """Greedy decoding of one prompt (a list of ids): generate_batch with one row."""
    return generate_batch(step, [prompt_ids], new_tokens, sync)[0]


def gpt2(spec, result, tokenizer, step, sync=None):
    """Runs the gpt2 workload with step as in generate_batch()."""
    if "prompt_ids" in spec["inputs"]:
        return llm_sweep.gpt2(spec, result, step, sync)  # --size sweep: fixed token ids
    new_tokens, limit = common.param_int(spec, "new_tokens"), common.param_int(spec, "limit")
    if new_tokens < 1:
        raise ValueError(f"new_tokens {new_tokens}: want >= 1")
    prompts = load_prompts(spec["inputs"]["prompts"], limit)
    result["params"].update(new_tokens=new_tokens, limit=limit, eos_stops=False)

    def request(prompt, timed):
        with result.time("tokenize", timed, sync):
            ids = tokenizer.encode(prompt, add_special_tokens=False).ids
        g = generate(step, ids, new_tokens, sync)
        if timed:
            result.add("ttft", g.ttft)
            for dt in g.per_token:
                result.add("per_token", dt)
        return g

    for _ in range(warmups(spec)):
        request(prompts[0], False)
    first, gen_time, generated = None, 0.0, 0
    for _ in range(int(spec["reps"])):
        for prompt in prompts:
            g = request(prompt, True)
            first = first or g
            gen_time += g.ttft + sum(g.per_token)
            generated += len(g.tokens)

    result.metric("tokens_per_s", generated / gen_time)
    result.metric("ttft_p50", percentile(result["phases"]["ttft"], 50))
    if result["phases"].get("per_token"):
        result.metric("per_token_p50", percentile(result["phases"]["per_token"], 50))
    result.probe("gen_logits", [v for row in first.logits for v in row])
    result.probe("tokens", first.tokens)
    result.probe("token_margins", first.margins)


TASKS = ("llm/bert-qa", "llm/gpt2")


def check_task(spec):
    if spec["task"] not in TASKS:
        raise ValueError(f"unknown task {spec['task']!r}: want one of {', '.join(TASKS)}")
