"""Bad --from inputs of models.py (sources.py): one line naming the file and the problem, exit 2,
nothing written under the models directory. Uses the prepared tokenizers (skips without them,
fails instead under MLBENCH_REQUIRE_ALL=1)."""

import json
import os
import shutil
import subprocess
import sys

import pytest

import sources

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKENIZERS = os.path.join(os.environ.get("MLBENCH_DATA", os.path.join(HERE, "..", "..", "data", "processed")), "tokenizers")
BERT_TOK = os.path.join(TOKENIZERS, "bert-base-uncased", "tokenizer.json")
pytestmark = pytest.mark.skipif(not os.path.exists(BERT_TOK), reason=f"prepared tokenizers not found under {TOKENIZERS}")


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A valid (tiny, random) BertForQuestionAnswering directory with the bert-base-uncased vocabulary."""
    from transformers import BertConfig, BertForQuestionAnswering

    d = tmp_path_factory.mktemp("good")
    vocab = sources.tokenizer(BERT_TOK).get_vocab_size(with_added_tokens=True)
    config = BertConfig(vocab_size=vocab, hidden_size=8, num_hidden_layers=1, num_attention_heads=1, intermediate_size=8)
    BertForQuestionAnswering(config).save_pretrained(d)
    shutil.copy(os.path.join(TOKENIZERS, "bert-base-uncased", "vocab.txt"), d)
    return d


def variant(good, tmp_path, change):
    d = tmp_path / "src"
    shutil.copytree(good, d)
    change(d)
    return d


def resolve(d, name="bert-qa"):
    from transformers import BertForQuestionAnswering, GPT2LMHeadModel

    cls = BertForQuestionAnswering if name == "bert-qa" else GPT2LMHeadModel
    return sources.resolve(name, str(d), BERT_TOK, cls)


def edit_config(d, **kv):
    p = d / "config.json"
    cfg = json.loads(p.read_text())
    cfg.update(kv)
    p.write_text(json.dumps(cfg))


def test_good_directory_is_accepted(good):
    src, config, extra = resolve(good)
    assert src == str(good) and config.hidden_size == 8
    assert extra["source_weights"] == "model.safetensors" and len(extra["source_sha256"]) == 64


CASES = {
    "no config": (lambda d: (d / "config.json").unlink(), "config.json: missing"),
    "no weights": (lambda d: (d / "model.safetensors").unlink(), "no weights (model.safetensors or pytorch_model.bin"),
    "config not JSON": (lambda d: (d / "config.json").write_text("{"), "config.json: not valid JSON"),
    "another architecture": (
        lambda d: edit_config(d, model_type="gpt2"),
        "config.json: model_type 'gpt2', but bert-qa needs a 'bert' model",
    ),
    "another head": (
        lambda d: edit_config(d, architectures=["BertForMaskedLM"]),
        "config.json: architectures ['BertForMaskedLM'] do not include BertForQuestionAnswering",
    ),
    "vocab size": (lambda d: edit_config(d, vocab_size=1000), "config.json: vocab_size 1000 does not match the tokenizer's 30522 tokens"),
    "vocab file": (
        lambda d: (d / "vocab.txt").write_text((d / "vocab.txt").read_text().replace("[UNK]", "[UNKNOWN]", 1)),
        "vocab.txt: vocabulary does not match the tokenizer",
    ),
    "corrupt safetensors": (
        lambda d: (d / "model.safetensors").write_bytes((d / "model.safetensors").read_bytes()[:200]),
        "model.safetensors: not a valid safetensors file",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_directory(good, tmp_path, case):
    change, want = CASES[case]
    d = variant(good, tmp_path, change)
    with pytest.raises(sources.SourceError) as e:
        resolve(d)
    msg = str(e.value)
    assert want in msg and "\n" not in msg, msg


def test_not_a_qa_checkpoint(tmp_path):
    """A bert config that claims QA over weights without the QA head: the weights file is named."""
    from transformers import BertConfig, BertForQuestionAnswering, BertModel

    vocab = sources.tokenizer(BERT_TOK).get_vocab_size(with_added_tokens=True)
    BertModel(BertConfig(vocab_size=vocab, hidden_size=8, num_hidden_layers=1, num_attention_heads=1, intermediate_size=8)).save_pretrained(
        tmp_path
    )
    edit_config(tmp_path, architectures=["BertForQuestionAnswering"])
    src, _, _ = resolve(tmp_path)
    with pytest.raises(sources.SourceError, match="not a BertForQuestionAnswering checkpoint: missing qa_outputs"):
        sources.load(src, BertForQuestionAnswering)


def test_missing_path_is_not_sent_to_the_hub(tmp_path):
    with pytest.raises(sources.SourceError, match="no such directory"):
        resolve(tmp_path / "nope")


def run_models(args, env=None):
    return subprocess.run(
        [sys.executable, os.path.join(HERE, "models.py"), *args],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def test_cli_bad_input_one_line_nothing_written(good, tmp_path):
    d = variant(good, tmp_path, lambda d: edit_config(d, vocab_size=5))
    out = tmp_path / "models"
    p = run_models(["--out", str(out), "--tokenizers", TOKENIZERS, "--model", "bert-qa", "--from", str(d)])
    assert p.returncode == 2, p.stderr
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert lines == [f"mlbench: models prepare: {d}/config.json: vocab_size 5 does not match the tokenizer's 30522 tokens ({BERT_TOK})"]
    assert not out.exists() or os.listdir(out) == []


def test_cli_hub_id_offline_names_the_network(tmp_path):
    out = tmp_path / "models"
    p = run_models(["--out", str(out), "--tokenizers", TOKENIZERS, "--model", "gpt2", "--from", "gpt2"], env={"HF_HUB_OFFLINE": "1"})
    assert p.returncode == 2, p.stderr
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in p.stderr, p.stderr
    assert lines[0].startswith("mlbench: models prepare: gpt2: cannot fetch it from the Hugging Face Hub (huggingface.co; no network?)")
    assert not out.exists() or os.listdir(out) == []
