"""Leave-one-source-out evaluation of a binary classifier, and the TF-IDF baseline it is held to.

A fold holds one source out: the model trains on every text that no row of that source carries
(de-duplicated texts, so a comment repeated by two sources never sits on both sides) and scores
the held-out source. Thresholds are judged three ways (``loso_table``):

* ``0.5``: the model's own decision point;
* ``nested``: for source S, the threshold that maximises the mean macro-F1 of the *other*
  sources' held-out predictions. S's labels are never used to choose it: an honest figure for a
  source we do not have;
* ``pooled``: the threshold that maximises the mean over all four folds: what we ship.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from sklearn.metrics import f1_score

from toxicity_sources import SOURCES

THRESHOLDS = np.round(np.arange(0.30, 0.701, 0.025), 3)


def loso_predictions(fit_predict: Callable[[np.ndarray, np.ndarray], np.ndarray], y: np.ndarray,
                     in_source: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """source -> (labels, P(toxic)) of its texts, from a model trained without any of them."""
    out = {}
    for j, s in enumerate(SOURCES):
        te = in_source[:, j]
        out[s] = (y[te], np.asarray(fit_predict(~te, te)))
    return out


def _f1(y, p, t) -> float:
    return float(f1_score(y, (p >= t).astype(int), average="macro"))


def _best(res, sources) -> tuple[float, float]:
    """(threshold, mean macro-F1 over ``sources``) maximising the mean; ties: nearest 0.5."""
    scores = [(np.mean([_f1(*res[s], t) for s in sources]), -abs(t - 0.5), float(t)) for t in THRESHOLDS]
    m, _, t = max(scores)
    return t, float(m)


def loso_table(res: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict:
    per = {}
    for s in res:
        t, _ = _best(res, [o for o in res if o != s])
        per[s] = {"n": int(len(res[s][0])), "toxic_share": round(float(res[s][0].mean()), 3),
                  "macro_f1_at_0.5": round(_f1(*res[s], 0.5), 4),
                  "nested_threshold": t, "macro_f1_nested": round(_f1(*res[s], t), 4)}
    pooled, pooled_mean = _best(res, list(res))
    for s in res:
        per[s]["macro_f1_pooled"] = round(_f1(*res[s], pooled), 4)
    return {
        "per_source": per,
        "mean_at_0.5": round(float(np.mean([v["macro_f1_at_0.5"] for v in per.values()])), 4),
        "mean_nested_threshold": round(float(np.mean([v["macro_f1_nested"] for v in per.values()])), 4),
        "pooled_threshold": pooled,
        "mean_pooled_threshold": round(pooled_mean, 4),
    }


def tfidf_baseline(texts: list[str], y: np.ndarray, C: float):
    """The reference: sklearn char (1-5, within words) + word (1-2) TF-IDF, logistic regression,
    on the raw texts, class-balanced. fit(train_mask) -> predict(test_mask)."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    def fit_predict(tr, te):
        tr_t = [texts[i] for i in np.flatnonzero(tr)]
        te_t = [texts[i] for i in np.flatnonzero(te)]
        vc = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5), sublinear_tf=True, min_df=2)
        vw = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)
        A = sp.hstack([vc.fit_transform(tr_t), vw.fit_transform(tr_t)]).tocsr()
        B = sp.hstack([vc.transform(te_t), vw.transform(te_t)]).tocsr()
        m = LogisticRegression(C=C, solver="liblinear", max_iter=300, class_weight="balanced").fit(A, y[tr])
        return m.predict_proba(B)[:, 1]
    return fit_predict
