"""How well ``brand_sentiment`` ranks movies by what LATER reviewers thought (Spearman).

    .venv/bin/python bench/predict_eval.py [--mentions F] [--truth F] [--rating-model DIR] [--folds 5]

Data: ../shared/data/predict/mentions.jsonl (1,000 movies x their first 20 Naver reviews, raw
mentions with brand = movie id) and truth.json (brand -> mean 1-10 rating of all later reviews).
The file goes through exactly what ``truevoice predict FILE`` runs (``streams.cli.predict``:
the score agent's ``score_records`` with the shipped text models, the rating regressor, grouping
by brand, ``scoring.predictor``), then movies are ranked by ``brand_sentiment``.

Printed:
* Spearman of the shipped configuration (scoring/predictor.json) over all movies, and for the
  more and the less confident half (split at the median confidence), with the spread of the truth
  and the mean absolute error of the mean predicted rating against the truth in each half, and
  the rank correlation of confidence with that absolute error (Spearman within a half depends on
  the half's range of truths: the confident half holds the near-unanimous, mostly top-rated
  movies, whose truths are bunched together);
* the text-mean baseline: mean P(pos) - P(neg) of the sentiment model per movie;
* sentiment only (rating_blend 0) and rating only (rating_blend 1);
* K-fold cross-validation over disjoint movie subsets: ``rating_blend`` chosen on K-1 folds by
  Spearman, measured on the held-out fold (mean over folds, and pooled out-of-fold).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data" / "predict"
BLENDS = [round(0.1 * i, 1) for i in range(11)]


def spearman(a, b) -> float:
    try:
        from scipy.stats import spearmanr

        return float(spearmanr(a, b).statistic)
    except ImportError:  # rank correlation with average ranks for ties
        def ranks(x):
            order = sorted(range(len(x)), key=lambda i: x[i])
            r = [0.0] * len(x)
            i = 0
            while i < len(x):
                j = i
                while j + 1 < len(x) and x[order[j + 1]] == x[order[i]]:
                    j += 1
                for k in range(i, j + 1):
                    r[order[k]] = (i + j) / 2
                i = j + 1
            return r

        ra, rb = ranks(list(a)), ranks(list(b))
        ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
        cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
        va = sum((x - ma) ** 2 for x in ra) ** 0.5
        vb = sum((y - mb) ** 2 for y in rb) ** 0.5
        return cov / (va * vb) if va and vb else 0.0


def brand_scores(groups, truth, blend):
    from scoring.predictor import PredictorConfig
    from streams.cli.predict import predict_groups

    cfg = PredictorConfig.load(overrides=None if blend is None else {"rating_blend": blend})
    return {r["campaign_id"]: r for r in predict_groups(groups, cfg) if r["campaign_id"] in truth}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mentions", type=Path, default=DATA / "mentions.jsonl")
    ap.add_argument("--truth", type=Path, default=DATA / "truth.json")
    ap.add_argument("--rating-model", type=Path, help="rating model folder (default: the shipped onnx/rating)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = ap.parse_args()

    from scoring.rating import RatingModel, add_ratings
    from streams.cli.predict import group_mentions, score_file

    truth = {k: v["mean_rating"] for k, v in json.loads(args.truth.read_text(encoding="utf-8")).items()}
    t0 = time.time()
    # a fixed pseudonym salt: the anonymiser rewrites names in the texts, so the figures repeat exactly
    scored, letters = score_file(args.mentions, salt=b"predict-eval/fixed-salt/0001", progress=False)
    t_score = time.time() - t0
    t1 = time.time()
    add_ratings(scored, RatingModel(args.rating_model) if args.rating_model or RatingModel.available() else None)
    t_rate = time.time() - t1
    groups = group_mentions(scored, by_campaign=False)
    movies = sorted(m for m in groups if m in truth)
    print(f"{len(scored)} mentions scored in {t_score:.1f}s (+ rating {t_rate:.1f}s), {len(letters)} invalid, "
          f"{len(movies)} movies with truth")
    out: dict = {"movies": len(movies)}

    # baseline: mean P(pos) - P(neg) over every mention of the movie
    base = {m: sum(d["sentiment"] for d in groups[m]) / len(groups[m]) for m in movies}
    y = [truth[m] for m in movies]
    out["baseline_text_mean"] = spearman([base[m] for m in movies], y)

    by_blend = {b: brand_scores(groups, truth, b) for b in BLENDS}
    shipped = brand_scores(groups, truth, None)
    out["shipped"] = spearman([shipped[m]["brand_sentiment"] for m in movies], y)
    out["sentiment_only"] = spearman([by_blend[0.0][m]["brand_sentiment"] for m in movies], y)
    out["rating_only"] = spearman([by_blend[1.0][m]["brand_sentiment"] for m in movies], y)

    # confidence halves
    conf = sorted(movies, key=lambda m: shipped[m]["confidence"])
    half = len(conf) // 2
    for name, ms in (("less_confident_half", conf[:half]), ("more_confident_half", conf[half:])):
        fig = {"n": len(ms), "spearman": spearman([shipped[m]["brand_sentiment"] for m in ms], [truth[m] for m in ms]),
               "mean_confidence": sum(shipped[m]["confidence"] for m in ms) / len(ms),
               "truth_sd": _sd([truth[m] for m in ms])}
        rated = [m for m in ms if shipped[m]["signals"].get("mean_rating") is not None]
        if rated:
            fig["mae_mean_rating"] = sum(abs(shipped[m]["signals"]["mean_rating"] - truth[m]) for m in rated) / len(rated)
        out[name] = fig

    # does confidence track the error? (range-free, unlike Spearman within a half)
    rated = [m for m in movies if shipped[m]["signals"].get("mean_rating") is not None]
    if rated:
        out["spearman_confidence_vs_abs_error"] = spearman(
            [shipped[m]["confidence"] for m in rated], [abs(shipped[m]["signals"]["mean_rating"] - truth[m]) for m in rated])

    # K-fold CV over disjoint movie subsets: the blend is chosen on K-1 folds, measured on the rest
    order = movies[:]
    random.Random(args.seed).shuffle(order)
    folds = [order[i::args.folds] for i in range(args.folds)]
    fold_scores, chosen, oof = [], [], {}
    for k, test in enumerate(folds):
        train = [m for j, f in enumerate(folds) if j != k for m in f]
        best = max(BLENDS, key=lambda b: spearman([by_blend[b][m]["brand_sentiment"] for m in train],
                                                  [truth[m] for m in train]))
        chosen.append(best)
        fold_scores.append(spearman([by_blend[best][m]["brand_sentiment"] for m in test], [truth[m] for m in test]))
        oof.update({m: by_blend[best][m]["brand_sentiment"] for m in test})
    out["cv"] = {"folds": args.folds, "chosen_blends": chosen, "fold_spearman": fold_scores,
                 "mean_fold_spearman": sum(fold_scores) / len(fold_scores),
                 "pooled_out_of_fold_spearman": spearman([oof[m] for m in movies], y),
                 "baseline_mean_fold_spearman": sum(spearman([base[m] for m in f], [truth[m] for m in f])
                                                    for f in folds) / len(folds)}
    out["by_blend"] = {str(b): spearman([by_blend[b][m]["brand_sentiment"] for m in movies], y) for b in BLENDS}

    print(f"text-mean baseline (mean P(pos)-P(neg))     Spearman {out['baseline_text_mean']:.4f}")
    print(f"sentiment only (rating_blend 0)              Spearman {out['sentiment_only']:.4f}")
    print(f"rating regressor only (rating_blend 1)       Spearman {out['rating_only']:.4f}")
    print(f"shipped predictor.json                       Spearman {out['shipped']:.4f}")
    for name in ("more_confident_half", "less_confident_half"):
        f = out[name]
        extra = f", MAE of mean rating {f['mae_mean_rating']:.3f}" if "mae_mean_rating" in f else ""
        print(f"  {name:24s} n={f['n']} Spearman {f['spearman']:.4f} (mean confidence {f['mean_confidence']:.3f}, "
              f"truth sd {f['truth_sd']:.3f}{extra})")
    if "spearman_confidence_vs_abs_error" in out:
        print(f"  Spearman(confidence, |mean predicted rating - truth|) {out['spearman_confidence_vs_abs_error']:.4f} "
              "(negative: the more confident, the smaller the error)")
    cv = out["cv"]
    print(f"{cv['folds']}-fold CV over movies: mean fold Spearman {cv['mean_fold_spearman']:.4f} "
          f"(baseline {cv['baseline_mean_fold_spearman']:.4f}), pooled out-of-fold {cv['pooled_out_of_fold_spearman']:.4f}, "
          f"blends chosen {cv['chosen_blends']}")
    print("by blend: " + ", ".join(f"{b}: {v:.4f}" for b, v in out["by_blend"].items()))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


def _sd(xs):
    m = sum(xs) / len(xs)
    return (sum((x - m) ** 2 for x in xs) / len(xs)) ** 0.5


if __name__ == "__main__":
    sys.exit(main())
