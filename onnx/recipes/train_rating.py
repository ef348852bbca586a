"""Train the 1-10 rating regressor (hashed-linear ridge, exported as a sigmoid head) and measure it.

    .venv/bin/python onnx/recipes/train_rating.py [--out DIR] [--alphas 1,3]   # default onnx/rating

The shipped model: ``--alphas 1,3`` with the defaults below (jamo 2-6, 2**22 buckets); see
onnx/rating/CARD.md for figures and time.

Data: ../shared/data/nsmc/nsmc_raw_ratings.tsv.gz (638k Naver movie reviews with their 1-10
rating; CC0), minus the predictor's dev set (../shared/data/predict/mentions.jsonl): every row
whose id equals a dev ``post_id`` suffix (``naver_movie:<id>``) and every row whose text equals a
dev text (exactly, or after ``scoring.normalise``) is removed before anything is fitted.

Features: the shared hashed char 1-5 / eojeol 1-2 n-grams + hint tokens (``SHARED_FEATURES``,
the configuration of every shipped head) plus jamo 2-6-grams (RATING_JAMO; 0,0 = off), 2**22
buckets (RATING_BUCKETS), idf-weighted and L2-normalised exactly
as the hashed-linear ONNX graph computes them. Model: ridge regression of the raw rating
(sklearn ``Ridge``, sparse_cg). ``alpha`` is chosen on a seeded held-out cut of the raw file
(20,000 rows, never fitted on): text-level RMSE. The dev movies are never used here.

Export: the shipped ``hashed-linear`` format has probability heads only, so the regression is
stored as a ``sigmoid`` head whose logit is ``(rating - CENTER) / SCALE``:
``rating = CENTER + SCALE * logit(p)`` (``scoring.rating.RatingModel`` does the inversion;
``model.json`` ``output`` records CENTER and SCALE). Exact up to float rounding.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (DATA, ROOT, SHARED_FEATURES, FeatureConfig, count_matrix, idf_from, log, norm_all,  # noqa: E402
                    predict_dev_filter, sha256, weighted, write_json)

import numpy as np  # noqa: E402

csv.field_size_limit(sys.maxsize)
OUT = ROOT / "onnx" / "rating"
N_BUCKETS = int(os.environ.get("RATING_BUCKETS", str(1 << 22)))
# jamo n-gram orders as in the sentiment head (0,0 = off)
JAMO = tuple(int(x) for x in os.environ.get("RATING_JAMO", "2,6").split(","))
CENTER, SCALE = 5.5, 2.0
HELD_OUT = 20_000
WEIGHTS_DTYPE = "float16"


def load_rows():
    is_dev = predict_dev_filter()
    rows, dropped = [], {"id": 0, "text": 0}
    with gzip.open(DATA / "nsmc" / "nsmc_raw_ratings.tsv.gz", "rt", encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            doc, rating = r.get("document") or "", r.get("rating") or ""
            if not doc.strip() or not rating.isdigit():
                continue
            if match := is_dev(r["id"], doc):
                dropped[match] += 1
                continue
            rows.append((doc, int(rating)))
    return rows, {"dev_review_ids": is_dev.review_ids, "dropped_by_id": dropped["id"], "dropped_by_text": dropped["text"]}


def main() -> None:
    from sklearn.linear_model import Ridge

    from scoring.linear import build_onnx

    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--alphas", default="1,3", help="ridge alphas tried on the held-out cut")
    args = ap.parse_args()
    out = args.out.resolve()
    work = out / "_work"
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    rows, excluded = load_rows()
    log(f"rows {len(rows)} after excluding the dev set: {excluded}")
    random.Random(20261204).shuffle(rows)
    held, train = rows[:HELD_OUT], rows[HELD_OUT:]
    cfg = FeatureConfig(**{**SHARED_FEATURES.to_dict(), "jamo_min": JAMO[0], "jamo_max": JAMO[1]})
    Xtr = count_matrix(norm_all([t for t, _ in train]), N_BUCKETS, cfg)
    ytr = np.array([y for _, y in train], np.float64)
    idf = idf_from(Xtr)
    A = weighted(Xtr, idf)
    del Xtr
    Xh = count_matrix(norm_all([t for t, _ in held]), N_BUCKETS, cfg)
    Ah = weighted(Xh, idf)
    yh = np.array([y for _, y in held], np.float64)
    log(f"features: train nnz {A.nnz}, {time.time() - t0:.0f}s")
    best = None
    tried = {}
    for alpha in [float(a) for a in args.alphas.split(",")]:
        t1 = time.time()
        m = Ridge(alpha=alpha, solver="sparse_cg", fit_intercept=True, max_iter=400, tol=1e-4)
        m.fit(A, ytr)
        ph = np.clip(m.predict(Ah), 1, 10)
        rmse = float(np.sqrt(np.mean((ph - yh) ** 2)))
        tried[alpha] = {"rmse": round(rmse, 4), "pearson": round(float(np.corrcoef(ph, yh)[0, 1]), 4),
                        "fit_s": round(time.time() - t1, 1)}
        log(f"alpha {alpha}: held-out RMSE {rmse:.4f} r {tried[alpha]['pearson']} ({tried[alpha]['fit_s']}s)")
        if best is None or rmse < best[0]:
            best = (rmse, alpha, m.coef_.astype(np.float32), float(m.intercept_))
    _, alpha, w, b = best
    W = (w / SCALE).reshape(-1, 1).astype(np.float32)
    bias = np.array([(b - CENTER) / SCALE], np.float32)
    build_onnx(out / "model.onnx", W, bias, idf, "sigmoid", dtype=WEIGHTS_DTYPE)
    meta = {
        "task": "rating", "format": "hashed-linear", "labels": ["1-p", "p"], "onnx": "model.onnx",
        "head": "sigmoid", "n_buckets": N_BUCKETS, "features": cfg.to_dict(), "weights_dtype": WEIGHTS_DTYPE,
        "output": {"kind": "rating", "formula": "rating = center + scale * logit(p)", "center": CENTER,
                   "scale": SCALE, "min": 1.0, "max": 10.0},
        "licence": "CC0 (e9t/nsmc raw ratings)",
        "training": {"source": "nsmc/nsmc_raw_ratings.tsv.gz minus the predictor dev set and a held-out cut",
                     "rows": len(train), "held_out_rows": len(held), "excluded": excluded, "model": "ridge",
                     "alpha": alpha, "alphas_tried": tried},
    }
    write_json(out / "model.json", meta)
    # measure through the exported ONNX file (the serving path)
    from scoring.rating import RatingModel

    rm = RatingModel(out, ["CPUExecutionProvider"])
    pr = rm.predict([t for t, _ in held])
    rmse = float(np.sqrt(np.mean((pr - yh) ** 2)))
    base = float(np.sqrt(np.mean((yh - ytr.mean()) ** 2)))
    meta["metrics"] = {"held_out": {"n": len(held), "rmse": round(rmse, 4), "rmse_predicting_the_mean": round(base, 4),
                                    "pearson": round(float(np.corrcoef(pr, yh)[0, 1]), 4),
                                    "mae": round(float(np.mean(np.abs(pr - yh))), 4)}}
    meta["training"]["seconds"] = round(time.time() - t0, 1)
    meta["sha256"] = sha256(out / "model.onnx")
    write_json(out / "model.json", meta)
    log("metrics", meta["metrics"], f"total {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
