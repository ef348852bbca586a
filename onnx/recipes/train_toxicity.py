"""Train the toxicity head (hashed-linear, sigmoid) from ko/kocohub_hate, ko/curse, ko/malicious.

    .venv/bin/python onnx/recipes/train_toxicity.py

Held-out split: kocohub dev.tsv + a seeded 10 % of the other two sources, after de-duplication
by normalised text across all sources (malicious partly derives from kocohub).
"""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (DATA, ROOT, SHARED_FEATURES, FeatureConfig, count_matrix_rules, export_head, fit_lr, idf_from,  # noqa: E402
                    log, macro_f1, norm_all, onnx_probs, text_key, weighted)

import numpy as np  # noqa: E402

csv.field_size_limit(sys.maxsize)
OUT = ROOT / "onnx" / "toxicity"
N_BUCKETS = 1 << 19
C = 8.0


def load():
    rows = []  # (text, label, source, split)
    for split, fn in (("train", "train.tsv"), ("dev", "dev.tsv")):
        with open(DATA / "ko/kocohub_hate" / fn, encoding="utf-8") as f:
            for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                rows.append((r["comments"], 0 if r["hate"] == "none" else 1, "kocohub", split))
    for line in (DATA / "ko/curse/dataset.txt").read_text(encoding="utf-8").splitlines():
        if "|" not in line:
            continue
        t, lab = line.rsplit("|", 1)
        if lab.strip() in ("0", "1") and t.strip():
            rows.append((t, int(lab), "curse", ""))
    with open(DATA / "ko/malicious/Dataset.csv", encoding="utf-8-sig") as f:
        for r in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(r) < 2 or r[1].strip() not in ("0", "1"):
                continue
            rows.append((r[0], 1 - int(r[1]), "malicious", ""))  # lable 0 = malicious
    return rows


def main():
    rows = load()
    rng = random.Random(13)
    by_key: dict[str, list] = {}
    for t, y, src, split in rows:
        k = text_key(t)
        if k in by_key:
            by_key[k][1] = max(by_key[k][1], y)  # conflicting duplicates: toxic wins
            continue
        if split == "dev":
            sp_ = "test"
        elif split == "train":
            sp_ = "train"
        else:
            sp_ = "test" if rng.random() < 0.10 else "train"
        by_key[k] = [t, y, src, sp_]
    items = list(by_key.values())
    tr = [r for r in items if r[3] == "train"]
    te = [r for r in items if r[3] == "test"]
    log(f"{len(rows)} rows, {len(items)} unique; train {len(tr)}, test {len(te)}; toxic share "
        f"{np.mean([r[1] for r in items]):.3f}")
    cfg = SHARED_FEATURES
    ntr, nte = norm_all([r[0] for r in tr]), norm_all([r[0] for r in te])
    ytr, yte = np.array([r[1] for r in tr]), np.array([r[1] for r in te])
    Xtr = count_matrix_rules(ntr, N_BUCKETS, cfg, None)
    idf = idf_from(Xtr)
    A = weighted(Xtr, idf)
    # choose C and the threshold on a 10 % tuning split of the training rows
    idx = np.random.default_rng(0).permutation(len(tr))
    cut = len(tr) // 10
    tu, fi = idx[:cut], idx[cut:]
    best = None
    for c in (2.0, 4.0, 8.0, 16.0):
        m, _, _ = fit_lr(A[fi], ytr[fi], c, class_weight="balanced")
        p = m.predict_proba(A[tu])[:, 1]
        for thr in np.arange(0.3, 0.71, 0.05):
            f1 = macro_f1(ytr[tu], (p >= thr).astype(int))
            if best is None or f1 > best[0]:
                best = (f1, c, float(thr))
    log(f"tuning: macro-F1 {best[0]:.4f} at C={best[1]}, threshold={best[2]:.2f}")
    _, W, b = fit_lr(A, ytr, best[1], class_weight="balanced")
    meta = {
        "task": "toxicity", "format": "hashed-linear", "labels": ["clean", "toxic"],
        "features": cfg.to_dict(), "threshold": round(best[2], 3),
        "training": {"rows": len(tr), "sources": ["ko/kocohub_hate", "ko/curse", "ko/malicious"], "C": best[1]},
    }
    export_head(OUT, W, b, idf, "sigmoid", meta)
    P = onnx_probs(OUT, nte)[:, 1]
    pred = (P >= best[2]).astype(int)
    res = {"n": int(len(yte)), "accuracy": float((pred == yte).mean()), "macro_f1": macro_f1(yte, pred)}
    for src in ("kocohub", "curse", "malicious"):
        msk = np.array([r[2] == src for r in te])
        res[f"macro_f1_{src}"] = macro_f1(yte[msk], pred[msk])
        res[f"n_{src}"] = int(msk.sum())
    meta["metrics_heldout"] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in res.items()}
    from common import write_json, sha256  # noqa: E402
    meta["sha256"] = sha256(OUT / "model.onnx")
    write_json(OUT / "model.json", meta)
    log("held-out", meta["metrics_heldout"])


if __name__ == "__main__":
    main()
