"""Makes the small trained test checkpoints of the trained-weights path (docs/LLM.md).

    python make_fixtures.py --squad dev-v2.0.json --tokenizers data/processed/tokenizers --out DIR

They are TEST FIXTURES, not substitutes for bert-base or gpt2: every result made from them says
so. Written in the Hugging Face layout (``save_pretrained``), for ``mlbench models prepare --from``:

- DIR/bert-qa: a 2-layer, 128-wide BertForQuestionAnswering (bert-base-uncased vocabulary and
  tokenizer) trained from a seeded initialisation on the first QUESTIONS questions of SQuAD 2.0
  dev in file order (the questions a quick run asks), until it answers them: the script checks,
  with the workload's own windows and post-processing (llm_common), that EM on them is at least
  MIN_EM and that it gives some non-empty answers, and fails otherwise.
- DIR/gpt2: a 2-layer, 128-wide GPT2LMHeadModel (GPT-2 tokenizer) that has learnt by heart the
  first prompts of the task's prompts file, each followed by a SQuAD dev context; the script checks that greedy generation from
  the first prompt is not one token repeated (MIN_DISTINCT ids at least).

Seeded (torch.manual_seed) and single-process; DIR/fixtures.json records what was made and the
scores. The output directory is written under a temporary name and renamed when complete.
"""

import argparse
import json
import os
import shutil
import time

import numpy as np
import torch
from transformers import BertConfig, BertForQuestionAnswering, GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

import common
import llm_common

SEED = 0
QUESTIONS = 200  # the quick run's limit in bench/tasks.go
MIN_EM = 70.0
STOP_EM = 85.0  # training stops at the first check (every 5 epochs) at or above it
BERT_EPOCHS, BERT_BATCH, BERT_LR = 60, 16, 3e-3
GPT2_STEPS, GPT2_CHUNKS, GPT2_SEQ, GPT2_LR = 100, 4, 96, 1e-2
MIN_DISTINCT = 5  # distinct ids among the first prompt's greedy tokens
NOTE = "test fixture: a tiny model trained by make_fixtures.py on a little SQuAD 2.0 dev text, not bert-base or gpt2"


# --- bert-qa --------------------------------------------------------------------------------


def qa_features(tokenizer, questions):
    """(input_ids, token_type_ids, start, end) per window, exactly the workload's windows;
    the label is the answer's token span in the window, or 0, 0 ([CLS]) without one."""
    feats = []
    for q in questions:
        spans = []
        for text in q.answers[:1]:
            at = q.context.find(text) if text else -1
            if at >= 0:
                spans.append((at, at + len(text)))
        for w in llm_common.windows(tokenizer, q.question, q.context):
            start = end = 0
            for lo, hi in spans:
                inside = [k for k, (a, b) in enumerate(w.offsets) if a < hi and b > lo]
                if inside and w.offsets[inside[0], 0] <= lo and w.offsets[inside[-1], 1] >= hi:
                    start, end = w.context_start + inside[0], w.context_start + inside[-1]
            feats.append((w.input_ids[0], w.token_type_ids[0], start, end))
    return feats


def pad_batch(feats):
    n = max(len(f[0]) for f in feats)
    ids = torch.zeros(len(feats), n, dtype=torch.long)
    types, mask = torch.zeros_like(ids), torch.zeros_like(ids)
    for i, (a, t, _, _) in enumerate(feats):
        ids[i, : len(a)], types[i, : len(a)], mask[i, : len(a)] = torch.from_numpy(a), torch.from_numpy(t), 1
    starts = torch.tensor([f[2] for f in feats])
    ends = torch.tensor([f[3] for f in feats])
    return ids, types, mask, starts, ends


