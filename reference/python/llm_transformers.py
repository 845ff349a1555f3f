"""LLM reference (python-transformers): BERT question answering and GPT-2 greedy generation.

    python llm_transformers.py --spec SPEC.json

BertForQuestionAnswering and GPT2LMHeadModel from the model directory, in eager
PyTorch under torch.inference_mode(). The workloads, phases, metrics and probes
are those of docs/LLM.md (llm_common).
"""

import torch
import transformers
from transformers import BertForQuestionAnswering, GPT2LMHeadModel

import common
import llm_common

ATTENTION = "sdpa"  # transformers' default on PyTorch: torch.nn.functional.scaled_dot_product_attention


def bert_qa(spec, result, device, sync):
    with result.time("load", sync=sync):
        tokenizer = llm_common.load_tokenizer(spec["inputs"]["tokenizer"])
        model = BertForQuestionAnswering.from_pretrained(spec["inputs"]["model_dir"], attn_implementation=ATTENTION)
        model.to(device).eval()

    def run_window(w):
        out = model(
            input_ids=torch.from_numpy(w.input_ids).to(device),
            token_type_ids=torch.from_numpy(w.token_type_ids).to(device),
            attention_mask=torch.from_numpy(w.attention_mask).to(device),
        )
        return out.start_logits[0].cpu().numpy(), out.end_logits[0].cpu().numpy()

    llm_common.bert_qa(spec, result, tokenizer, run_window, sync)


def gpt2(spec, result, device, sync):
    with result.time("load", sync=sync):
        tokenizer = llm_common.load_tokenizer(spec["inputs"]["tokenizer"])
        model = GPT2LMHeadModel.from_pretrained(spec["inputs"]["model_dir"], attn_implementation=ATTENTION)
        model.to(device).eval()

    llm_common.gpt2(spec, result, tokenizer, gpt2_step(model, device), sync)


def gpt2_step(model, device):
    """The step of llm_common.generate_batch: int64 ids [B, n] in, the last position's logits [B, vocab]
    and the model's cache out (no attention mask, no position ids: every row has the same length, so
    the model's defaults, all ones and past..past+n-1, are the contract's)."""

    def step(ids, cache):
        # cache None: the prompts; the model starts a DynamicCache of batch B and returns it.
        out = model(input_ids=torch.from_numpy(ids).to(device), cache=cache, use_cache=True)
        return out.logits[:, -1], out.cache

    return step


def run(spec):
    llm_common.check_task(spec)
    result = common.Result(spec, "transformers", transformers.__version__)
    torch.set_num_threads(spec["threads"])
    device = torch.device(spec["device"])
    sync = torch.cuda.synchronize if device.type == "cuda" else None
    with torch.inference_mode():
        (bert_qa if spec["task"] == "llm/bert-qa" else gpt2)(spec, result, device, sync)
    result["params"].update(attn_implementation=ATTENTION, dtype="float32")
    result["notes"] += [
        (
            f"torch {torch.__version__}, torch.set_num_threads({spec['threads']}), torch.inference_mode(), "
            f"attn_implementation={ATTENTION!r}, float32, batch 1 (the gpt2 sweep: param batch)"
        ),
        (
            "bert-qa: one forward per window; gpt2: the model called step by step with use_cache=True and "
            "the returned DynamicCache (no model.generate), logits for every prompt position"
        ),
    ]
    if device.type == "cuda":
        result["params"].update(common.cuda_math(torch))
        result["notes"].append(
            f"CUDA {torch.version.cuda} on {torch.cuda.get_device_name()}; torch.cuda.synchronize() before every clock read"
        )
    return result


if __name__ == "__main__":
    common.main(run)
