"""Makes the LLM checkpoints every implementation loads (docs/LLM.md).

    python models.py --out data/models --tokenizers data/processed/tokenizers \
        [--model bert-qa|gpt2 ...] [--from DIR_OR_HF_ID] [--tiny]

For each model: a transformers checkpoint (config.json + model.safetensors, from
``save_pretrained``), the tokenizer.json, the ONNX export of that checkpoint
(``torch.onnx.export(dynamo=True)``), checked against PyTorch with onnxruntime,
and meta.json, written last. Without ``--from`` the weights are a seeded random
initialisation of the real configuration. A model whose meta.json already
describes the same configuration and files is skipped.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
import torch
from transformers import BertConfig, BertForQuestionAnswering, DynamicCache, GPT2Config, GPT2LMHeadModel

import common
import sources

SEED = 0
OPSET = 18
TOKENIZERS = {"bert-qa": "bert-base-uncased", "gpt2": "gpt2"}


sha256 = sources.sha256


def vocab_size(tokenizer_json):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(tokenizer_json).get_vocab_size(with_added_tokens=True)


# --- configurations -------------------------------------------------------------------------


def bert_config(vocab, tiny):
    # BertConfig() defaults are bert-base-uncased: 12 layers, hidden 768, 12 heads, 30522 tokens.
    small = (
        {"num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 2, "intermediate_size": 256, "vocab_size": vocab} if tiny else {}
    )
    return BertConfig(num_labels=2, **small)


def gpt2_config(vocab, tiny):
    # GPT2Config() defaults are gpt2 (124M): 12 layers, 768 wide, 12 heads, 50257 tokens, 1024 positions.
    small = {"n_layer": 2, "n_embd": 64, "n_head": 2, "vocab_size": vocab} if tiny else {}
    return GPT2Config(**small)


# --- ONNX wrappers: plain tensors in, plain tensors out -------------------------------------


class BertQA(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids):
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
        return out.start_logits, out.end_logits


class GPT2WithPast(torch.nn.Module):
    """GPT2LMHeadModel with the cache as flat tensors: past_key_values = [k0, v0, k1, v1, ...]."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, position_ids, past_key_values):
        cache = DynamicCache(list(zip(past_key_values[0::2], past_key_values[1::2])))
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, cache=cache, use_cache=True)
        presents = [t for layer in out.cache.layers for t in (layer.keys, layer.values)]
        return (out.logits, *presents)


