"""Train the toxicity head (hashed-linear, sigmoid) on every Korean comment set with toxicity labels.

    nice -n 10 .venv/bin/python onnx/recipes/train_toxicity.py      # ~4 min on 2 cores

Sources (toxicity_sources.py): kocohub_hate, curse, malicious, kmhas, and weak clean praise
(NSMC reviews rated 10) that trains every fold. The figure that matters is
leave-one-source-out (LOSO): for each source, train on the other three and score it, because
the comments the product meets come from sources we do not have. Each fold is compared with a
char + word TF-IDF logistic regression (sklearn) trained on the same rows (loso.py).

What the LOSO table chose (onnx/toxicity/CARD.md): jamo n-grams beside the character and word
n-grams (the sentiment head's feature configuration, so serving shares its hashing pass), every
source and class weighted equally, C from a small grid and the decision threshold on the
four folds' held-out predictions pooled (each scored by a model that never saw its source),
not on a cut of the training rows.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (ROOT, FeatureConfig, count_matrix, export_head, fit_lr, idf_from, log,  # noqa: E402
                    norm_all, onnx_probs, sha256, weighted, write_json)
from loso import loso_predictions, loso_table, tfidf_baseline  # noqa: E402
from toxicity_sources import (SOURCES, chatbot_utterances, clean_praise, load_all,  # noqa: E402
                              source_balanced_weights, unique_rows)

import numpy as np  # noqa: E402

OUT = ROOT / "onnx" / "toxicity"
N_BUCKETS = 1 << 20
# the sentiment head's configuration: TextScorer hashes a batch once for both
CONFIG = FeatureConfig(en_lexicon=True, jamo_min=2, jamo_max=6)
C_GRID = (1.0, 4.0)
BASELINE_C_GRID = (1.0, 4.0)


def hashed_lr(X, y, sources, C):
    """fit(train_mask) -> predict(test_mask): our model, as LOSO trains it."""
    def fit_predict(tr, te):
        idf = idf_from(X[tr])
        m, _, _ = fit_lr(weighted(X[tr], idf), y[tr], C, sample_weight=source_balanced_weights(sources[tr], y[tr]))
        return m.predict_proba(weighted(X[te], idf))[:, 1]
    return fit_predict


def main():
    texts, y, sources, in_source = unique_rows(load_all() + clean_praise())
    log(f"{len(texts)} unique texts; per source {dict(zip(SOURCES, in_source.sum(0).tolist()))}; "
        f"toxic share {y.mean():.3f}")
    norm = norm_all(texts)
    X = count_matrix(norm, N_BUCKETS, CONFIG)

    runs = {}
    for C in C_GRID:
        runs[f"hashed C={C:g}"] = loso_predictions(hashed_lr(X, y, sources, C), y, in_source)
        log(f"hashed C={C:g}", loso_table(runs[f"hashed C={C:g}"])["mean_at_0.5"])
    for C in BASELINE_C_GRID:
        runs[f"tfidf C={C:g}"] = loso_predictions(tfidf_baseline(texts, y, C), y, in_source)
        log(f"tfidf C={C:g}", loso_table(runs[f"tfidf C={C:g}"])["mean_at_0.5"])
    tables = {name: loso_table(res) for name, res in runs.items()}
    ours = max((n for n in tables if n.startswith("hashed")), key=lambda n: tables[n]["mean_pooled_threshold"])
    C = float(ours.split("=")[1])
    threshold = tables[ours]["pooled_threshold"]
    log(f"chosen {ours}, threshold {threshold} (pooled held-out predictions)")

    idf = idf_from(X)
    _, W, b = fit_lr(weighted(X, idf), y, C, sample_weight=source_balanced_weights(sources, y))
    meta = {
        "task": "toxicity", "format": "hashed-linear", "labels": ["clean", "toxic"],
        "features": CONFIG.to_dict(), "threshold": threshold,
        "training": {"rows": int(len(y)), "sources": [f"ko/{s}" for s in ("kocohub_hate", "curse", "malicious",
                                                                            "kmhas")],
                     "weak_clean": "nsmc_praise (5,000 NSMC reviews rated 10, no profanity; every fold)",
                     "C": C, "weighting": "every source and class equal"},
    }
    export_head(OUT, W, b, idf, "sigmoid", meta, dtype="float16")
    # the exported file scores like the trained weights (float16 table, serving code path)
    p = onnx_probs(OUT, norm[:2000])[:, 1]
    ref = 1 / (1 + np.exp(-(weighted(X[:2000], idf) @ W[:, 0] + b[0])))
    meta["export_max_abs_diff"] = round(float(np.abs(p - ref).max()), 5)
    meta["loso"] = {"chosen": ours, "runs": tables}
    chat = chatbot_utterances()
    meta["chatbot_flagged_share"] = round(float((onnx_probs(OUT, norm_all(chat))[:, 1] >= threshold).mean()), 4)
    log(f"everyday utterances (ko/chatbot, {len(chat)}) flagged toxic: {meta['chatbot_flagged_share']:.2%}")
    meta["sha256"] = sha256(OUT / "model.onnx")
    write_json(OUT / "model.json", meta)
    log("export max |p_onnx - p_trained|", meta["export_max_abs_diff"])
    for name, t in tables.items():
        log(name, {s: t["per_source"][s] for s in SOURCES}, "mean@0.5", t["mean_at_0.5"],
            "mean nested", t["mean_nested_threshold"])


if __name__ == "__main__":
    main()