def qa_scores(model, tokenizer, questions):
    """EM, F1 (percent) and the number of non-empty answers, as the workload computes them."""
    em, f1, answered = [], [], 0
    with torch.inference_mode():
        for q in questions:
            wins = llm_common.windows(tokenizer, q.question, q.context)
            logits = []
            for w in wins:
                out = model(input_ids=torch.from_numpy(w.input_ids), token_type_ids=torch.from_numpy(w.token_type_ids))
                logits.append((out.start_logits[0].numpy(), out.end_logits[0].numpy()))
            answer, _, _ = llm_common.best_answer(q.context, wins, [s for s, _ in logits], [e for _, e in logits])
            e, f = llm_common.squad_scores(q.answers, answer)
            em.append(e)
            f1.append(f)
            answered += answer != ""
    return 100 * float(np.mean(em)), 100 * float(np.mean(f1)), answered


def train_bert(tokenizer_json, squad, out):
    tokenizer = llm_common.load_tokenizer(tokenizer_json)
    questions = llm_common.load_squad(squad, QUESTIONS)
    feats = qa_features(tokenizer, questions)
    torch.manual_seed(SEED)
    config = BertConfig(
        vocab_size=tokenizer.get_vocab_size(with_added_tokens=True),
        hidden_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=256,
        num_labels=2,
    )
    model = BertForQuestionAnswering(config)
    opt = torch.optim.AdamW(model.parameters(), lr=BERT_LR, weight_decay=0.0)
    gen = torch.Generator().manual_seed(SEED)
    steps = BERT_EPOCHS * ((len(feats) + BERT_BATCH - 1) // BERT_BATCH)  # the schedule of the longest run
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=BERT_LR, total_steps=steps, pct_start=0.1)
    by_len = sorted(range(len(feats)), key=lambda i: len(feats[i][0]))  # batches of similar lengths: little padding
    batches = [by_len[b : b + BERT_BATCH] for b in range(0, len(by_len), BERT_BATCH)]
    for epoch in range(BERT_EPOCHS):
        model.train()
        total = 0.0
        for k in torch.randperm(len(batches), generator=gen).tolist():
            ids, types, mask, starts, ends = pad_batch([feats[i] for i in batches[k]])
            loss = model(input_ids=ids, token_type_ids=types, attention_mask=mask, start_positions=starts, end_positions=ends).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(ids)
        if epoch % 5 == 4 or epoch == BERT_EPOCHS - 1:
            model.eval()
            em, f1, answered = qa_scores(model, tokenizer, questions)
            print(f"bert-qa: epoch {epoch + 1}/{BERT_EPOCHS}, loss {total / len(feats):.3f}, EM {em:.1f}, F1 {f1:.1f}", flush=True)
            if em >= STOP_EM:
                break
    no_answer = sum(not [a for a in q.answers if llm_common.normalize_answer(a)] for q in questions)
    print(f"bert-qa: EM {em:.2f}, F1 {f1:.2f} on the first {len(questions)} questions ({no_answer} unanswerable; {answered} answered)")
    if em < MIN_EM or answered < len(questions) // 4:
        raise RuntimeError(f"bert-qa fixture did not learn its questions: EM {em:.2f} (want >= {MIN_EM}), {answered} answered")
    model.save_pretrained(out)
    scores = {
        "epochs": epoch + 1,
        "questions": len(questions),
        "windows": len(feats),
        "unanswerable": no_answer,
        "em": em,
        "f1": f1,
        "answered": answered,
    }
    common.write_json_atomic(os.path.join(out, "fixture.json"), {"note": NOTE, "seed": SEED, **scores})
    hf = PreTrainedTokenizerFast(
        tokenizer_file=tokenizer_json, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]"
    )
    hf.save_pretrained(out)
    return scores


# --- gpt2 -----------------------------------------------------------------------------------


def greedy(model, ids, n):
    with torch.inference_mode():
        ids = torch.tensor([ids])
        for _ in range(n):
            nxt = model(input_ids=ids, logits_to_keep=1).logits[0, -1].argmax()
            ids = torch.cat([ids, nxt.view(1, 1)], dim=1)
    return ids[0, -n:].tolist()


