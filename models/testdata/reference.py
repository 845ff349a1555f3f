"""Expected activations for models_test.go, from transformers (attn_implementation="sdpa").

    python reference.py --bert DIR --gpt2 DIR --out expected.safetensors

DIR: a model directory of docs/LLM.md (config.json + model.safetensors), e.g. the
tiny models of `reference/python/models.py --tiny`. Writes float32 activations and
the int64 inputs that produced them, under the names models_test.go reads.
"""
import argparse

import torch
from safetensors.torch import save_file
from transformers import BertForQuestionAnswering, GPT2LMHeadModel

BERT_IDS = [101, 2054, 2003, 1996, 3007, 1997, 2605, 1029, 102,
            3000, 2003, 1996, 3007, 1998, 2922, 2103, 1997, 2605, 1012, 102]
GPT2_PROMPT = [464, 2068, 7586, 21831, 18045, 625, 262]  # "The quick brown fox jumps over the"
GPT2_CHUNK = [16931, 3290, 13]


def bert(d, out):
    m = BertForQuestionAnswering.from_pretrained(d, attn_implementation="sdpa").eval()
    ids = torch.tensor([BERT_IDS])
    tt = torch.tensor([[0] * 9 + [1] * 11])
    o = m(input_ids=ids, token_type_ids=tt, attention_mask=torch.ones_like(ids), output_hidden_states=True)
    out.update({"bert.input_ids": ids, "bert.token_type_ids": tt,
                "bert.start_logits": o.start_logits, "bert.end_logits": o.end_logits})
    for i, h in enumerate(o.hidden_states):  # 0: embeddings, i: after layer i-1
        out[f"bert.hidden.{i}"] = h
    # Batch 2 with padding: the second row's last 6 tokens are padding.
    ids2 = torch.cat([ids, ids.flip(1)])
    tt2 = torch.cat([tt, tt])
    mask2 = torch.ones_like(ids2)
    mask2[1, -6:] = 0
    o = m(input_ids=ids2, token_type_ids=tt2, attention_mask=mask2)
    out.update({"bert.pad.input_ids": ids2, "bert.pad.token_type_ids": tt2, "bert.pad.attention_mask": mask2,
                "bert.pad.start_logits": o.start_logits, "bert.pad.end_logits": o.end_logits})


def gpt2(d, out):
    m = GPT2LMHeadModel.from_pretrained(d, attn_implementation="sdpa").eval()
    ids = torch.tensor([GPT2_PROMPT])
    o = m(input_ids=ids, use_cache=True, output_hidden_states=True)
    out.update({"gpt2.prompt": ids, "gpt2.logits.0": o.logits})
    for i, h in enumerate(o.hidden_states):  # 0: embeddings, last: after ln_f
        out[f"gpt2.hidden.{i}"] = h
    cache = o.cache
    # Two greedy steps with the cache.
    toks = []
    logits = o.logits
    for step in (1, 2):
        t = int(logits[0, -1].argmax())
        toks.append(t)
        o = m(input_ids=torch.tensor([[t]]), cache=cache, use_cache=True)
        cache, logits = o.cache, o.logits
        out[f"gpt2.logits.{step}"] = logits
    out["gpt2.steps"] = torch.tensor(toks)
    # Several tokens at once after a cached prefix: the prompt, then GPT2_CHUNK.
    o = m(input_ids=ids, use_cache=True)
    o = m(input_ids=torch.tensor([GPT2_CHUNK]), cache=o.cache, use_cache=True)
    out.update({"gpt2.chunk": torch.tensor([GPT2_CHUNK]), "gpt2.chunk_logits": o.logits})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bert", required=True)
    ap.add_argument("--gpt2", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    out = {}
    with torch.inference_mode():
        bert(a.bert, out)
        gpt2(a.gpt2, out)
    save_file({k: v.contiguous() for k, v in out.items()}, a.out)


if __name__ == "__main__":
    main()
