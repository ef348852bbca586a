"""Hashed-linear backend: hashed n-gram features -> one ONNX graph per head.

Graph inputs, one entry per feature occurrence of the batch (no padding): ``buckets`` int64
[N] (the occurrence's row of the table: its hash mod ``n_buckets``, or a rule category's own
row after those), ``rows`` int64 [N] (its text) and ``n_docs`` int64 [1]. Row ``f`` of the
table is ``[idf_f * W_f | idf_f ** 2]`` (a rule category's row: that times its weight), so the
graph gathers one row per occurrence and sums them per text (``ScatterND``) into
``s = sum idf W`` and ``ss = sum idf**2``; then logits = ``s / sqrt(ss + 1e-6) + b`` (the
features L2-normalised as in training, ``onnx/recipes/common.py`` ``weighted``) and the head
below. A model whose features mark negation (``FeatureConfig.negation``) has a fourth input,
``values`` float32 [N], each occurrence's count: 1 for the text's own features, and
``-NEGATION_COUNT`` for the negated words' features added after them. The first ``signed``
columns of ``s`` (those that read negation: sentiment's polar column) sum ``value * idf W_k``;
the others (sentiment's neutral column: a negated opinion is still an opinion) and ``ss`` (the
text's own norm) only the text's own occurrences, ``relu(value)`` times theirs, as training
does (``onnx/recipes/common.py`` ``weighted`` with ``negated``).

* ``softmax``: K logits -> K probabilities
* ``sigmoid``: 1 logit -> [1 - p, p]
* ``multilabel``: K logits -> K independent probabilities (one sigmoid each: labels that can
  hold together, e.g. the hate-speech categories)
* ``hier3``:   2 logits (pos-vs-neg, neutral-vs-polar) -> [neg, neu, pos] =
  [(1-pn)(1-pp), pn, (1-pn) pp]; the binary decision pos-vs-neg is exactly the first head.

The same class computes features itself when used alone; ``TextScorer`` computes one
feature pass per distinct ``FeatureConfig`` and feeds it to every head (``predict_features``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from .features import FeatureConfig, Features, HashingFeaturizer


def session_options(intra_op_threads: int = 1):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = max(1, int(intra_op_threads))
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return so


def default_providers() -> list[str]:
    import onnxruntime as ort

    avail = ort.get_available_providers()
    return (["CUDAExecutionProvider", "CPUExecutionProvider"] if "CUDAExecutionProvider" in avail
            else ["CPUExecutionProvider"])


class HashedLinearClassifier:
    format = "hashed-linear"

    def __init__(self, model_dir: Path, providers: list[str] | None = None, intra_op_threads: int = 1):
        import onnxruntime as ort

        self.model_dir = Path(model_dir)
        self.meta = json.loads((self.model_dir / "model.json").read_text(encoding="utf-8"))
        self.labels: list[str] = list(self.meta["labels"])
        self.feature_config = FeatureConfig.from_dict(self.meta.get("features"))
        self.featurizer = HashingFeaturizer(self.feature_config)
        onnx_path = self.model_dir / self.meta.get("onnx", "model.onnx")
        # one intra-op thread whatever is asked: ONNX Runtime's ScatterND with reduction="add"
        # loses updates when several threads add to the same text's row (probabilities moved by
        # up to 0.15 with 2 threads); the graph is small, the scoring processes are the parallelism
        self.session = ort.InferenceSession(str(onnx_path), sess_options=session_options(1),
                                            providers=providers or default_providers())
        inputs = sorted(i.name for i in self.session.get_inputs())
        self.rules = self.meta.get("rules")  # e.g. "purchase": rule categories as extra features
        expected = sorted(GRAPH_INPUTS + (("values",) if self.feature_config.negation else ()))
        if inputs != expected or (self.rules and "rule_rows" not in self.meta):
            raise ValueError(f"{onnx_path}: graph inputs {inputs}, expected {expected} and the rule "
                             "categories' rows in model.json: an older graph; export it again with its recipe "
                             "in onnx/recipes")
        self._out = self.session.get_outputs()[0].name
        self.n_buckets = int(self.meta["n_buckets"])
        self.rule_rows = {c: self.n_buckets + i for i, c in enumerate(self.meta.get("rule_rows", []))}

    def occurrences(self, feats: Features, normalised: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(rows, buckets): the graph's inputs for ``feats``, rule categories included."""
        rows, buckets = feats.rows, np.remainder(feats.ids, self.n_buckets)
        if self.rules:
            extra = [(i, self.rule_rows[c]) for i, cats in enumerate(
                         rule_categories(feats.normalised if normalised is None else normalised, self.rules))
                     for c in cats if c in self.rule_rows]
            if extra:
                more = np.asarray(extra, np.int64)
                rows, buckets = np.concatenate([rows, more[:, 0]]), np.concatenate([buckets, more[:, 1]])
        return rows, buckets

    def predict_features(self, feats: Features, normalised: list[str] | None = None) -> np.ndarray:
        rows, buckets = self.occurrences(feats, normalised)
        inputs = {"buckets": buckets, "rows": rows, "n_docs": np.array([feats.n_docs], np.int64)}
        if self.feature_config.negation:
            values = feats.values if feats.values is not None else np.ones(len(feats.rows), np.float32)
            if len(rows) > len(values):  # rule categories: a text's own features
                values = np.concatenate([values, np.ones(len(rows) - len(values), np.float32)])
            inputs["values"] = values
        return self.session.run([self._out], inputs)[0]

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        feats = self.featurizer(list(texts))
        return self.predict_features(feats, feats.normalised)


