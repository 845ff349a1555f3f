"""LLM on ONNX Runtime (python-ort): the same workloads on the exported model.onnx.

    python llm_ort.py --spec SPEC.json

One InferenceSession per model (intra-op threads = spec threads, inter-op 1,
ORT_ENABLE_ALL); numpy in, numpy out. GPT-2's cache goes round as the
past_key_values.* inputs and present.* outputs of docs/LLM.md.
"""

import json
import os

import numpy as np
import onnxruntime as ort

import common
import llm_common


def session(spec):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = spec["threads"]
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    providers = ["CPUExecutionProvider"]
    if spec["device"] == "cuda":
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise RuntimeError(f"device cuda: this onnxruntime has only {ort.get_available_providers()}")
        providers.insert(0, "CUDAExecutionProvider")
        ort.preload_dlls()  # the nvidia-* wheels' CUDA and cuDNN, which the CUDA provider needs (no LD_LIBRARY_PATH)
    sess = ort.InferenceSession(os.path.join(spec["inputs"]["model_dir"], "model.onnx"), opts, providers=providers)
    if sess.get_providers()[0] != providers[0]:  # ONNX Runtime falls back to the CPU with only a warning
        raise RuntimeError(f"device {spec['device']}: the session got {sess.get_providers()}, not {providers}")
    return sess


def bert_qa(spec, result):
    with result.time("load"):
        tokenizer = llm_common.load_tokenizer(spec["inputs"]["tokenizer"])
        sess = session(spec)

    def run_window(w):
        start, end = sess.run(
            ["start_logits", "end_logits"],
            {"input_ids": w.input_ids, "token_type_ids": w.token_type_ids, "attention_mask": w.attention_mask},
        )
        return start[0], end[0]

    llm_common.bert_qa(spec, result, tokenizer, run_window)
    return sess


def gpt2(spec, result):
    with result.time("load"):
        tokenizer = llm_common.load_tokenizer(spec["inputs"]["tokenizer"])
        sess = session(spec)
    llm_common.gpt2(spec, result, tokenizer, gpt2_step(sess, spec["inputs"]["model_dir"]))
    return sess


def gpt2_step(sess, model_dir):
    """The step of llm_common.generate_batch: int64 ids [B, n] in, the last position's logits [B, vocab]
    and the present.* outputs (as the next past_key_values.* inputs) out."""
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    heads, head_dim = config["n_head"], config["n_embd"] // config["n_head"]
    past_names = [i.name for i in sess.get_inputs() if i.name.startswith("past_key_values.")]
    outputs = ["logits"] + [n.replace("past_key_values.", "present.") for n in past_names]

    def step(ids, past):
        b, n = ids.shape
        if past is None:  # the prompts: an empty cache of batch B
            past = {name: np.zeros((b, heads, 0, head_dim), dtype=np.float32) for name in past_names}
        n_past = past[past_names[0]].shape[2]
        logits, *present = sess.run(
            outputs,
            {
                "input_ids": ids,
                "attention_mask": np.ones((b, n_past + n), dtype=np.int64),
                "position_ids": np.tile(np.arange(n_past, n_past + n, dtype=np.int64), (b, 1)),
                **past,
            },
        )
        return logits[:, -1], dict(zip(past_names, present))

    return step


def run(spec):
    llm_common.check_task(spec)
    result = common.Result(spec, "onnxruntime", ort.__version__)
    sess = (bert_qa if spec["task"] == "llm/bert-qa" else gpt2)(spec, result)
    result["params"].update(
        intra_op_num_threads=spec["threads"],
        inter_op_num_threads=1,
        graph_optimization_level="ORT_ENABLE_ALL",
        providers=sess.get_providers(),
    )
    result["notes"].append(
        f"onnxruntime {ort.__version__}: InferenceSession(model.onnx), {sess.get_providers()[0]}, "
        f"intra_op_num_threads={spec['threads']}, inter_op_num_threads=1, ORT_SEQUENTIAL, ORT_ENABLE_ALL; "
        "numpy inputs and outputs (gpt2: the present.* outputs fed back as past_key_values.*)"
    )
    return result


if __name__ == "__main__":
    common.main(run)