def bert_inputs(config, batch, seq, gen):
    ids = torch.randint(0, config.vocab_size, (batch, seq), generator=gen)
    types = torch.zeros(batch, seq, dtype=torch.long)
    types[:, seq // 2 :] = 1
    return {"input_ids": ids, "attention_mask": torch.ones(batch, seq, dtype=torch.long), "token_type_ids": types}


def gpt2_inputs(config, batch, seq, past, gen):
    heads, head_dim = config.n_head, config.n_embd // config.n_head
    kv = [torch.randn(batch, heads, past, head_dim, generator=gen) for _ in range(2 * config.n_layer)]
    return {
        "input_ids": torch.randint(0, config.vocab_size, (batch, seq), generator=gen),
        "attention_mask": torch.ones(batch, past + seq, dtype=torch.long),
        "position_ids": torch.arange(past, past + seq).expand(batch, seq).contiguous(),
        "past_key_values": kv,
    }


def bert_names(config):
    return ["input_ids", "attention_mask", "token_type_ids"], ["start_logits", "end_logits"]


def gpt2_names(config):
    kv = [f"{{}}.{i}.{kind}" for i in range(config.n_layer) for kind in ("key", "value")]
    return (
        ["input_ids", "attention_mask", "position_ids"] + [n.format("past_key_values") for n in kv],
        ["logits"] + [n.format("present") for n in kv],
    )


def export(wrapper, inputs, dynamic_shapes, names, path):
    input_names, output_names = names
    torch.onnx.export(
        wrapper,
        (),
        path,
        kwargs=inputs,
        dynamo=True,
        opset_version=OPSET,
        input_names=input_names,
        output_names=output_names,
        dynamic_shapes=dynamic_shapes,
        external_data=False,
        optimize=True,
    )


def max_abs_diff(wrapper, session, inputs):
    with torch.inference_mode():
        want = wrapper(**inputs)
    feed = {}
    for name, v in zip([i.name for i in session.get_inputs()], [t for x in inputs.values() for t in (x if isinstance(x, list) else [x])]):
        feed[name] = v.numpy()
    got = session.run(None, feed)
    return max(float(np.max(np.abs(g - w.numpy()))) if w.numel() else 0.0 for g, w in zip(got, want))


def check(wrapper, onnx_path, samples):
    """Max abs diff of every output of the ONNX model (onnxruntime, CPU) vs PyTorch over samples."""
    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    return {label: max_abs_diff(wrapper, session, inputs) for label, inputs in samples.items()}


# --- one model ------------------------------------------------------------------------------


def build(name, out_dir, tokenizer_dir, source, tiny):
    tok_src = os.path.join(tokenizer_dir, TOKENIZERS[name], "tokenizer.json")
    vocab = vocab_size(tok_src)
    cls = BertForQuestionAnswering if name == "bert-qa" else GPT2LMHeadModel
    origin = {}
    if source:
        source, config, origin = sources.resolve(name, source, tok_src, cls)
    else:
        config = (bert_config if name == "bert-qa" else gpt2_config)(vocab, tiny)
    want = {
        "name": name,
        "trained": source is not None,
        "source": source or f"random init, torch.manual_seed({SEED})",
        **origin,
        "tiny": tiny,
        "tokenizer_sha256": sha256(tok_src),
        "opset": OPSET,
        "config": {k: v for k, v in config.to_dict().items() if k != "transformers_version"},
    }
    want = json.loads(json.dumps(want))  # as meta.json will hold it (id2label keys become strings)
    d = os.path.join(out_dir, name)
    if up_to_date(d, want):
        print(f"{name}: up to date in {d}")
        with open(os.path.join(d, "meta.json")) as f:
            return json.load(f)

    os.makedirs(out_dir, exist_ok=True)
    stage = tempfile.mkdtemp(dir=out_dir, prefix=f".{name}.")  # renamed to d when complete
    try:
        meta = make(name, stage, want, source, config, cls, tok_src)
        replace_dir(stage, d)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    print(
        f"{name}: wrote {d} in {meta['build_seconds']} s (export {meta['export_seconds']} s); "
        f"ONNX vs PyTorch max abs diff {meta['onnx_max_abs_diff']:.3g}"
    )
    return meta


def replace_dir(src, dst):
    """Puts the complete directory src at dst, moving an older dst aside first."""
    old = None
    if os.path.exists(dst):
        old = tempfile.mkdtemp(dir=os.path.dirname(dst), prefix=f".{os.path.basename(dst)}.old.")
        os.rename(dst, os.path.join(old, "d"))
    os.rename(src, dst)
    if old:
        shutil.rmtree(old, ignore_errors=True)


def make(name, d, want, source, config, cls, tok_src):
    """Writes the checkpoint, tokenizer, ONNX export and meta.json (last) into d."""
    t0 = time.perf_counter()
    meta_path = os.path.join(d, "meta.json")
    if source:
        model = sources.load(source, cls)
        config = model.config
    else:
        torch.manual_seed(SEED)
        config._attn_implementation = "eager"
        model = cls(config)  # post_init() runs transformers' own _init_weights
    model.eval()
    model.save_pretrained(d)
    shutil.copyfile(tok_src, os.path.join(d, "tokenizer.json"))

    gen = torch.Generator().manual_seed(SEED)
    onnx_path = os.path.join(d, "model.onnx")
    tmp_onnx = os.path.join(d, ".model.onnx.tmp")
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq")
    if name == "bert-qa":
        wrapper = BertQA(model).eval()
        example = bert_inputs(config, 2, 16, gen)
        dyn = {k: {0: batch, 1: seq} for k in example}
        names = bert_names(config)
        samples = {"batch 2, seq 23": bert_inputs(config, 2, 23, gen), "batch 1, seq 384": bert_inputs(config, 1, 384, gen)}
    else:
        wrapper = GPT2WithPast(model).eval()
        past, total = torch.export.Dim("past"), torch.export.Dim("total")
        example = gpt2_inputs(config, 2, 3, 4, gen)
        dyn = {
            "input_ids": {0: batch, 1: seq},
            "attention_mask": {0: batch, 1: total},
            "position_ids": {0: batch, 1: seq},
            "past_key_values": [{0: batch, 2: past}] * (2 * config.n_layer),
        }
        names = gpt2_names(config)
        samples = {
            "batch 2, seq 5, past 3": gpt2_inputs(config, 2, 5, 3, gen),
            "batch 1, seq 7, past 0": gpt2_inputs(config, 1, 7, 0, gen),
            "batch 1, seq 1, past 9": gpt2_inputs(config, 1, 1, 9, gen),
        }
    t1 = time.perf_counter()
    with torch.inference_mode():
        export(wrapper, example, dyn, names, tmp_onnx)
    os.replace(tmp_onnx, onnx_path)
    t2 = time.perf_counter()
    diffs = check(wrapper, onnx_path, samples)
    meta = dict(
        want,
        sha256=sha256(os.path.join(d, "model.safetensors")),
        onnx_sha256=sha256(onnx_path),
        onnx_max_abs_diff=max(diffs.values()),
        onnx_check=diffs,
        exporter="dynamo",
        attn_implementation="eager",
        export_seconds=round(t2 - t1, 2),
        build_seconds=round(time.perf_counter() - t0, 2),
        versions={"torch": torch.__version__, "onnxruntime": ort.__version__, "transformers": __import__("transformers").__version__},
    )
    if meta["onnx_max_abs_diff"] > 1e-3:
        raise RuntimeError(f"{name}: ONNX export differs from PyTorch by {meta['onnx_max_abs_diff']:.3g} ({diffs})")
    common.write_json_atomic(meta_path, meta)
    for f in ("meta.json", "model.safetensors"):
        os.chmod(os.path.join(d, f), 0o644)
    os.chmod(d, 0o755)
    return meta


def up_to_date(d, want):
    try:
        with open(os.path.join(d, "meta.json")) as f:
            meta = json.load(f)
        return (
            all(meta.get(k) == v for k, v in want.items())
            and meta["sha256"] == sha256(os.path.join(d, "model.safetensors"))
            and meta["onnx_sha256"] == sha256(os.path.join(d, "model.onnx"))
            and meta["tokenizer_sha256"] == sha256(os.path.join(d, "tokenizer.json"))
        )
    except (OSError, KeyError, ValueError):
        return False


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="models directory (bert-qa/ and gpt2/ go inside)")
    ap.add_argument("--tokenizers", required=True, help="directory with bert-base-uncased/ and gpt2/ tokenizer.json")
    ap.add_argument("--model", action="append", choices=list(TOKENIZERS), help="repeatable; default: both")
    ap.add_argument("--from", dest="source", help="trained weights: a local directory or Hugging Face id")
    ap.add_argument("--tiny", action="store_true", help="small configs (2 layers, hidden 64, 2 heads) for tests")
    args = ap.parse_args(argv)
    if args.source and len(args.model or []) != 1:
        ap.error("--from needs exactly one --model")
    torch.set_num_threads(int(os.environ.get("MLBENCH_THREADS", torch.get_num_threads())))
    try:
        for name in args.model or list(TOKENIZERS):
            build(name, args.out, args.tokenizers, args.source, args.tiny)
    except sources.SourceError as e:
        # Bad input: one line, no traceback; the mlbench CLI prints nothing more for status 2.
        print(f"mlbench: models prepare: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