def rule_categories(normalised: list[str], rules: str) -> list[list[str]]:
    if rules != "purchase":
        raise ValueError(f"unknown rules {rules!r}")
    from .purchase import rule_categories as purchase_categories

    return [purchase_categories(t) for t in normalised]


def rule_token_hash(rules: str, category: str) -> int:
    from .features import _mix, hash_str

    return int(_mix(np.array([hash_str(f"\x01{rules}:{category}")], np.uint64), 98)[0])


_RULE_CACHE: dict[tuple[str, str], int] = {}


def rule_tokens(normalised: list[str], rules: str) -> list[list[int]]:
    """Training side: each text's rule categories as hashed feature ids (``rule_token_hash``)."""
    out = []
    for cats in rule_categories(normalised, rules):
        toks = []
        for c in cats:
            key = (rules, c)
            h = _RULE_CACHE.get(key)
            if h is None:
                h = _RULE_CACHE[key] = rule_token_hash(rules, c)
            toks.append(h)
        out.append(toks)
    return out


GRAPH_INPUTS = ("buckets", "rows", "n_docs")


def build_onnx(path: Path, weights: np.ndarray, bias: np.ndarray, idf: np.ndarray, head: str,
               dtype: str = "float32", rule_rows: Sequence[tuple[int, float]] = (), signed: int | None = None) -> None:
    """Write the hashed-linear graph (needs the ``onnx`` package: training side only).
    ``dtype`` is the table's storage type: float16 halves the file, and the graph sums in
    float32. ``rule_rows``: (bucket, weight) of each rule category, in ``model.json``'s
    ``rule_rows`` order: the category's column in training, weighted as training weighted it.
    ``signed``: features with negation: the graph takes each occurrence's count, which the
    first ``signed`` columns of W read; the others and the norm read the text's own features."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    M, K = weights.shape
    idf64 = idf.astype(np.float64)
    table = np.concatenate([weights.astype(np.float64) * idf64[:, None], (idf64 ** 2)[:, None]], 1)  # [M, K+1]
    if rule_rows:
        table = np.concatenate([table, np.stack([table[b] * w for b, w in rule_rows])])
    np_dt = np.float16 if dtype == "float16" else np.float32
    inits = [
        numpy_helper.from_array(table.astype(np_dt), "table"),
        numpy_helper.from_array(bias.astype(np.float32).reshape(1, K), "b"),
        numpy_helper.from_array(np.array([1], np.int64), "ax1"),
        numpy_helper.from_array(np.array([K + 1], np.int64), "width"),
        numpy_helper.from_array(np.array([K, 1], np.int64), "split_k1"),
        numpy_helper.from_array(np.array(1e-6, np.float32), "eps"),
    ]
    N = helper.make_node
    nodes = [N("Gather", ["table", "buckets"], ["per_occurrence0"], axis=0)]       # [N, K+1]
    values = signed is not None
    cast = "per_occurrence" if not values else "per_occurrence1"
    nodes.append(N("Cast", ["per_occurrence0"], [cast], to=TensorProto.FLOAT) if dtype == "float16"
                 else N("Identity", ["per_occurrence0"], [cast]))
    if values:  # [v (signed columns) ... relu(v) (the others) ... | relu(v) (the norm)] times each row
        if not 0 <= signed <= K:
            raise ValueError(f"signed={signed}: the table has {K} weight columns")
        nodes += [N("Unsqueeze", ["values", "ax1"], ["value_col"]), N("Relu", ["value_col"], ["own_col"]),
                  N("Concat", ["value_col"] * signed + ["own_col"] * (K - signed + 1), ["multiplier"], axis=1),
                  N("Mul", ["per_occurrence1", "multiplier"], ["per_occurrence"])]
    nodes += [
        N("Concat", ["n_docs", "width"], ["sums_shape"], axis=0),
        N("ConstantOfShape", ["sums_shape"], ["zeros"],
          value=helper.make_tensor("zero", TensorProto.FLOAT, [1], [0.0])),
        N("Unsqueeze", ["rows", "ax1"], ["row_index"]),                              # [N, 1]
        N("ScatterND", ["zeros", "row_index", "per_occurrence"], ["sums"], reduction="add"),  # [B, K+1]
        N("Split", ["sums", "split_k1"], ["s", "ss"], axis=1),
        N("Add", ["ss", "eps"], ["ss_e"]),
        N("Sqrt", ["ss_e"], ["norm"]),
        N("Div", ["s", "norm"], ["sn"]),
        N("Add", ["sn", "b"], ["logits"]),
    ]
    if head == "softmax":
        nodes.append(N("Softmax", ["logits"], ["probs"], axis=1))
    elif head == "sigmoid":
        inits.append(numpy_helper.from_array(np.array(1.0, np.float32), "one"))
        nodes += [N("Sigmoid", ["logits"], ["p"]), N("Sub", ["one", "p"], ["q"]),
                  N("Concat", ["q", "p"], ["probs"], axis=1)]
    elif head == "multilabel":
        nodes.append(N("Sigmoid", ["logits"], ["probs"]))
    elif head == "hier3":
        inits += [numpy_helper.from_array(np.array(1.0, np.float32), "one"),
                  numpy_helper.from_array(np.array([1, 1], np.int64), "split11")]
        nodes += [N("Sigmoid", ["logits"], ["sg"]),
                  N("Split", ["sg", "split11"], ["pp", "pn"], axis=1),
                  N("Sub", ["one", "pn"], ["polar"]), N("Sub", ["one", "pp"], ["qp"]),
                  N("Mul", ["polar", "qp"], ["pneg"]), N("Mul", ["polar", "pp"], ["ppos"]),
                  N("Concat", ["pneg", "pn", "ppos"], ["probs"], axis=1)]
    else:
        raise ValueError(head)
    inputs = [helper.make_tensor_value_info("buckets", TensorProto.INT64, ["N"]),
              helper.make_tensor_value_info("rows", TensorProto.INT64, ["N"]),
              helper.make_tensor_value_info("n_docs", TensorProto.INT64, [1])]
    if values:
        inputs.append(helper.make_tensor_value_info("values", TensorProto.FLOAT, ["N"]))
    g = helper.make_graph(
        nodes, "hashed_linear", inputs,
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["B", None])],
        initializer=inits)
    # opset 18: ScatterND's reduction
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)], producer_name="truevoice")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
