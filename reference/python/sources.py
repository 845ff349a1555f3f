"""Where models.py --from takes trained weights: a Hugging Face model directory or hub id.

Every problem with the source is a SourceError whose message is one line naming the file (or the
hub id) and the problem; models.py prints it and exits 2 before anything is written.
"""

import json
import os

WEIGHTS = ("model.safetensors", "pytorch_model.bin")
HUB = "huggingface.co"


class SourceError(ValueError):
    pass


def resolve(name, source, tok_src, cls):
    """(source as recorded, config, extra meta fields) for the --from value, checked."""
    if os.path.isdir(source):
        return local(name, os.path.abspath(source), tok_src, cls)
    if os.path.exists(source):
        raise SourceError(f"{source}: not a directory (want a Hugging Face model directory or hub id)")
    if source.startswith((".", "/", "~")) or source.count("/") > 1:
        raise SourceError(f"{source}: no such directory")
    try:
        config = cls.config_class.from_pretrained(source)
    except Exception as e:  # noqa: BLE001 - any failure to fetch is reported in one line
        raise SourceError(f"{source}: cannot fetch it from the Hugging Face Hub ({HUB}; no network?): {one_line(e)}") from None
    check_config(name, source, config.to_dict(), cls)
    check_vocab_size(source, config.vocab_size, tok_src)
    return source, config, {}


def local(name, d, tok_src, cls):
    cfg_path = os.path.join(d, "config.json")
    if not os.path.isfile(cfg_path):
        raise SourceError(f"{cfg_path}: missing (want a Hugging Face model directory: config.json, {' or '.join(WEIGHTS)})")
    try:
        with open(cfg_path) as f:
            raw = json.load(f)
    except ValueError as e:
        raise SourceError(f"{cfg_path}: not valid JSON ({one_line(e)})") from None
    if not isinstance(raw, dict):
        raise SourceError(f"{cfg_path}: not a JSON object")
    check_config(name, cfg_path, raw, cls)
    weights = next((os.path.join(d, w) for w in WEIGHTS if os.path.isfile(os.path.join(d, w))), None)
    if weights is None:
        raise SourceError(f"{d}: no weights ({' or '.join(WEIGHTS)}; sharded checkpoints are not supported)")
    if weights.endswith(".safetensors"):
        check_safetensors(weights)
    try:
        config = cls.config_class.from_pretrained(d)
    except Exception as e:  # noqa: BLE001
        raise SourceError(f"{cfg_path}: not a valid {cls.config_class.__name__} ({one_line(e)})") from None
    check_vocab_size(cfg_path, config.vocab_size, tok_src)
    check_vocab_files(d, tok_src)
    extra = {"source_weights": os.path.basename(weights), "source_sha256": sha256(weights)}
    fixture = os.path.join(d, "fixture.json")
    if os.path.isfile(fixture):
        with open(fixture) as f:
            extra["note"] = json.load(f)["note"]
    return d, config, extra


def check_config(name, where, raw, cls):
    want = cls.config_class.model_type
    if raw.get("model_type") != want:
        raise SourceError(f"{where}: model_type {raw.get('model_type')!r}, but {name} needs a {want!r} model ({cls.__name__})")
    arch = raw.get("architectures") or []
    if arch and cls.__name__ not in arch:
        raise SourceError(f"{where}: architectures {arch} do not include {cls.__name__}, which {name} needs")


def check_vocab_size(where, n, tok_src):
    want = tokenizer(tok_src).get_vocab_size(with_added_tokens=True)
    if n != want:
        raise SourceError(f"{where}: vocab_size {n} does not match the tokenizer's {want} tokens ({tok_src})")


def check_safetensors(path):
    from safetensors import safe_open

    try:
        with safe_open(path, framework="pt") as f:
            for k in f.keys():  # noqa: SIM118 - safe_open is not a dict
                f.get_slice(k)
    except Exception as e:  # noqa: BLE001 - the library raises several kinds
        raise SourceError(f"{path}: not a valid safetensors file ({one_line(e)})") from None


def check_vocab_files(d, tok_src):
    """The directory's own vocabulary, where it has one, must be the tokenizer's."""
    ours = tokenizer(tok_src).get_vocab(with_added_tokens=True)
    for fname in ("tokenizer.json", "vocab.txt", "vocab.json"):
        path = os.path.join(d, fname)
        if not os.path.isfile(path):
            continue
        try:
            theirs = read_vocab(path)
        except Exception as e:  # noqa: BLE001
            raise SourceError(f"{path}: unreadable vocabulary ({one_line(e)})") from None
        if theirs != ours:
            diff = sorted(set(theirs.items()) ^ set(ours.items()), key=lambda kv: (kv[1], kv[0]))
            tok, i = diff[0]
            raise SourceError(
                f"{path}: vocabulary does not match the tokenizer {tok_src} ({len(theirs)} vs {len(ours)} tokens; first difference: {tok!r} at id {i})"
            )


def read_vocab(path):
    if path.endswith("vocab.txt"):
        with open(path, encoding="utf-8") as f:
            return {line.rstrip("\n"): i for i, line in enumerate(f)}
    if path.endswith("vocab.json"):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    return tokenizer(path).get_vocab(with_added_tokens=True)


def load(source, cls):
    """The model from a source resolve() accepted; every weight of cls must be in the file."""
    try:
        model, info = cls.from_pretrained(source, attn_implementation="eager", output_loading_info=True)
    except Exception as e:  # noqa: BLE001
        raise SourceError(f"{source}: the weights do not load into {cls.__name__} ({one_line(e)})") from None
    missing = info.get("missing_keys") or []
    mismatched = info.get("mismatched_keys") or []
    if missing or mismatched:
        what = "missing " + ", ".join(sorted(missing)[:3]) if missing else f"wrong shapes for {mismatched[:2]}"
        raise SourceError(f"{source}: not a {cls.__name__} checkpoint: {what}")
    return model


_tokenizers = {}


def tokenizer(path):
    from tokenizers import Tokenizer

    if path not in _tokenizers:
        _tokenizers[path] = Tokenizer.from_file(path)
    return _tokenizers[path]


def sha256(path):
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def one_line(e):
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return lines[0] if lines else type(e).__name__
