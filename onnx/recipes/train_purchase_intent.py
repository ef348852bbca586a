"""Train the purchase-intent head: hashed n-grams + rule tokens (scoring/purchase.py) -> sigmoid.

    .venv/bin/python onnx/recipes/train_purchase_intent.py

Data: onnx/purchase_intent/labelled_ko_en.tsv, written by hand for this project (no public
Korean purchase-intent set exists). Metrics: 5-fold cross-validation on that set (the shipped
model is then fitted on all of it), compared with the rule prior alone. kiwipiepy is used
here, offline, to check the surface "buy verb" rule against morpheme analyses (사/VV,
구매·구입·주문·결제 + 하/XSV) on the labelled set and on ko/chatbot utterances.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (DATA, ROOT, SHARED_FEATURES, count_matrix_rules, export_head, fit_lr, idf_from,  # noqa: E402
                    log, macro_f1, norm_all, onnx_probs, read_labelled_tsv, sha256, weighted, write_json)

import numpy as np  # noqa: E402

OUT = ROOT / "onnx" / "purchase_intent"
N_BUCKETS = 1 << 18
RULES = "purchase"


def read_labelled():
    return read_labelled_tsv(OUT / "labelled_ko_en.tsv")


def kiwi_check(norm_texts):
    from kiwipiepy import Kiwi

    from scoring.purchase import rule_categories

    kiwi = Kiwi()
    buy_nouns = {"구매", "구입", "주문", "결제", "직구", "공구", "예약"}
    agree = both = rule_only = kiwi_only = 0
    for t in norm_texts:
        toks = kiwi.tokenize(t)
        k = any(x.tag == "VV" and x.form == "사" for x in toks) or any(
            x.form in buy_nouns and i + 1 < len(toks) and toks[i + 1].tag == "XSV" for i, x in enumerate(toks))
        r = "buy_verb" in rule_categories(t)
        agree += int(k == r)
        both += int(k and r)
        rule_only += int(r and not k)
        kiwi_only += int(k and not r)
    return {"n": len(norm_texts), "agreement": round(agree / max(1, len(norm_texts)), 4),
            "both": both, "rule_only": rule_only, "kiwi_only": kiwi_only}


def main():
    from scoring.purchase import rule_categories, rule_score

    rows = read_labelled()
    texts = norm_all([t for t, _ in rows])
    y = np.array([lab for _, lab in rows])
    log(f"{len(rows)} labelled rows, {int(y.sum())} positive")
    cfg = SHARED_FEATURES
    rng = np.random.default_rng(7)
    folds = rng.permutation(len(y)) % 5

    def cv_pred(X, c):
        pred = np.zeros(len(y))
        for k in range(5):
            tr, te = folds != k, folds == k
            idf = idf_from(X[tr])
            m, _, _ = fit_lr(weighted(X[tr], idf), y[tr], c, class_weight="balanced")
            pred[te] = m.predict_proba(weighted(X[te], idf))[:, 1]
        return pred

    # the rule-token weight and C are chosen by cross-validated macro-F1 (then reported as such:
    # this selection makes the CV figure slightly optimistic; see CARD.md)
    best = None
    for rw in (1.0, 3.0, 6.0, 10.0):
        Xr = count_matrix_rules(texts, N_BUCKETS, cfg, RULES, rw)
        for c in (1.0, 4.0, 16.0):
            p = cv_pred(Xr, c)
            f1 = macro_f1(y, (p >= 0.5).astype(int))
            log(f"rule_weight={rw} C={c}: CV macro-F1 {f1:.4f}")
            if best is None or f1 > best[0]:
                best = (f1, rw, c, p)
    _, RW, C, pred = best
    X = count_matrix_rules(texts, N_BUCKETS, cfg, RULES, RW)
    prior = np.array([rule_score(rule_categories(t)) for t in texts])
    cv = {"n": int(len(y)), "accuracy": round(float(((pred >= 0.5) == y).mean()), 4),
          "macro_f1": round(macro_f1(y, (pred >= 0.5).astype(int)), 4)}
    pr = {"accuracy": round(float(((prior >= 0.35) == y).mean()), 4),
          "macro_f1": round(macro_f1(y, (prior >= 0.35).astype(int)), 4)}
    log("5-fold CV", cv, "rule prior alone (>=0.35)", pr)
    idf = idf_from(X)
    _, W, b = fit_lr(weighted(X, idf), y, C, class_weight="balanced")
    meta = {
        "task": "purchase_intent", "format": "hashed-linear", "labels": ["no", "yes"],
        "features": cfg.to_dict(), "rules": RULES, "rule_weight": RW,
        "training": {"rows": int(len(y)), "source": "onnx/purchase_intent/labelled_ko_en.tsv (hand-written)", "C": C},
        "metrics_cv5": cv, "metrics_rule_prior": pr,
    }
    export_head(OUT, W, b, idf, "sigmoid", meta)
    P = onnx_probs(OUT, texts)[:, 1]
    meta["train_fit_accuracy"] = round(float(((P >= 0.5) == y).mean()), 4)
    chat = []
    with open(DATA / "ko/chatbot/ChatbotData.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            chat.append(r["Q"])
    chat = norm_all(chat[::6][:2000])
    meta["kiwi_check_labelled"] = kiwi_check(texts)
    meta["kiwi_check_chatbot"] = kiwi_check(chat)
    Pc = onnx_probs(OUT, chat)[:, 1]
    meta["chatbot_share_above_0.5"] = round(float((Pc >= 0.5).mean()), 4)
    meta["sha256"] = sha256(OUT / "model.onnx")
    write_json(OUT / "model.json", meta)
    log({k: meta[k] for k in ("train_fit_accuracy", "kiwi_check_labelled", "kiwi_check_chatbot", "chatbot_share_above_0.5")})


if __name__ == "__main__":
    main()
