"""End-to-end: tiny HF checkpoint (built offline) -> ONNX export -> TransformerClassifier.

Real training, real optimum export, real onnxruntime; no network (HF_HUB_OFFLINE=1).
"""
from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import numpy as np
import pytest

from scoring.hf_export import ExportError, default_out_dir, export_checkpoint, main, resolve_labels
from scoring.transformer import TransformerClassifier

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "onnx" / "recipes" / "tiny_transformer.py"

# 1 thread everywhere: on a busy 2-core box, 2 torch threads can be 10x slower (spin-wait oversubscription).

TEXTS = [
    "정말 재밌어요 최고의 영화",
    "완전 쓰레기 영화 시간 아깝다",
    "",
    "ㅋㅋㅋ 배우 연기 좋았음 👍",
    "This movie was fine, I guess.",
    "지루하고 " * 200,  # longer than max_length: exercises truncation
    "보통",
]


def _load_recipe():
    spec = importlib.util.spec_from_file_location("tv_tiny_transformer_recipe", RECIPE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    recipe = _load_recipe()
    out = tmp_path_factory.mktemp("ckpt") / "tiny-bert-nsmc"
    recipe.build_tiny_checkpoint(out, steps=60, rows=2000, threads=1, verbose=False)
    return out


@pytest.fixture(scope="module")
def exported(checkpoint, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("onnx") / "sentiment-tiny"
    result = export_checkpoint(checkpoint, "sentiment", out)
    assert result == out
    return out


def _torch_probs(ckpt: Path, texts: list[str], max_length: int) -> np.ndarray:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(ckpt, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(ckpt, local_files_only=True).eval()
    rows = []
    with torch.no_grad():
        for t in texts:  # one at a time: no padding at all on the reference side
            enc = tok([t], truncation=True, max_length=max_length, return_tensors="pt")
            rows.append(torch.softmax(model(**enc).logits.double(), dim=-1).numpy()[0])
    return np.stack(rows)


def test_recipe_checkpoint_is_a_hf_checkpoint(checkpoint):
    cfg = json.loads((checkpoint / "config.json").read_text())
    assert cfg["architectures"] == ["BertForSequenceClassification"]
    assert cfg["id2label"] == {"0": "negative", "1": "positive"}
    assert (checkpoint / "model.safetensors").is_file()
    assert (checkpoint / "tokenizer.json").is_file()
    meta = json.loads((checkpoint / "recipe.json").read_text())
    assert meta["steps"] == 60 and meta["rows"] == 2000


def test_export_writes_model_folder(exported, checkpoint):
    assert (exported / "model.onnx").stat().st_size > 10_000
    assert (exported / "tokenizer.json").read_bytes() == (checkpoint / "tokenizer.json").read_bytes()
    meta = json.loads((exported / "model.json").read_text())
    assert meta["task"] == "sentiment"
    assert meta["format"] == "transformer"
    assert meta["labels"] == ["negative", "positive"]
    assert meta["max_length"] == 128
    assert meta["normalise"] is False
    assert meta["source"] == str(checkpoint.resolve())
    assert meta["label_source"] == "id2label"
    assert isinstance(meta["opset"], int) and meta["opset"] >= 11
    card = (exported / "CARD.md").read_text()
    assert str(checkpoint.resolve()) in card
    assert "truevoice models export" in card
    assert f"ONNX opset | {meta['opset']}" in card
    assert "truevoice models eval" in card
    assert "TRUEVOICE_SENTIMENT_MODEL=" in card
    assert not list(exported.glob("tv-export-*")), "temporary export dir left behind"


def test_onnx_matches_pytorch(exported, checkpoint):
    clf = TransformerClassifier(exported, intra_op_threads=1)
    assert clf.labels == ["negative", "positive"]
    assert clf.providers[-1] == "CPUExecutionProvider"
    probs = clf.predict_proba(TEXTS)
    assert probs.shape == (len(TEXTS), 2)
    assert probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    ref = _torch_probs(checkpoint, TEXTS, max_length=128)
    np.testing.assert_allclose(probs, ref, atol=1e-4)
    # the model learnt something: not a constant output
    assert probs[:, 1].max() - probs[:, 1].min() > 1e-3


def test_batching_and_order(exported):
    clf_small = TransformerClassifier(exported, ["CPUExecutionProvider"], intra_op_threads=1, batch_size=2)
    clf_big = TransformerClassifier(exported, ["CPUExecutionProvider"], intra_op_threads=1)
    a = clf_small.predict_proba(TEXTS)
    b = clf_big.predict_proba(TEXTS)
    singles = np.concatenate([clf_big.predict_proba([t]) for t in TEXTS])
    np.testing.assert_allclose(a, singles, atol=1e-5)
    np.testing.assert_allclose(b, singles, atol=1e-5)
    assert clf_big.predict_proba([]).shape == (0, 2)
    with pytest.raises(TypeError):
        clf_big.predict_proba("not a list")


def test_cli_default_out_and_label_override(checkpoint, exported, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    # deliberately claim column 0 is positive: model.json records the columns as given,
    # TransformerClassifier reorders into canonical order.
    rc = main(["export", str(checkpoint), "--task", "sentiment", "--labels", "positive,negative", "--no-validate"])
    assert rc == 0
    out = tmp_path / default_out_dir(checkpoint, "sentiment")
    assert out == tmp_path / "onnx" / "sentiment-tiny-bert-nsmc"
    assert str(default_out_dir(checkpoint, "sentiment")) in capsys.readouterr().out
    meta = json.loads((out / "model.json").read_text())
    assert meta["labels"] == ["positive", "negative"]
    assert meta["label_source"] == "override"
    assert "--labels positive negative" in (out / "CARD.md").read_text()
    swapped = TransformerClassifier(out, intra_op_threads=1)
    normal = TransformerClassifier(exported, intra_op_threads=1)
    assert swapped.labels == ["negative", "positive"]
    np.testing.assert_allclose(swapped.predict_proba(TEXTS), normal.predict_proba(TEXTS)[:, ::-1], atol=1e-6)


def test_errors_are_clear(checkpoint, tmp_path, capsys):
    with pytest.raises(ExportError, match="does not exist"):
        export_checkpoint(tmp_path / "nope", "sentiment", tmp_path / "o1")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no config.json"):
        export_checkpoint(empty, "sentiment", tmp_path / "o2")
    with pytest.raises(ExportError, match="unknown task 'emotion'"):
        export_checkpoint(checkpoint, "emotion", tmp_path / "o3")
    with pytest.raises(ExportError, match="label count mismatch"):
        export_checkpoint(checkpoint, "sentiment", tmp_path / "o4", labels=["negative", "neutral", "positive"])
    with pytest.raises(ExportError, match="not a sentiment label"):
        export_checkpoint(checkpoint, "sentiment", tmp_path / "o5", labels=["bad_label", "positive"])

    # a base (non-classification) checkpoint
    from transformers import BertConfig

    base = tmp_path / "base"
    cfg = BertConfig(vocab_size=10, hidden_size=8, num_hidden_layers=1, num_attention_heads=1, intermediate_size=8)
    cfg.architectures = ["BertModel"]
    cfg.save_pretrained(base)
    with pytest.raises(ExportError, match="not a sequence-classification checkpoint"):
        export_checkpoint(base, "sentiment", tmp_path / "o6")
    assert not (tmp_path / "o6").exists()

    # CLI: clean message and exit status 2 instead of a traceback
    assert main(["export", str(tmp_path / "nope"), "--task", "toxicity", "--out", str(tmp_path / "o7")]) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["export", str(checkpoint), "--task", "emotion"])


def test_resolve_labels_spellings():
    assert resolve_labels("sentiment", {0: "LABEL_0", 1: "LABEL_1"}, 2) == (["negative", "positive"], "convention")
    assert resolve_labels("sentiment", {0: "0", 1: "1", 2: "2"}, 3) == (
        ["negative", "neutral", "positive"],
        "convention",
    )
    assert resolve_labels("sentiment", {0: "POSITIVE", 1: "NEGATIVE"}, 2) == (["positive", "negative"], "id2label")
    assert resolve_labels("sentiment", {0: "부정", 1: "중립", 2: "긍정"}, 3)[0] == ["negative", "neutral", "positive"]
    assert resolve_labels("toxicity", {0: "LABEL_0", 1: "LABEL_1"}, 2) == (["clean", "toxic"], "convention")
    assert resolve_labels("toxicity", {0: "non-toxic", 1: "toxic"}, 2)[0] == ["clean", "toxic"]
    assert resolve_labels("toxicity", {0: "hate", 1: "none"}, 2)[0] == ["toxic", "clean"]
    assert resolve_labels("toxicity", {0: "LABEL_0", 1: "LABEL_1"}, 2, ["toxic", "clean"]) == (
        ["toxic", "clean"],
        "override",
    )
    with pytest.raises(ExportError, match="label count mismatch"):
        resolve_labels("toxicity", {0: "none", 1: "offensive", 2: "hate"}, 3)
    with pytest.raises(ExportError, match="cannot map"):
        resolve_labels("sentiment", {0: "1 star", 1: "5 stars"}, 2)
    with pytest.raises(ExportError, match="duplicate"):
        resolve_labels("sentiment", {0: "neg", 1: "negative"}, 2)
    with pytest.raises(ExportError, match="not a valid sentiment label set"):
        resolve_labels("sentiment", {0: "neutral", 1: "positive"}, 2)


def test_electra_generic_labels_toxicity(checkpoint, tmp_path):
    """KcELECTRA-shaped checkpoint (random weights) with LABEL_0/LABEL_1 names, exported as toxicity."""
    import torch
    from transformers import AutoTokenizer, ElectraConfig, ElectraForSequenceClassification

    tok = AutoTokenizer.from_pretrained(checkpoint, local_files_only=True)
    torch.manual_seed(0)
    cfg = ElectraConfig(
        vocab_size=len(tok),
        embedding_size=32,
        hidden_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        num_labels=2,
    )
    src = tmp_path / "tiny-electra"
    ElectraForSequenceClassification(cfg).save_pretrained(src)
    tok.save_pretrained(src)
    # transformers omits default id2label (LABEL_0, LABEL_1) from config.json
    assert json.loads((src / "config.json").read_text()).get("id2label", {"0": "LABEL_0", "1": "LABEL_1"}) == {
        "0": "LABEL_0",
        "1": "LABEL_1",
    }

    out = export_checkpoint(src, "toxicity", tmp_path / "toxicity-electra")
    meta = json.loads((out / "model.json").read_text())
    assert meta["labels"] == ["clean", "toxic"]
    assert meta["label_source"] == "convention"
    assert meta["max_length"] == 64  # capped by max_position_embeddings
    assert "guessed by convention" in (out / "CARD.md").read_text()

    clf = TransformerClassifier(out, intra_op_threads=1)
    assert clf.labels == ["clean", "toxic"]
    probs = clf.predict_proba(TEXTS)
    assert probs.shape == (len(TEXTS), 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(probs, _torch_probs(src, TEXTS, max_length=64), atol=1e-4)


def test_text_scorer_serves_an_exported_checkpoint_with_no_other_change(exported, monkeypatch):
    """TRUEVOICE_SENTIMENT_MODEL swaps the shipped sentiment head for the exported transformer:
    the settings read it, the scoring processes load the scorer with it as an override."""
    from scoring.normalise import normalise
    from scoring.text import TextScorer
    from streams.settings import Settings

    texts = ["정말 재밌어요 최고의 영화", "완전 쓰레기 영화 시간 아깝다", "ㅋㅋ 배우 연기 좋았음"]
    shipped = TextScorer.load()
    monkeypatch.setenv("TRUEVOICE_SENTIMENT_MODEL", str(exported))
    settings = Settings.from_env()
    assert settings.model_overrides == {"sentiment": exported}
    swapped = TextScorer.load(settings.model_root, overrides=settings.model_overrides)
    assert type(swapped.heads["sentiment"]).__name__ == "TransformerClassifier"
    assert type(swapped.heads["toxicity"]) is type(shipped.heads["toxicity"])
    want = TransformerClassifier(exported).predict_proba([normalise(t) for t in texts])
    for s, (neg, pos) in zip(swapped.score(texts), want):
        assert s.sentiment_probs[1] == 0.0  # a binary checkpoint has no neutral column
        assert abs(s.sentiment_probs[0] - neg) < 1e-5 and abs(s.sentiment_probs[2] - pos) < 1e-5
        assert s.sentiment_label == ("positive" if pos > neg else "negative")


def test_models_eval_measures_an_exported_model(exported):
    import subprocess
    import sys

    data = REPO / "tests" / "data" / "sentiment_binary_small.tsv"
    out = subprocess.run([sys.executable, "-m", "streams.cli", "models", "eval", "sentiment", str(data),
                          "--model", str(exported)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert f"model {exported}" in out.stdout
    last = json.loads(out.stdout.strip().splitlines()[-1])
    assert last["task"] == "sentiment" and last["n"] == 12 and 0.0 <= last["accuracy"] <= 1.0
