"""Train the sentiment head (hashed-linear, hierarchical neg/neu/pos) and measure it.

    nice -n 10 .venv/bin/python onnx/recipes/train_sentiment.py [--out DIR]   # default onnx/sentiment

Features: the shared hashed char 1-5 / eojeol 1-2 n-grams + hint tokens (the slang dictionary's
pos/neg cues and its context-dependent intensifiers paired with them: ``scoring.normalise.HINTS``),
plus (shipped: SENTIMENT_JAMO=2,6, the range toxicity shares; 0,0 turns it off) jamo n-grams
(``FeatureConfig.jamo_min/jamo_max``: char n-grams of the NFKD text, Hangul split into jamo)
hashed into the same 2**22 buckets; TextScorer then computes the shared pass once and only
adds the jamo family for this head.

Two logistic-regression heads over the same hashed char/word n-gram features (NB-weighted):
  * polar:   P(pos | polar), trained on NSMC ratings_train (binary) + a small hand-written
             English seed set (onnx/sentiment/english_seed.tsv) + the polar rows beyond NSMC;
  * neutral: P(neutral), neutral (ratings 5-7) vs polar, trained on nsmc3_train (balanced) +
             every row beyond NSMC.
Beyond NSMC (``sentiment_sources``): KOTE comments (emotions mapped to polarity), chatbot
sentences, sarcasm tweets, 3i4k information questions, weak labels (stated star ratings, slang
and emoticons) on unlabelled comments, and hand-written brand mentions and reviews (social,
genre and review seeds).
A ridge regression of the star rating over the raw crawl (nsmc_raw_ratings, ~567,000 reviews
rated 1-10) is folded into the polar column (RIDGE_* below): still one linear column.
probs = [(1-pn)(1-pp), pn, (1-pn)pp], so the binary decision P(pos) vs P(neg) is the polar
column's alone.

Held-out splits (seeded, cut before anything is fitted; every text in them is removed from
every training set by normalised-text hash):
  * val_binary: 20,000 rows of ratings_train.txt  -> binary accuracy (neutral ignored)
  * val_3class: 5,000 rows per class of nsmc3_train -> 3-class accuracy / macro-F1
  * val_community: 1,000 KOTE + 1,000 chatbot rows -> 3-class accuracy
All three are also written to onnx/sentiment/_work/ (git-ignored) for ``models eval``. The
held-back dev set (dev_social.tsv) is only scored at the end, for the card.
"""

from __future__ import annotations

import csv
import os
import gzip
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (DATA, ROOT, SHARED_FEATURES, FeatureConfig, count_matrices, count_matrix, fit_lr, fit_nb_lr,  # noqa: E402
                    idf_from, log, macro_f1, nb_ratio, norm_all, onnx_probs, predict_dev_filter, sha256, text_key,
                    weighted, write_json)
import sentiment_sources as sources  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

