"""TextScorer: raw text -> schemas.TextScores, over the ONNX models shipped in ``onnx/``.

Every model folder holds a ``model.json`` whose ``format`` picks the backend
(``load_classifier``): ``hashed-linear`` (``scoring.linear``) or ``transformer``
(``scoring.transformer.TransformerClassifier``). Both expose
``predict_proba(texts: list[str]) -> np.ndarray [B, n_labels]``. TextScorer normalises each
text once; hashed-linear heads with the same feature configuration share one hashing pass
(``predict_features``). Transformer heads receive the normalised texts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from schemas.records import TextScores
from .features import HashingFeaturizer
from .linear import HashedLinearClassifier, default_providers
from .normalise import normalise_many, slang_terms



def default_model_root() -> Path:
    """The shipped models: package data of an installed wheel, or the checkout's ``onnx/``."""
    packaged = Path(__file__).resolve().parent / "models"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent / "onnx"


DEFAULT_MODEL_ROOT = default_model_root()
HEADS = ("sentiment", "toxicity", "intent", "purchase_intent", "hate_categories")
# heads added after model roots existed: a root without one serves the shipped model for it
SHIPPED_FALLBACK = ("hate_categories",)
SENTIMENT_LABELS = ("negative", "neutral", "positive")


def default_threads() -> int:
    # on a small machine the scoring processes already use every core
    return 1 if (os.cpu_count() or 1) <= 4 else 2


def head_dir(model_root: Path, head: str) -> Path:
    d = model_root / head
    return DEFAULT_MODEL_ROOT / head if head in SHIPPED_FALLBACK and not d.is_dir() else d


def load_classifier(model_dir: Path, providers: list[str] | None = None, intra_op_threads: int | None = None):
    """Backend for one model folder, chosen by ``model.json``'s ``format``."""
    model_dir = Path(model_dir)
    meta = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
    fmt = meta.get("format")
    threads = intra_op_threads or default_threads()
    if fmt == "hashed-linear":
        return HashedLinearClassifier(model_dir, providers, intra_op_threads=threads)
    if fmt == "transformer":
        from .transformer import TransformerClassifier

        return TransformerClassifier(model_dir, providers)
    raise ValueError(f"{model_dir}/model.json: unknown format {fmt!r}")


class TextScorer:
    def __init__(self, heads: dict, model_root: Path):
        missing = [h for h in HEADS if h not in heads]
        if missing:
            raise FileNotFoundError(f"models missing under {model_root}: {missing}")
        self.heads = heads
        self.model_root = model_root
        # model.json is the source of labels and thresholds whatever the backend
        self.meta = {h: json.loads((head_dir(Path(model_root), h) / "model.json").read_text(encoding="utf-8"))
                     for h in HEADS}
        self.toxicity_threshold = float(self.meta["toxicity"].get("threshold", 0.5))
        hate = self.meta["hate_categories"]
        self._hate_labels = list(hate["labels"])
        # a category is named when its own probability reaches its own threshold (chosen per
        # category on a validation split: the categories differ widely in frequency)
        self._hate_thresholds = np.array([float(hate["thresholds"][c]) for c in self._hate_labels], np.float32)
        self._featurizers: dict = {}
        for clf in heads.values():
            cfg = getattr(clf, "feature_config", None)
            if cfg is not None and cfg not in self._featurizers:
                self._featurizers[cfg] = HashingFeaturizer(cfg)
        self._intent_labels = list(getattr(heads["intent"], "labels", None) or self.meta["intent"]["labels"])

    @classmethod
    def load(cls, model_root: Path | None = None, providers: list[str] | None = None,
             intra_op_threads: int | None = None, overrides: Mapping[str, Path] | None = None) -> "TextScorer":
        """The models under ``model_root`` (default: the shipped ones); ``overrides`` swaps single
        heads (e.g. ``{"sentiment": <a folder written by truevoice models export>}``)."""
        root = Path(model_root or DEFAULT_MODEL_ROOT)
        provs = providers or default_providers()
        dirs = {h: Path((overrides or {}).get(h) or head_dir(root, h)) for h in HEADS}
        heads = {h: load_classifier(d, provs, intra_op_threads) for h, d in dirs.items() if d.is_dir()}
        return cls(heads, root)

    def probabilities(self, texts: Sequence[str]) -> tuple[dict[str, np.ndarray], list[str], list[list[str]]]:
        norm = normalise_many(texts)
        slang = [slang_terms(t, already_normalised=True) for t in norm]
        return self._probabilities(norm, slang), norm, slang

    def _probabilities(self, norm: list[str], slang: list[list[str]]) -> dict[str, np.ndarray]:
        # a configuration that adds one family (jamo, negation) to another head's reuses its pass
        feats: dict = {}
        for cfg, f in sorted(self._featurizers.items(), key=lambda kv: (kv[0].negation, kv[0].jamo_max > 0)):
            parent = cfg.parent()
            feats[cfg] = f.from_normalised(norm, slang, feats.get(parent) if parent is not None else None)
        out: dict[str, np.ndarray] = {}
        for name, clf in self.heads.items():
            cfg = getattr(clf, "feature_config", None)
            if cfg is not None:
                out[name] = clf.predict_features(feats[cfg], norm)
            else:
                out[name] = np.asarray(clf.predict_proba(norm), dtype=np.float32)
        return out

    def score(self, texts: Sequence[str]) -> list[TextScores]:
        return self.analyse(texts)[0]

    def analyse(self, texts: Sequence[str]) -> tuple[list[TextScores], list[str], list[list[str]]]:
        """Scores plus the normalised texts and slang terms (the score agent stores both)."""
        if len(texts) == 0:
            return [], [], []
        probs, norm, slang = self.probabilities(texts)
        s = probs["sentiment"].astype(np.float64)
        if s.shape[1] == 2:  # a binary sentiment model: no neutral
            s = np.stack([s[:, 0], np.zeros(len(s)), s[:, 1]], 1)
        tox = probs["toxicity"][:, -1].astype(np.float64)
        it = probs["intent"]
        pur = probs["purchase_intent"][:, -1].astype(np.float64)
        hate = probs["hate_categories"] >= self._hate_thresholds
        hate_labels = self._hate_labels
        s_idx = s.argmax(1)
        i_idx = it.argmax(1)
        sent = np.clip(s[:, 2] - s[:, 0], -1.0, 1.0)
        res = []
        for j in range(len(texts)):
            res.append(TextScores(  # validating is faster than model_construct here (pydantic-core)
                sentiment=float(sent[j]),
                sentiment_label=SENTIMENT_LABELS[s_idx[j]],
                sentiment_probs=(float(s[j, 0]), float(s[j, 1]), float(s[j, 2])),
                toxicity=float(min(1.0, max(0.0, tox[j]))),
                toxic=bool(tox[j] >= self.toxicity_threshold),
                intent=self._intent_labels[i_idx[j]],
                purchase_intent=float(min(1.0, max(0.0, pur[j]))),
                hate_categories=[c for c, on in zip(hate_labels, hate[j]) if on],
            ))
        return res, norm, slang
