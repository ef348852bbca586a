"""Hashed-linear backend: hashed n-gram features -> one ONNX graph per head.

Graph inputs: ``ids`` int64 [B, L] (31-bit hashes from ``scoring.features``) and ``mask``
float32 [B, L]. The graph takes ``ids mod n_buckets``, weights every occurrence by the
bucket's idf, L2-normalises per text (sqrt of the sum of squared occurrence weights),
sums the per-bucket weight rows and turns the logits into probabilities:

* ``softmax``: K logits -> K probabilities
* ``sigmoid``: 1 logit -> [1 - p, p]
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
        self.session = ort.InferenceSession(
            str(self.model_dir / self.meta.get("onnx", "model.onnx")),
            sess_options=session_options(intra_op_threads),
            providers=providers or default_providers(),
        )
        self._out = self.session.get_outputs()[0].name

        self.rules = self.meta.get("rules")  # e.g. "purchase": rule tokens appended to the shared features
        self.rule_weight = float(self.meta.get("rule_weight", 1.0))

    def predict_features(self, feats: Features, normalised: list[str] | None = None) -> np.ndarray:
        ids, mask = feats.ids, feats.mask
        if self.rules:
            ids, mask = append_rule_tokens(ids, mask, feats.normalised if normalised is None else normalised,
                                           self.rules, self.rule_weight)
        return self.session.run([self._out], {"ids": ids, "mask": mask})[0]

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        feats = self.featurizer(list(texts))
        return self.predict_features(feats, feats.normalised)


def rule_token_hash(rules: str, category: str) -> int:
    from .features import _mix, hash_str

    return int(_mix(np.array([hash_str(f"\x01{rules}:{category}")], np.uint64), 98)[0])


_RULE_CACHE: dict[tuple[str, str], int] = {}


def rule_tokens(normalised: list[str], rules: str) -> list[list[int]]:
    if rules != "purchase":
        raise ValueError(f"unknown rules {rules!r}")
    from .purchase import rule_categories

    out = []
    for t in normalised:
        toks = []
        for c in rule_categories(t):
            key = (rules, c)
            h = _RULE_CACHE.get(key)
            if h is None:
                h = _RULE_CACHE[key] = rule_token_hash(rules, c)
            toks.append(h)
        out.append(toks)
    return out


def append_rule_tokens(ids: np.ndarray, mask: np.ndarray, normalised: list[str], rules: str,
                       weight: float = 1.0):
    """Rule tokens as extra features; ``weight`` goes into the mask (an occurrence count)."""
    toks = rule_tokens(normalised, rules)
    width = max((len(t) for t in toks), default=0)
    if width == 0:
        return ids, mask
    B = len(toks)
    bi = np.zeros((B, width), np.int64)
    bm = np.zeros((B, width), np.float32)
    for i, t in enumerate(toks):
        bi[i, :len(t)] = t
        bm[i, :len(t)] = weight
    return np.concatenate([ids, bi], 1), np.concatenate([mask, bm], 1)


def build_onnx(path: Path, weights: np.ndarray, bias: np.ndarray, idf: np.ndarray, head: str,
               dtype: str = "float32") -> None:
    """Write the hashed-linear graph (needs the ``onnx`` package: training side only)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    M, K = weights.shape
    np_dt = np.float16 if dtype == "float16" else np.float32
    inits = [
        numpy_helper.from_array(weights.astype(np_dt), "W"),
        numpy_helper.from_array(idf.astype(np_dt), "idf"),
        numpy_helper.from_array(bias.astype(np.float32).reshape(1, K), "b"),
        numpy_helper.from_array(np.array(M, np.int64), "M"),
        numpy_helper.from_array(np.array([1], np.int64), "ax1"),
        numpy_helper.from_array(np.array(1e-6, np.float32), "eps"),
    ]
    N = helper.make_node
    nodes = [N("Mod", ["ids", "M"], ["h"], fmod=0),
             N("Gather", ["idf", "h"], ["idf_g0"], axis=0),
             N("Gather", ["W", "h"], ["W_g0"], axis=0)]
    if dtype == "float16":
        nodes += [N("Cast", ["idf_g0"], ["idf_g"], to=TensorProto.FLOAT),
                  N("Cast", ["W_g0"], ["W_g"], to=TensorProto.FLOAT)]
    else:
        nodes += [N("Identity", ["idf_g0"], ["idf_g"]), N("Identity", ["W_g0"], ["W_g"])]
    nodes += [
        N("Mul", ["idf_g", "mask"], ["w"]),                      # [B, L]
        N("Mul", ["w", "w"], ["w2"]),
        N("ReduceSum", ["w2", "ax1"], ["ss"], keepdims=1),       # [B, 1]
        N("Add", ["ss", "eps"], ["ss_e"]),
        N("Sqrt", ["ss_e"], ["norm"]),
        N("Unsqueeze", ["w", "ax1"], ["w3"]),                    # [B, 1, L]
        N("MatMul", ["w3", "W_g"], ["s3"]),                      # [B, 1, K]
        N("Squeeze", ["s3", "ax1"], ["s"]),                      # [B, K]
        N("Div", ["s", "norm"], ["sn"]),
        N("Add", ["sn", "b"], ["logits"]),
    ]
    if head == "softmax":
        nodes.append(N("Softmax", ["logits"], ["probs"], axis=1))
    elif head == "sigmoid":
        inits.append(numpy_helper.from_array(np.array(1.0, np.float32), "one"))
        nodes += [N("Sigmoid", ["logits"], ["p"]), N("Sub", ["one", "p"], ["q"]),
                  N("Concat", ["q", "p"], ["probs"], axis=1)]
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
    g = helper.make_graph(
        nodes, "hashed_linear",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["B", "L"]),
         helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["B", "L"])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["B", None])],
        initializer=inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="truevoice")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