OUT = ROOT / "onnx" / "sentiment"
WORK = OUT / "_work"
N_BUCKETS = 1 << 22
WEIGHTS_DTYPE = "float16"  # storage only (Gather then Cast to float32): keeps model.onnx < 50 MB
# jamo n-gram orders (0,0 = off). Shipped: 2-6 with polar C 8, the range toxicity and
# hate_categories use (one jamo pass for the three heads); 3-5 measured no better (CARD.md).
JAMO = tuple(int(x) for x in os.environ.get("SENTIMENT_JAMO", "2,6").split(","))
# negation scope (scoring.negation): a negated word's features count -1 ("트러블 하나도 없음", "안 튼튼해요")
NEGATION = os.environ.get("SENTIMENT_NEGATION", "1") == "1"
CFG = FeatureConfig(**{**SHARED_FEATURES.to_dict(), "jamo_min": JAMO[0], "jamo_max": JAMO[1], "negation": NEGATION})
# the polar column reads the negated words' features (at -1 net); the neutral head the text's own
# features only (whether a text takes a side does not turn with a negation: 안 좋아요 takes one)
SIGNED = 1 if NEGATION else None
# with jamo, polar C chosen on the tuning cut's polar rows (never seen by the polar head):
# jamo 2-6 C 4 -> 0.8891, C 8 -> 0.8911; jamo 3-5 C 8 -> 0.8939, C 16 -> 0.8934
C_POLAR = float(os.environ.get("SENTIMENT_C_POLAR", "8"))
C_NEUTRAL = 4.0
EN_WEIGHT = 5.0
TUNE3 = 6000
# beyond NSMC (sentiment_sources; weights per row): community comments and chat with polarity,
# hand-written brand mentions, and weak labels (stated star ratings, slang and emoticons)
SOCIAL_WEIGHT = 5.0      # onnx/sentiment/{social,genre,review}_seed.tsv, hand-written like english_seed.tsv
COMMUNITY_WEIGHT = 1.0   # KOTE (emotions mapped to polarity) and chatbot sentences
SARCASM_WEIGHT = 0.3     # tweets tagged #sarcasm -> negative (hashtag labels are noisy)
WEAK_WEIGHT = 0.2        # weak labels on unlabelled text and the raw crawl's rating-8 reviews
QUESTION_WEIGHT = 0.5    # 3i4k information questions -> neutral (neutral head only)
# the extra rows at half weight in the polar head were tried: the same tuning-cut figures, and a
# lower agreement with the bundled sample's intended labels (66.4 % against 67.5 %)
N_RATING8 = 0  # 10,000 rating-8 reviews as weak positives: binary 0.8786, 3-class 0.6962 (see CARD.md)
N_QUESTIONS = 5000
N_EXTRA_VAL = 1000       # held out of the KOTE and of the chatbot rows each, for the card
# adding the raw crawl's unseen 5-7 reviews to the neutral head was tried: val 3-class 0.6945
# against 0.6976 without (the extra crawl is distributed unlike the NSMC samples), so it is off
RAW_NEUTRAL = False
# A ridge regression of the raw crawl's star rating (1-10, every review but the held-out and
# tuning texts and the predictor's dev reviews: ~567,000) is folded into the polar column: binary
# decision = a * polar logit + b * (rating - 5.5) + c, with a, b, c fitted on the tuning cut's
# polar rows, is one linear column again, so the graph and its size stay as they are. It reads
# the polar rows beyond NSMC too (4.5 either side of the crawl's mean, RIDGE_EXTRA_WEIGHT times
# their own weight), so that the column keeps what the community rows and seeds taught the polar
# head. The same data in the polar LR did not help ("all 252,630 crawl positives", CARD.md); as a
# regression of the rating it does.
RIDGE_ALPHA = 1.0          # the rating recipe's choice (held-out RMSE)
# at 4 the community split fell to 0.731 (0.7405 at 16), with targets around 5.5; seen there: CARD.md
RIDGE_EXTRA_WEIGHT = 16.0
# a first run on this tuning cut: NB C=1 0.7388 > NB C=4 0.7313 = plain C=4
# with jamo features (tuning cut): NB C 1 0.7085, NB C 2 0.7090, plain C 4 0.7040, NB+plain <= 0.7075
# lowering the neutral logit by m * |polar logit| (m 0.1-0.5) was tried: no gain on the tuning cut
NEUTRAL_VARIANTS = (("nb", 1.0), ("nb", 2.0)) if JAMO[1] else (("nb", 0.5), ("nb", 1.0), ("nb", 2.0))


def read_tsv_gz(path, cols):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        r = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [tuple(row[c] for c in cols) for row in r if all(row.get(c) not in (None, "") for c in cols)]


def matrices(texts: list[str]):
    """(X, N) of normalised texts: their own features' counts and their negated words'."""
    return count_matrices(texts, N_BUCKETS, CFG)


