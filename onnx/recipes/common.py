"""Shared helpers for the hashed-linear recipes (run from the repo root)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scoring.features import FeatureConfig, HashingFeaturizer  # noqa: E402
from scoring.normalise import normalise, slang_terms  # noqa: E402

# The team's data sits beside the checkout (../shared/data); TRUEVOICE_DATA points elsewhere.
DATA = Path(os.environ.get("TRUEVOICE_DATA") or ROOT.parent / "shared" / "data")


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def norm_all(texts: list[str]) -> list[str]:
    return [normalise(t) for t in texts]


def count_matrix(norm_texts: list[str], n_buckets: int, cfg: FeatureConfig, batch: int = 2048):
    """CSR of raw occurrence counts per bucket (duplicates summed), the text's own features only."""
    return count_matrices(norm_texts, n_buckets, cfg, batch)[0]


def count_matrices(norm_texts: list[str], n_buckets: int, cfg: FeatureConfig, batch: int = 2048):
    """(X, N): CSR counts of the texts' own features, and of their negated words' features
    (``FeatureConfig.negation``; all zero without it), from one featurizer pass."""
    f = HashingFeaturizer(cfg)
    rows, cols, neg = [], [], []
    for i in range(0, len(norm_texts), batch):
        chunk = norm_texts[i:i + batch]
        sl = [slang_terms(t, already_normalised=True) for t in chunk] if cfg.slang_hints else [[] for _ in chunk]
        ft = f.from_normalised(chunk, sl)
        rows.append(ft.rows + i)
        cols.append(ft.ids % n_buckets)
        neg.append(np.zeros(len(ft.rows), bool) if ft.values is None else ft.values < 0)
    r, c, m = np.concatenate(rows), np.concatenate(cols), np.concatenate(neg)
    shape = (len(norm_texts), n_buckets)
    X = sp.csr_matrix((np.ones(int((~m).sum()), np.float32), (r[~m], c[~m])), shape=shape)
    N = sp.csr_matrix((np.ones(int(m.sum()), np.float32), (r[m], c[m])), shape=shape)
    X.sum_duplicates()
    N.sum_duplicates()
    return X, N


def idf_from(X: sp.csr_matrix) -> np.ndarray:
    df = np.bincount(X.indices, minlength=X.shape[1]).astype(np.float64)
    n = X.shape[0]
    return (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)


def weighted(X: sp.csr_matrix, idf: np.ndarray, negated: sp.csr_matrix | None = None) -> sp.csr_matrix:
    """x_f = count_f * idf_f / sqrt(sum_f count_f * idf_f**2), as the ONNX graph computes; with
    ``negated`` (the negated words' counts, ``count_matrices``), the numerator's count is
    count_f - NEGATION_COUNT * negated_f and the norm stays the text's own."""
    from scoring.features import NEGATION_COUNT

    Xw = (X if negated is None else X - NEGATION_COUNT * negated).multiply(idf[None, :]).tocsr()
    ss = np.asarray(X.multiply((idf.astype(np.float64) ** 2)[None, :]).sum(1)).ravel() + 1e-6
    Xw = sp.diags(1.0 / np.sqrt(ss)).astype(np.float32) @ Xw
    return Xw.astype(np.float32).tocsr()


def text_key(t: str) -> str:
    return hashlib.blake2b(normalise(t).encode(), digest_size=8).hexdigest()


def read_labelled_tsv(path: Path) -> list[tuple[str, int]]:
    """(document, label) rows of a hand-written labelled file of this repository (UTF-8 TSV, header
    ``document<TAB>label``, no quoting): the seeds and evaluation sets under onnx/."""
    import csv

    with open(path, encoding="utf-8") as f:
        return [(r["document"], int(r["label"])) for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]


