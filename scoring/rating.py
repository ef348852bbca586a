"""The 1-10 rating regressor (``onnx/rating``): raw texts -> predicted star rating.

The model is a hashed-linear ridge regression stored as a ``sigmoid`` head (the shipped format
has probability heads only): ``rating = center + scale * logit(p)``, with ``center`` and ``scale``
from ``model.json`` ``output`` (see ``onnx/recipes/train_rating.py``). Ratings are clipped to
``[min, max]`` (1-10).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from .linear import HashedLinearClassifier
from .text import DEFAULT_MODEL_ROOT, default_threads


def default_rating_dir() -> Path:
    return DEFAULT_MODEL_ROOT / "rating"


class RatingModel:
    def __init__(self, model_dir: Path | None = None, providers: list[str] | None = None,
                 intra_op_threads: int | None = None, batch: int = 1024) -> None:
        self.model_dir = Path(model_dir or default_rating_dir())
        self.clf = HashedLinearClassifier(self.model_dir, providers, intra_op_threads or default_threads())
        out = self.clf.meta.get("output") or {}
        if out.get("kind") != "rating":
            raise ValueError(f"{self.model_dir}/model.json is not a rating model (output.kind != 'rating')")
        self.center = float(out["center"])
        self.scale = float(out["scale"])
        self.lo = float(out.get("min", 1.0))
        self.hi = float(out.get("max", 10.0))
        self.batch = max(1, batch)

    @classmethod
    def available(cls, model_dir: Path | None = None) -> bool:
        return (Path(model_dir or default_rating_dir()) / "model.json").is_file()

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Predicted 1-10 ratings, float64 [len(texts)]."""
        parts = []
        texts = list(texts)
        for i in range(0, len(texts), self.batch):
            p = self.clf.predict_proba(texts[i:i + self.batch])[:, 1].astype(np.float64)
            p = np.clip(p, 1e-7, 1 - 1e-7)
            parts.append(self.center + self.scale * np.log(p / (1 - p)))
        if not parts:
            return np.zeros(0)
        return np.clip(np.concatenate(parts), self.lo, self.hi)


def add_ratings(mentions: list[dict], model: "RatingModel | None") -> None:
    """Each scored mention's predicted 1-10 rating, as ``rating`` (what ``scoring.predictor``
    blends into ``brand_sentiment``); nothing without a model."""
    if model is None or not mentions:
        return
    for m, r in zip(mentions, model.predict([m["text"] for m in mentions])):
        m["rating"] = float(r)
