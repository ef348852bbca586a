"""Variants of the toxicity head tried on the leave-one-source-out folds (CARD.md, "Also tried").

    OMP_NUM_THREADS=1 nice -n 19 .venv/bin/python onnx/recipes/toxicity_variants.py   # ~5 min, 2 cores

Every variant is one linear model over the shipped features (same hashing, same graph), so any
of them could ship unchanged through ``build_onnx``:

* ``nb``: NB-scaled features (NBSVM; ``common.nb_ratio``, shipped since as NB C=1 by
  train_toxicity.py): each bucket's TF-IDF value times its log-count ratio
  r = log((p/|p|)/(q/|q|)), p, q = 1 + weighted document counts of the bucket among toxic / clean
  training rows (0 for buckets unseen in training); fitted weight w serves as r * w;
* ``beta``: NBSVM interpolation w' = (1 - beta) * mean|w| + beta * w (in the NB-scaled space);
* ``mix``: a * plain-LR logit + (1 - a) * NB-LR logit (weights and biases averaged);
* weighting: ``sb`` source x class balanced (shipped), ``cls`` class balanced only, ``sqrt``
  sources by sqrt(size) with classes balanced inside each, ``praise*k`` the weak clean praise
  cell times k.

Sublinear tf is not tried: the serving graph sums per occurrence (raw counts).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import count_matrix, fit_lr, idf_from, log, nb_ratio, norm_all, weighted  # noqa: E402
from loso import loso_predictions, loso_table, tfidf_baseline  # noqa: E402
from toxicity_sources import SOURCES, clean_praise, load_all, source_balanced_weights, unique_rows  # noqa: E402
from train_toxicity import CONFIG, N_BUCKETS  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402


def sample_weights(kind: str, src, y):
    if kind == "sb":
        return source_balanced_weights(src, y)
    if kind == "cls":
        return np.where(y == 1, len(y) / (2 * (y == 1).sum()), len(y) / (2 * (y == 0).sum()))
    if kind == "sqrt":
        w = np.zeros(len(y))
        for s in np.unique(src):
            for c in (0, 1):
                m = (src == s) & (y == c)
                if m.any():
                    w[m] = np.sqrt((src == s).sum()) / m.sum()
        return w * len(y) / w.sum()
    if kind.startswith("praise*"):
        w = source_balanced_weights(src, y)
        w[src == "nsmc_praise"] *= float(kind[7:])
        return w * len(y) / w.sum()
    raise ValueError(kind)


class Folds:
    """Per fold and (C, nb, weighting): the served weight vector, bias and idf (cached)."""

    def __init__(self, X, y, sources, in_source):
        self.X, self.y, self.sources, self.in_source = X, y, sources, in_source
        self.cache = {}

    def fit(self, j: int, C: float, nb: bool, wkind: str):
        key = (j, C, nb, wkind)
        if key not in self.cache:
            tr = ~self.in_source[:, j]
            idf = idf_from(self.X[tr])
            A = weighted(self.X[tr], idf)
            sw = sample_weights(wkind, self.sources[tr], self.y[tr])
            r = nb_ratio(self.X[tr], self.y[tr], sw) if nb else np.ones(A.shape[1], np.float32)
            _, W, b = fit_lr((A @ sp.diags(r)).tocsr() if nb else A, self.y[tr], C, sample_weight=sw)
            self.cache[key] = (W[:, 0], float(b[0]), r, idf)
        return self.cache[key]

    def predictions(self, parts, beta: float = 1.0):
        """parts: [(coef, C, nb, wkind)]; the logits are summed with those coefficients."""
        out = {}
        for j, s in enumerate(SOURCES):
            te = self.in_source[:, j]
            w_eff, b_eff = 0.0, 0.0
            for a, C, nb, wkind in parts:
                w, b, r, idf = self.fit(j, C, nb, wkind)
                if beta != 1.0:
                    w = ((1 - beta) * np.abs(w[w != 0]).mean() + beta * w) * (r != 0)
                w_eff, b_eff = w_eff + a * r * w, b_eff + a * b
            out[s] = (self.y[te], 1 / (1 + np.exp(-(weighted(self.X[te], idf) @ w_eff + b_eff))))
        return out


VARIANTS = {
    "plain C=4, source x class (shipped until NB)": dict(parts=[(1, 4.0, False, "sb")]),
    "C=2": dict(parts=[(1, 2.0, False, "sb")]),
    "C=8": dict(parts=[(1, 8.0, False, "sb")]),
    "class balanced only, C=4": dict(parts=[(1, 4.0, False, "cls")]),
    "sources by sqrt(size), C=4": dict(parts=[(1, 4.0, False, "sqrt")]),
    "praise x0.5, C=4": dict(parts=[(1, 4.0, False, "praise*0.5")]),
    "praise x2, C=4": dict(parts=[(1, 4.0, False, "praise*2")]),
    "praise x2, C=2": dict(parts=[(1, 2.0, False, "praise*2")]),
    "NB, C=1": dict(parts=[(1, 1.0, True, "sb")]),
    "NB, C=2": dict(parts=[(1, 2.0, True, "sb")]),
    "NB, C=4": dict(parts=[(1, 4.0, True, "sb")]),
    "NB, C=4, beta=0.75": dict(parts=[(1, 4.0, True, "sb")], beta=0.75),
    "NB, C=4, beta=0.5": dict(parts=[(1, 4.0, True, "sb")], beta=0.5),
    "NB, C=1, praise x2": dict(parts=[(1, 1.0, True, "praise*2")]),
    "NB, C=4, class balanced only": dict(parts=[(1, 4.0, True, "cls")]),
    "mean of plain and NB logits, C=4": dict(parts=[(0.5, 4.0, False, "sb"), (0.5, 4.0, True, "sb")]),
    "0.75 plain + 0.25 NB, C=4": dict(parts=[(0.75, 4.0, False, "sb"), (0.25, 4.0, True, "sb")]),
}


def main():
    texts, y, sources, in_source = unique_rows(load_all() + clean_praise())
    folds = Folds(count_matrix(norm_all(texts), N_BUCKETS, CONFIG), y, sources, in_source)
    tables = {}
    for name, v in VARIANTS.items():
        t = tables[name] = loso_table(folds.predictions(v["parts"], v.get("beta", 1.0)))
        ps = t["per_source"]
        cells = " | ".join(f"{ps[s]['macro_f1_at_0.5']:.4f} / {ps[s]['macro_f1_nested']:.4f} / "
                           f"{ps[s]['macro_f1_pooled']:.4f}" for s in SOURCES)
        log(f"| {name} | {cells} | {t['mean_at_0.5']:.4f} / {t['mean_nested_threshold']:.4f} / "
            f"{t['mean_pooled_threshold']:.4f} | {t['pooled_threshold']} |")
    for family, keep in (("all", lambda n: True), ("without NB", lambda n: "NB" not in n)):
        pick = max((n for n in tables if keep(n)), key=lambda n: tables[n]["mean_pooled_threshold"])
        log(f"pooled rule over {family}: {pick}")
    # where the plain model and the baseline differ: ranking vs how much each flags at 0.5
    from sklearn.metrics import f1_score, roc_auc_score
    for name, res in (("plain C=4", folds.predictions(VARIANTS["plain C=4, source x class (shipped until NB)"]["parts"])),
                      ("tfidf C=1", loso_predictions(tfidf_baseline(texts, y, 1.0), y, in_source))):
        for s, (ys, p) in res.items():
            best = max((f1_score(ys, p >= t, average="macro"), t) for t in np.arange(0.05, 0.96, 0.05))
            log(f"{name} {s}: ROC AUC {roc_auc_score(ys, p):.4f}, best macro-F1 {best[0]:.4f} at {best[1]:.2f}, "
                f"flagged at 0.5 {np.mean(p >= 0.5):.3f} (toxic share {ys.mean():.3f})")


if __name__ == "__main__":
    main()
