"""Train the hate-speech categories head (hashed-linear, one sigmoid per category) on K-MHaS.

    nice -n 10 .venv/bin/python onnx/recipes/train_hate_categories.py      # ~3 min on 2 cores

K-MHaS (ko/kmhas/kmhas_valid.txt, news comments) labels each comment with any of eight
categories (origin, physical, politics, profanity, age, gender, race, religion) or "not hate
speech". Texts are de-duplicated (categories of duplicates united) and cut, seeded, into
train 70 % / validation 15 % / test 15 %. One logistic regression per category (what a
sigmoid per output is) on the train cut; C and each category's threshold are chosen on the
validation cut; the test cut is scored once, through the exported ONNX file.

Clean comments of the other toxicity sources (kocohub, curse, malicious) are added to training
as negatives of every category: brand mentions are mostly clean, and K-MHaS alone is news
comments about politics and celebrities.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (ROOT, count_matrix, export_head, fit_lr, idf_from, log, norm_all, onnx_probs,  # noqa: E402
                    sha256, text_key, weighted, write_json)
from toxicity_sources import HATE_CATEGORIES, curse, kmhas, kocohub, malicious  # noqa: E402
from train_toxicity import CONFIG  # noqa: E402  (the same features: one hashing pass serves both)

import numpy as np  # noqa: E402
from sklearn.metrics import f1_score, precision_score, recall_score  # noqa: E402

OUT = ROOT / "onnx" / "hate_categories"
N_BUCKETS = 1 << 17
C_GRID = (4.0, 16.0, 64.0)
THRESHOLDS = np.round(np.arange(0.05, 0.951, 0.025), 3)


def kmhas_split():
    """(texts, Y [n, 8], split ['train'|'valid'|'test']) of the unique K-MHaS texts."""
    by_key: dict[str, list] = {}
    for r in kmhas():
        k = text_key(r.text)
        if k in by_key:
            by_key[k][1] |= set(r.categories)
        else:
            by_key[k] = [r.text, set(r.categories)]
    items = list(by_key.values())
    u = np.random.default_rng(10).random(len(items))
    split = np.where(u < 0.70, "train", np.where(u < 0.85, "valid", "test"))
    Y = np.array([[int(i in cats) for i in range(len(HATE_CATEGORIES))] for _, cats in items])
    return [t for t, _ in items], Y, split


def other_clean(exclude: set[str]) -> list[str]:
    seen = set(exclude)
    out = []
    for r in kocohub() + curse() + malicious():
        k = text_key(r.text)
        if not r.toxic and k not in seen:
            seen.add(k)
            out.append(r.text)
    return out


def fit_all(A, Y, C):
    Ws, bs = [], []
    for k in range(Y.shape[1]):
        _, W, b = fit_lr(A, Y[:, k], C, class_weight="balanced")
        Ws.append(W)
        bs.append(b)
    return np.concatenate(Ws, 1), np.concatenate(bs)


def probs(A, W, b):
    return 1.0 / (1.0 + np.exp(-(A @ W + b)))


def per_category(Y, P, thr) -> dict:
    out = {}
    for k, c in enumerate(HATE_CATEGORIES):
        pred = (P[:, k] >= thr[k]).astype(int)
        out[c] = {"n_pos": int(Y[:, k].sum()), "f1": round(float(f1_score(Y[:, k], pred, zero_division=0)), 4),
                  "precision": round(float(precision_score(Y[:, k], pred, zero_division=0)), 4),
                  "recall": round(float(recall_score(Y[:, k], pred, zero_division=0)), 4)}
    return out


def main():
    texts, Y, split = kmhas_split()
    extra = other_clean({text_key(t) for t in texts})
    log(f"K-MHaS {len(texts)} unique texts ({dict(zip(*np.unique(split, return_counts=True)))}), "
        f"+{len(extra)} clean comments of the other sources as negatives")
    tr, va, te = (split == "train"), (split == "valid"), (split == "test")
    norm = norm_all(texts)
    norm_extra = norm_all(extra)
    X = count_matrix([norm[i] for i in np.flatnonzero(tr)] + norm_extra, N_BUCKETS, CONFIG)
    Ytr = np.concatenate([Y[tr], np.zeros((len(extra), Y.shape[1]), int)])
    idf = idf_from(X)
    A = weighted(X, idf)
    Xva = weighted(count_matrix([norm[i] for i in np.flatnonzero(va)], N_BUCKETS, CONFIG), idf)

    best = None
    for C in C_GRID:
        W, b = fit_all(A, Ytr, C)
        P = probs(Xva, W, b)
        thr = [max(THRESHOLDS, key=lambda t: (f1_score(Y[va][:, k], (P[:, k] >= t).astype(int), zero_division=0),
                                              -abs(t - 0.5)))
               for k in range(Y.shape[1])]
        f1s = per_category(Y[va], P, thr)
        macro = float(np.mean([v["f1"] for v in f1s.values()]))
        log(f"C={C:g}: validation macro-F1 over categories {macro:.4f}")
        if best is None or macro > best[0]:
            best = (macro, C, W, b, thr)
    macro_va, C, W, b, thr = best
    thresholds = {c: float(t) for c, t in zip(HATE_CATEGORIES, thr)}
    meta = {
        "task": "hate_categories", "format": "hashed-linear", "labels": list(HATE_CATEGORIES),
        "features": CONFIG.to_dict(), "thresholds": thresholds,
        "training": {"rows": int(A.shape[0]), "kmhas_train": int(tr.sum()), "other_clean_negatives": len(extra),
                     "C": C, "class_weight": "balanced per category"},
    }
    export_head(OUT, W, b, idf, "multilabel", meta, dtype="float16")
    P = onnx_probs(OUT, [norm[i] for i in np.flatnonzero(te)])
    test = per_category(Y[te], P, thr)
    any_true, any_pred = Y[te].any(1), (P >= np.array(thr)).any(1)
    meta["metrics_test"] = {
        "n": int(te.sum()), "per_category": test,
        "macro_f1": round(float(np.mean([v["f1"] for v in test.values()])), 4),
        "micro_f1": round(float(f1_score(Y[te], (P >= np.array(thr)).astype(int), average="micro")), 4),
        "any_category_f1": round(float(f1_score(any_true, any_pred)), 4),
    }
    meta["metrics_valid"] = {"n": int(va.sum()), "macro_f1": round(macro_va, 4)}
    meta["sha256"] = sha256(OUT / "model.onnx")
    write_json(OUT / "model.json", meta)
    log("test", meta["metrics_test"])


if __name__ == "__main__":
    main()