def fit_head(X, N, y, C, sample_weight=None):
    """NB-weighted logistic regression over the signed features (``N``: the negated words');
    returns (weights folded with NB ratio, bias, idf)."""
    idf = idf_from(X)
    W, b, _ = fit_nb_lr(X, weighted(X, idf, N), y, C, sample_weight=sample_weight)
    return W[:, 0], float(b[0]), idf


def fold_rating_regression(w_pol, b_pol, idf, rated, extra_polar, At, yt):
    """The polar column with a ridge regression of the star rating folded in: returns (w, b, info).

    ``rated`` are (text, rating 1-10) rows, ``extra_polar`` (text, 0/1, weight) rows beyond NSMC
    (target 4.5 below / above the crawl's mean); the combination weights come from a logistic
    regression of the tuning cut's polar rows (``At``, ``yt``) on [polar logit, rating - 5.5]."""
    from sklearn.linear_model import Ridge

    texts = norm_all([t for t, _ in rated] + [t for t, _, _ in extra_polar])
    crawl = np.array([r for _, r in rated], np.float64) - 5.5
    # the polar rows sit +-4.5 around the crawl's mean, not around 5.5: the intercept follows the
    # crawl (mean rating 7.8), so at +-4.5 around 5.5 a negative row pulled its words 6.4 points
    # below it and a positive row 2.6 above, and every word the crawl lacks (delivery, prices,
    # apps) leaned negative: "배송 빠르고" read as 3 stars
    mid = float(crawl.mean())
    target = np.concatenate([crawl, [mid + 4.5 if y else mid - 4.5 for _, y, _ in extra_polar]])
    sw = np.concatenate([np.ones(len(rated)), RIDGE_EXTRA_WEIGHT * np.array([w for _, _, w in extra_polar])])
    Xr, Nr = matrices(texts)
    A = weighted(Xr, idf, Nr)
    del Xr, Nr
    log(f"rating regression: {len(rated)} crawl rows + {len(extra_polar)} polar rows, {A.nnz} features")
    ridge = Ridge(alpha=RIDGE_ALPHA, solver="sparse_cg").fit(A, target, sample_weight=sw)
    del A
    w_r, b_r = ridge.coef_.astype(np.float32), float(ridge.intercept_)
    pol = yt != 1
    Z = np.stack([At[pol] @ w_pol + b_pol, At[pol] @ w_r + b_r], 1)
    _, coef, c = fit_lr(Z, (yt[pol] == 2).astype(int), 1.0, multinomial=True)
    a, b = (float(v) for v in coef[:, 0])
    info = {"rows": len(rated), "extra_rows": len(extra_polar), "alpha": RIDGE_ALPHA,
            "extra_weight": RIDGE_EXTRA_WEIGHT, "polar_logit_weight": round(a, 4),
            "rating_weight": round(b, 4), "offset": round(float(c[0]), 4)}
    return (a * w_pol + b * w_r).astype(np.float32), a * b_pol + b * b_r + float(c[0]), info


def extra_rows(exclude: set[str]):
    """(training rows, held-out community rows) beyond NSMC, as (text, label 0/1/2, weight);
    none of their texts is in ``exclude`` (the NSMC held-out splits, tuning cut and training
    texts) or in each other. The held-out rows are N_EXTRA_VAL KOTE and N_EXTRA_VAL chatbot
    rows, cut with a fixed seed before anything is fitted."""
    community = []
    for rows in (sources.kote(COMMUNITY_WEIGHT), sources.chatbot(COMMUNITY_WEIGHT)):
        rows = sources.dedupe(rows, exclude, text_key)
        random.Random(20261204).shuffle(rows)
        community.append(rows)
    val = [r for rows in community for r in rows[:N_EXTRA_VAL]]
    taken = exclude | {text_key(t) for t, _, _ in val}
    rating8 = sources.nsmc_rating8(WEAK_WEIGHT) if N_RATING8 else []
    random.Random(8).shuffle(rating8)
    # genre_seed.tsv: the brand-mention genres movie reviews lack (news headlines, promotions,
    # announcements, purchase plans, "the problem got fixed" praise, collective complaints);
    # review_seed.tsv: short product and service reviews (defects, delivery, negated praise)
    social = [row for name in ("social_seed.tsv", "genre_seed.tsv", "review_seed.tsv")
              for row in sources.seed(name, SOCIAL_WEIGHT)]
    questions = sources.questions(N_QUESTIONS, QUESTION_WEIGHT)
    rows = (social + community[0][N_EXTRA_VAL:] + community[1][N_EXTRA_VAL:] + questions
            + sources.with_interjections(social, seed=10)
            + sources.sarcasm(SARCASM_WEIGHT) + sources.weak_labels(sources.unlabelled_texts(), WEAK_WEIGHT)
            + rating8[:N_RATING8])
    return sources.dedupe(rows, taken, text_key), val