def predict_dev_filter(path: Path | None = None):
    """``is_dev(review_id, text, key=None)``: ``"id"`` or ``"text"`` when a review is one of the
    reaction predictor's dev reviews (``path``, default ``predict/mentions.jsonl``: the first
    reviews of 1,000 movies, which ``bench/predict_eval.py`` scores) by review id, or by normalised
    text, an exact copy included (``key``: its ``text_key``, when the caller has it); else None.
    Every recipe whose model that benchmark reads drops these reviews before fitting."""
    ids, keys = set(), set()
    with open(path or DATA / "predict" / "mentions.jsonl", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            pid = str(d.get("post_id", ""))
            if pid.startswith("naver_movie:"):
                ids.add(pid.split(":", 1)[1])
            keys.add(text_key(d["text"]))

    def is_dev(review_id: str, text: str, key: str | None = None) -> str | None:
        if review_id in ids:
            return "id"
        return "text" if (key or text_key(text)) in keys else None

    is_dev.review_ids = len(ids)
    return is_dev


def macro_f1(y, p, labels=None):
    from sklearn.metrics import f1_score
    return float(f1_score(y, p, average="macro", labels=labels))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def count_matrix_rules(norm_texts: list[str], n_buckets: int, cfg: FeatureConfig, rules: str | None,
                       rule_weight: float = 1.0):
    X = count_matrix(norm_texts, n_buckets, cfg)
    if not rules:
        return X
    from scoring.linear import rule_tokens

    toks = rule_tokens(norm_texts, rules)
    r = [i for i, t in enumerate(toks) for _ in t]
    c = [h % n_buckets for t in toks for h in t]
    R = sp.csr_matrix((np.full(len(r), rule_weight, np.float32), (r, c)), shape=X.shape)
    X = (X + R).tocsr()
    X.sum_duplicates()
    return X


def fit_lr(A, y, C, class_weight=None, multinomial=False, max_iter=300, sample_weight=None):
    """Logistic regression -> (W [M, K], b [K]); binary gives K = 1 (sigmoid head)."""
    from sklearn.linear_model import LogisticRegression

    if multinomial:
        m = LogisticRegression(C=C, solver="lbfgs", max_iter=max_iter, class_weight=class_weight)
    else:
        m = LogisticRegression(C=C, solver="liblinear", max_iter=max_iter, class_weight=class_weight)
    m.fit(A, y, sample_weight=sample_weight)
    return m, np.ascontiguousarray(m.coef_.T.astype(np.float32)), m.intercept_.astype(np.float32)


def nb_ratio(X: sp.csr_matrix, y, sample_weight=None, alpha: float = 1.0) -> np.ndarray:
    """NBSVM log-count ratio per bucket: r = log((p/|p|)/(q/|q|)), p, q = alpha + the (weighted)
    number of positive / negative rows holding the bucket; 0 for buckets no row holds."""
    B = X.copy()
    B.data[:] = 1
    sw = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    p = alpha + np.asarray(B.T @ (sw * (y == 1))).ravel()
    q = alpha + np.asarray(B.T @ (sw * (y == 0))).ravel()
    r = np.log((p / p.sum()) / (q / q.sum()))
    r[np.bincount(B.indices, minlength=B.shape[1]) == 0] = 0
    return r.astype(np.float32)


def fit_nb_lr(X: sp.csr_matrix, A: sp.csr_matrix, y, C, sample_weight=None):
    """NB-scaled logistic regression (NBSVM's features: A's columns times ``nb_ratio`` of the
    counts X). Returns (W [M, 1], b [1], r) with the ratio folded into W: the served graph is
    the plain linear one, W scoring the unscaled features A."""
    r = nb_ratio(X, y, sample_weight)
    _, W, b = fit_lr((A @ sp.diags(r)).tocsr(), y, C, sample_weight=sample_weight)
    return W * r[:, None], b, r


def export_head(out_dir: Path, W, b, idf, head: str, meta: dict, dtype: str = "float32",
                signed: int | None = None) -> Path:
    """The graph and model.json of a fitted head; ``signed``: with negation features, how many
    leading columns of W were fitted on the signed counts (``scoring.linear.build_onnx``), by
    default all."""
    from scoring.linear import build_onnx

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "model.onnx"
    rule_rows = []
    if meta.get("rules"):  # each rule category gets its own row, weighted as in count_matrix_rules
        from scoring.linear import rule_token_hash
        from scoring.purchase import CATEGORIES

        meta["rule_rows"] = list(CATEGORIES)
        rule_rows = [(rule_token_hash(meta["rules"], c) % W.shape[0], float(meta.get("rule_weight", 1.0)))
                     for c in CATEGORIES]
    if FeatureConfig.from_dict(meta.get("features")).negation:
        signed = W.shape[1] if signed is None else signed
    else:
        signed = None
    build_onnx(path, W, b, idf, head, dtype=dtype, rule_rows=rule_rows, signed=signed)
    meta.setdefault("onnx", "model.onnx")  # updated in place: the caller adds metrics later
    meta["n_buckets"] = int(W.shape[0])
    meta["head"] = head
    meta["weights_dtype"] = dtype
    meta["sha256"] = sha256(path)
    write_json(out_dir / "model.json", meta)
    return path


def onnx_probs(model_dir: Path, norm_texts: list[str], batch: int = 512) -> np.ndarray:
    """Probabilities from the exported ONNX file, through the serving code path."""
    from scoring.linear import HashedLinearClassifier

    clf = HashedLinearClassifier(model_dir, ["CPUExecutionProvider"], intra_op_threads=2)
    out = []
    for i in range(0, len(norm_texts), batch):
        chunk = norm_texts[i:i + batch]
        sl = [slang_terms(t, already_normalised=True) for t in chunk]
        ft = clf.featurizer.from_normalised(chunk, sl)
        out.append(clf.predict_features(ft, chunk))
    return np.concatenate(out)


# every shipped hashed-linear head uses this configuration, so TextScorer hashes each batch once
SHARED_FEATURES = FeatureConfig(en_lexicon=True)