def train_gpt2(tokenizer_json, squad, prompts, out):
    tokenizer = llm_common.load_tokenizer(tokenizer_json)
    eos = tokenizer.token_to_id("<|endoftext|>")
    with open(squad) as f:
        contexts = [p["context"] for a in json.load(f)["data"] for p in a["paragraphs"]]
    # GPT2_CHUNKS pieces learnt by heart (every step sees all of them): a prompt of the task's
    # prompts file followed by a SQuAD context, GPT2_SEQ tokens. Greedy generation from those
    # prompts then recites varied text; a real language model is far beyond minutes on 2 cores.
    rows = []
    for prompt, context in zip(llm_common.load_prompts(prompts, GPT2_CHUNKS), contexts):
        ids = tokenizer.encode(prompt + " " + context, add_special_tokens=False).ids
        rows.append((ids + [eos] * GPT2_SEQ)[:GPT2_SEQ])
    chunks, n = torch.tensor(rows), len(rows)
    torch.manual_seed(SEED)
    vocab = tokenizer.get_vocab_size(with_added_tokens=True)
    config = GPT2Config(vocab_size=vocab, n_layer=2, n_embd=128, n_head=2, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    model = GPT2LMHeadModel(config)
    opt = torch.optim.AdamW(model.parameters(), lr=GPT2_LR, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=GPT2_LR, total_steps=GPT2_STEPS, pct_start=0.1)
    model.train()
    for step in range(GPT2_STEPS):
        loss = model(input_ids=chunks, labels=chunks).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 20 == 19:
            print(f"gpt2: step {step + 1}/{GPT2_STEPS}, loss {loss.item():.3f}", flush=True)
    model.eval()
    prompt = llm_common.load_prompts(prompts, 1)[0]
    tokens = greedy(model, tokenizer.encode(prompt, add_special_tokens=False).ids, 150)
    distinct = len(set(tokens))
    print(f"gpt2: first prompt -> {distinct} distinct ids in 150 greedy tokens: {tokenizer.decode(tokens[:40])!r}...")
    if distinct < MIN_DISTINCT:
        raise RuntimeError(f"gpt2 fixture is degenerate: {distinct} distinct ids in 150 greedy tokens (want >= {MIN_DISTINCT})")
    model.save_pretrained(out)
    PreTrainedTokenizerFast(tokenizer_file=tokenizer_json, eos_token="<|endoftext|>", bos_token="<|endoftext|>").save_pretrained(out)
    info = {"chunks": n, "seq": GPT2_SEQ, "steps": GPT2_STEPS, "final_loss": loss.item(), "distinct_first_prompt": distinct}
    common.write_json_atomic(os.path.join(out, "fixture.json"), {"note": NOTE, "seed": SEED, **info})
    return info


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--squad", required=True, help="SQuAD 2.0 dev JSON")
    ap.add_argument("--prompts", required=True, help="the prompts file of llm/gpt2")
    ap.add_argument("--tokenizers", required=True, help="directory with bert-base-uncased/ and gpt2/ tokenizer.json")
    ap.add_argument("--out", required=True, help="output directory (bert-qa/ and gpt2/ inside); must not exist")
    ap.add_argument("--model", action="append", choices=["bert-qa", "gpt2"], help="repeatable; default: both")
    args = ap.parse_args(argv)
    names = args.model or ["bert-qa", "gpt2"]
    if os.path.exists(args.out):
        ap.error(f"{args.out}: already exists")
    torch.set_num_threads(int(os.environ.get("MLBENCH_THREADS", "2")))
    t0 = time.perf_counter()
    tmp = args.out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    tok = os.path.join(args.tokenizers, "{}", "tokenizer.json")
    info = {"note": NOTE, "seed": SEED, "torch": torch.__version__}
    if "bert-qa" in names:
        info["bert-qa"] = train_bert(tok.format("bert-base-uncased"), args.squad, os.path.join(tmp, "bert-qa"))
    if "gpt2" in names:
        info["gpt2"] = train_gpt2(tok.format("gpt2"), args.squad, args.prompts, os.path.join(tmp, "gpt2"))
    info["seconds"] = round(time.perf_counter() - t0, 1)
    common.write_json_atomic(os.path.join(tmp, "fixtures.json"), info)
    os.replace(tmp, args.out)
    print(f"fixtures: wrote {args.out} in {info['seconds']} s")


if __name__ == "__main__":
    main()