def three_class_metrics(model_dir, rows):
    P = onnx_probs(model_dir, norm_all([r[0] for r in rows]))
    y = np.array([r[1] for r in rows])
    pred = P.argmax(1)
    pol = y != 1
    return {"n": int(len(y)), "accuracy": round(float((pred == y).mean()), 4), "macro_f1": round(macro_f1(y, pred), 4),
            "polar_rows_binary_accuracy": round(float(((P[pol, 2] > P[pol, 0]).astype(int) * 2 == y[pol]).mean()), 4)}


def read_dev_social():
    """The held-back, hand-labelled brand mentions (onnx/sentiment/DEV_SET.md): for the report only."""
    codes = {"negative": 0, "neutral": 1, "positive": 2}
    with open(ROOT / "onnx" / "sentiment" / "dev_social.tsv", encoding="utf-8") as f:
        return [(r["text"], codes[r["label"]]) for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]


def write_eval_tsv(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("id\tdocument\tlabel\n")
        for i, (t, y) in enumerate(rows):
            f.write(f"{i}\t{t.replace(chr(9), ' ').replace(chr(10), ' ')}\t{y}\n")


def main():
    import argparse

    from scoring.linear import build_onnx

    global OUT, WORK
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=OUT, help="model folder to write (default onnx/sentiment)")
    OUT = ap.parse_args().out.resolve()
    WORK = OUT / "_work"

    # the reaction predictor's dev reviews (bench/predict_eval.py scores them with this model)
    # are fitted on by no head; the splits and the tuning cut are cut as if they were there
    predictor_dev = predict_dev_filter()
    nsmc = read_tsv_gz(DATA / "nsmc/ratings_train.txt.gz", ["id", "document", "label"])
    n3 = read_tsv_gz(DATA / "nsmc/nsmc3_train.tsv.gz", ["id", "document", "label"])
    rng = random.Random(20261202)
    rng.shuffle(nsmc)
    rng.shuffle(n3)
    val_bin = [(t, y) for _, t, y in nsmc[:20000]]
    val3, per = [], {0: 0, 1: 0, 2: 0}
    rest3 = []
    for i, t, y in n3:
        y = int(y)
        if per[y] < 5000:
            per[y] += 1
            val3.append((t, y))
        else:
            rest3.append((i, t, y))
    held = {text_key(t) for t, _ in val_bin} | {text_key(t) for t, _ in val3}
    tr_bin = [(t, int(y)) for i, t, y in nsmc[20000:]
              if (k := text_key(t)) not in held and not predictor_dev(i, t, k)]
    # the neutral head sees each training text once
    seen, tr_neu, tune3 = set(), [], []
    for i, t, y in rest3:
        k = text_key(t)
        if k not in held and k not in seen:
            seen.add(k)
            # a tuning cut (never fitted on by the neutral head) sets the neutral bias offset
            if len(tune3) < TUNE3:
                tune3.append((t, y))
            elif not predictor_dev(i, t, k):
                tr_neu.append((t, y))
    tr_neu = [(t, 1 if y == 1 else 0) for t, y in tr_neu]
    # balanced extra polar labels from the raw crawl: every extra negative (ratings 1-4) and as
    # many extra positives (9-10), texts unseen in NSMC train and in both held-out splits
    # the tuning cut stays unseen by the polar head too, so that tuning figures are unbiased
    tune_keys = {text_key(t) for t, _ in tune3}
    tr_bin = [(t, y) for t, y in tr_bin if text_key(t) not in tune_keys]
    seen_bin = held | tune_keys | {text_key(t) for t, _ in tr_bin}
    extra_neg, extra_pos, raw_neu, raw_polar, rated = [], [], [], [], []
    neu_seen = held | tune_keys | {text_key(t) for t, _ in tr_neu}
    unseen = held | tune_keys
    for review_id, rating, doc in read_tsv_gz(DATA / "nsmc/nsmc_raw_ratings.tsv.gz", ["id", "rating", "document"]):
        r = int(rating)
        k = text_key(doc)
        if predictor_dev(review_id, doc, k):
            continue
        if k not in unseen:  # the rating regression reads every review outside the held-out and tuning texts
            rated.append((doc, r, k))
        if r != 8:
            if k not in neu_seen:  # more rows for the neutral head (5-7 neutral vs 1-4, 9-10)
                neu_seen.add(k)
                (raw_neu if 5 <= r <= 7 else raw_polar).append((doc, 1 if 5 <= r <= 7 else 0))
        if 5 <= r <= 8:
            continue
        if k in seen_bin:
            continue
        seen_bin.add(k)
        (extra_pos if r >= 9 else extra_neg).append((doc, 1 if r >= 9 else 0))
    random.Random(7).shuffle(extra_pos)
    n_pos = sum(y for _, y in tr_bin)
    n_extra_pos = max(0, len(extra_neg) + (len(tr_bin) - n_pos) - n_pos)
    tr_bin = tr_bin + extra_neg + extra_pos[:n_extra_pos]
    log(f"extra raw polar rows: {len(extra_neg)} neg + {min(n_extra_pos, len(extra_pos))} pos (balanced)")
    # neutral head: nsmc3 rows + every unseen raw neutral review + twice as many raw polar ones
    # (the 1:2 neutral:polar prior of a balanced 3-class set)
    random.Random(11).shuffle(raw_polar)
    n_neu_now = sum(y for _, y in tr_neu)
    n_pol_now = len(tr_neu) - n_neu_now
    n_pol_add = max(0, 2 * (n_neu_now + len(raw_neu)) - n_pol_now)
    if RAW_NEUTRAL:
        tr_neu = tr_neu + raw_neu + raw_polar[:n_pol_add]
    log(f"neutral head: +{len(raw_neu)} raw neutral, +{min(n_pol_add, len(raw_polar))} raw polar rows")
    en = []
    with open(ROOT / "onnx" / "sentiment" / "english_seed.tsv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            en.append((row["document"], int(row["label"])))
    extra, val_extra = extra_rows(held | tune_keys | seen_bin | neu_seen)
    val_extra_keys = {text_key(t) for t, _, _ in val_extra}
    rated = [(t, r) for t, r, k in rated if k not in val_extra_keys]
    write_eval_tsv(WORK / "val_community.tsv", [(t, y) for t, y, _ in val_extra])
    # the polar head reads the polar rows of every extra source; the neutral head all of them
    extra_polar = [(t, y // 2, w) for t, y, w in extra if y != 1]
    extra_neu = [(t, int(y == 1), w) for t, y, w in extra]
    log(f"extra rows: {len(extra)} ({len(extra_polar)} polar), held-out community rows {len(val_extra)}")
    log(f"polar train {len(tr_bin)} (+{len(en)} English seed), neutral train {len(tr_neu)}, "
        f"val_binary {len(val_bin)}, val_3class {len(val3)}")
    write_eval_tsv(WORK / "val_binary.tsv", [(t, int(y)) for t, y in val_bin])
    write_eval_tsv(WORK / "val_3class.tsv", val3)

    # polar head
    texts = norm_all([t for t, _ in tr_bin] + [t for t, _ in en] + [t for t, _, _ in extra_polar])
    y = np.array([y for _, y in tr_bin] + [y for _, y in en] + [y for _, y, _ in extra_polar])
    w = np.concatenate([np.ones(len(tr_bin)), np.full(len(en), EN_WEIGHT), [w for _, _, w in extra_polar]])
    X, N = matrices(texts)
    log("polar features", X.nnz, "negated", N.nnz)
    w_pol, b_pol, idf_pol = fit_head(X, N, y, C_POLAR, sample_weight=w)
    del X, N
    # the tuning cut's features (the polar head never saw its texts)
    Xt, Nt = matrices(norm_all([t for t, _ in tune3]))
    At = weighted(Xt, idf_pol, Nt)
    yt = np.array([y for _, y in tune3])
    tpol = yt != 1
    tune_lr_acc = float((((At[tpol] @ w_pol + b_pol) > 0) == (yt[tpol] == 2)).mean())
    w_pol, b_pol, ridge_info = fold_rating_regression(
        w_pol, b_pol, idf_pol, rated, [(t, y, EN_WEIGHT) for t, y in en] + extra_polar, At, yt)
    ridge_info["tuning_polar_rows_accuracy_before"] = round(tune_lr_acc, 4)
    log(f"rating regression folded into the polar column: {ridge_info}")
    # neutral head, on the same idf as the polar head (one idf table in the graph)
    texts3 = norm_all([t for t, _ in tr_neu] + [t for t, _, _ in extra_neu])
    y3 = np.array([y for _, y in tr_neu] + [y for _, y, _ in extra_neu])
    w3 = np.concatenate([np.ones(len(tr_neu)), [w for _, _, w in extra_neu]])
    X3 = count_matrix(texts3, N_BUCKETS, CFG)  # the texts' own features: the neutral head reads no negation
    A3 = weighted(X3, idf_pol)
    At3 = weighted(Xt, idf_pol)  # the tuning cut as the neutral head reads it
    r3 = nb_ratio(X3, y3, w3)
    # the neutral head's variant, C and bias offset are chosen on the tuning cut, by 3-class
    # accuracy computed with the same maths as the graph (the polar column's fold was fitted on
    # the tuning cut's polar rows, so the tuning figure is optimistic; it only ranks variants)
    pp = 1 / (1 + np.exp(-(At @ w_pol + b_pol)))
    tune_polar_acc = float(((pp[tpol] > 0.5) == (yt[tpol] == 2)).mean())
    log(f"polar head on the tuning cut's polar rows (dev): {tune_polar_acc:.4f}")
    best = None
    for kind, c in NEUTRAL_VARIANTS:
        scale = r3 if kind == "nb" else np.ones_like(r3)
        _, W3, b3 = fit_lr((A3 @ sp.diags(scale)).tocsr(), y3, c, sample_weight=w3)
        w_try = W3[:, 0] * scale
        ln = At3 @ w_try + float(b3[0])
        for delta in np.arange(-1.5, 1.51, 0.05):
            pn = 1 / (1 + np.exp(-(ln + delta)))
            probs = np.stack([(1 - pn) * (1 - pp), pn, (1 - pn) * pp], 1)
            acc = float((probs.argmax(1) == yt).mean())
            if best is None or acc > best[0] + 1e-9:
                best = (acc, float(delta), kind, c, w_try, float(b3[0]))
        log(f"neutral {kind} C={c}: best tuning-cut 3-class accuracy so far {best[0]:.4f} ({best[2]}, C={best[3]}, offset {best[1]:+.2f})")
    w_neu, b_neu = best[4], best[5] + best[1]
    C_NEU = best[3]
    log("heads fitted")
    W = np.stack([w_pol, w_neu], 1)
    b = np.array([b_pol, b_neu], np.float32)
    OUT.mkdir(parents=True, exist_ok=True)
    meta = {
        "task": "sentiment", "format": "hashed-linear", "labels": ["negative", "neutral", "positive"],
        "onnx": "model.onnx", "head": "hier3", "n_buckets": N_BUCKETS, "features": CFG.to_dict(),
        "training": {
            "polar": {"rows": len(tr_bin), "english_seed_rows": len(en), "english_weight": EN_WEIGHT,
                      "source": "nsmc/ratings_train.txt.gz minus held-out and the predictor's dev reviews + balanced extra rows of nsmc_raw_ratings.tsv.gz + polar rows of sentiment_sources", "extra_rows": len(extra_polar), "C": C_POLAR, "model": "NB-weighted LR + rating regression folded in",
                      "rating_regression": ridge_info,
                      "tuning_polar_rows_accuracy": round(tune_polar_acc, 4)},
            "neutral": {"rows": len(tr_neu), "source": "nsmc/nsmc3_train.tsv.gz minus held-out, tuning cut and the predictor's dev reviews + rows of sentiment_sources", "extra_rows": len(extra_neu), "C": C_NEU, "weighting": best[2],
                        "bias_offset": round(best[1], 3), "tuning_rows": len(tune3),
                        "tuning_3class_accuracy": round(best[0], 4)},
        },
    }
    build_onnx(OUT / "model.onnx", W, b, idf_pol, "hier3", dtype=WEIGHTS_DTYPE, signed=SIGNED)
    meta["weights_dtype"] = WEIGHTS_DTYPE
    np.save(WORK / "weights_fp32.npy", W)
    np.save(WORK / "bias.npy", b)
    np.save(WORK / "idf_fp32.npy", idf_pol)
    write_json(OUT / "model.json", meta)

    # measure through the exported ONNX file
    Pb = onnx_probs(OUT, norm_all([t for t, _ in val_bin]))
    yb = np.array([int(y) for _, y in val_bin])
    predb = (Pb[:, 2] > Pb[:, 0]).astype(int)
    metrics = {
        "val_binary": {"n": int(len(yb)), "accuracy": round(float((predb == yb).mean()), 4),
                       "macro_f1": round(macro_f1(yb, predb), 4)},
        # with the polar-only accuracy on the 3-class split's non-neutral rows
        "val_3class": three_class_metrics(OUT, val3),
    }
    # the same weights stored as float32, to check that float16 storage costs nothing
    import json as _json
    fp32_dir = WORK / "fp32"
    fp32_dir.mkdir(parents=True, exist_ok=True)
    build_onnx(fp32_dir / "model.onnx", W, b, idf_pol, "hier3", dtype="float32", signed=SIGNED)
    (fp32_dir / "model.json").write_text(_json.dumps({**meta, "weights_dtype": "float32"}), encoding="utf-8")
    Pb32 = onnx_probs(fp32_dir, norm_all([t for t, _ in val_bin]))
    metrics["val_binary"]["accuracy_fp32_weights"] = round(float(((Pb32[:, 2] > Pb32[:, 0]).astype(int) == yb).mean()), 4)
    metrics["val_binary"]["max_abs_prob_diff_fp16_vs_fp32"] = float(np.abs(Pb32 - Pb).max())
    metrics["val_community"] = three_class_metrics(OUT, val_extra)
    # reported only: the dev set is read after every choice was made, and decides nothing
    metrics["dev_social"] = three_class_metrics(OUT, read_dev_social())
    meta["metrics"] = metrics
    meta["sha256"] = sha256(OUT / "model.onnx")
    write_json(OUT / "model.json", meta)
    log("metrics", metrics)


if __name__ == "__main__":
    main()
