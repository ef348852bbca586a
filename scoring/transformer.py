"""ONNX-runtime backend for exported Hugging Face text classifiers (model.json ``"format": "transformer"``).

A model folder (see :mod:`scoring.hf_export`) holds ``model.onnx``, the tokenizer files
and ``model.json``.  ``model.json["labels"]`` lists what each ONNX output column means;
:class:`TransformerClassifier` reorders the columns into canonical order
(sentiment: negative[, neutral], positive; toxicity: clean, toxic) so callers can rely
on it, and exposes that order as ``.labels``.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = ["TransformerClassifier", "default_providers"]

_CANONICAL_ORDER: dict[str, tuple[str, ...]] = {
    "sentiment": ("negative", "neutral", "positive"),
    "toxicity": ("clean", "toxic"),
}


def default_providers() -> list[str]:
    """CUDA when this onnxruntime build offers it, always with CPU as fallback."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    providers = ["CUDAExecutionProvider"] if "CUDAExecutionProvider" in available else []
    return providers + ["CPUExecutionProvider"]


class TransformerClassifier:
    """Tokenise with the model's own HF tokenizer, run ``model.onnx``, return softmax probabilities.

    Parameters
    ----------
    model_dir:
        folder with ``model.onnx``, ``model.json`` and tokenizer files.
    providers:
        onnxruntime execution providers; default: CUDA if available, else CPU.
    intra_op_threads:
        onnxruntime intra-op thread count (default: onnxruntime's choice).
    """

    def __init__(
        self,
        model_dir: Path,
        providers: list[str] | None = None,
        *,
        intra_op_threads: int | None = None,
        batch_size: int = 64,
    ) -> None:
        self.model_dir = Path(model_dir)
        meta_path = self.model_dir / "model.json"
        onnx_path = self.model_dir / "model.onnx"
        if not meta_path.is_file():
            raise FileNotFoundError(f"{meta_path} not found (export the model with `truevoice models export`)")
        if not onnx_path.is_file():
            raise FileNotFoundError(f"{onnx_path} not found")
        self.meta: dict = json.loads(meta_path.read_text(encoding="utf-8"))
        fmt = self.meta.get("format", "transformer")
        if fmt != "transformer":
            raise ValueError(f"{meta_path}: format is {fmt!r}, expected 'transformer'")
        raw_labels = [str(x) for x in self.meta.get("labels") or []]
        if not raw_labels:
            raise ValueError(f"{meta_path}: 'labels' is missing or empty")
        self.task: str | None = self.meta.get("task")
        self.max_length = int(self.meta.get("max_length", 128))
        self.normalise = bool(self.meta.get("normalise", False))
        self.batch_size = max(1, int(batch_size))

        # Output columns -> canonical order when the labels are the task's canonical names.
        canon = _CANONICAL_ORDER.get(self.task or "")
        if canon and set(raw_labels) <= set(canon) and len(set(raw_labels)) == len(raw_labels):
            self.labels = [n for n in canon if n in raw_labels]
        else:
            self.labels = list(raw_labels)
        self._columns = np.array([raw_labels.index(n) for n in self.labels], dtype=np.int64)
        self._n_outputs = len(raw_labels)

        import onnxruntime as ort
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(self.model_dir, local_files_only=True)

        so = ort.SessionOptions()
        if intra_op_threads is not None:
            so.intra_op_num_threads = int(intra_op_threads)
        self.providers = list(providers) if providers else default_providers()
        self.session = ort.InferenceSession(str(onnx_path), sess_options=so, providers=self.providers)
        self._input_names = [i.name for i in self.session.get_inputs()]
        outputs = [o.name for o in self.session.get_outputs()]
        self._output_name = "logits" if "logits" in outputs else outputs[0]
        out_shape = next(o.shape for o in self.session.get_outputs() if o.name == self._output_name)
        if len(out_shape) == 2 and isinstance(out_shape[1], int) and out_shape[1] != self._n_outputs:
            raise ValueError(
                f"{meta_path}: {self._n_outputs} labels but {onnx_path.name} has {out_shape[1]} output columns"
            )

    def __repr__(self) -> str:
        return f"TransformerClassifier({str(self.model_dir)!r}, task={self.task!r}, labels={self.labels})"

    def _prepare(self, texts: list[str]) -> list[str]:
        texts = ["" if t is None else str(t) for t in texts]
        if self.normalise:
            from scoring.normalise import normalise  # written by another engineer; imported lazily

            texts = [normalise(t) for t in texts]
        return texts

    def _logits(self, batch: list[str]) -> np.ndarray:
        enc = self.tokenizer(
            batch, padding="longest", truncation=True, max_length=self.max_length, return_tensors="np"
        )
        feeds: dict[str, np.ndarray] = {}
        for name in self._input_names:
            if name in enc:
                feeds[name] = np.asarray(enc[name], dtype=np.int64)
            elif name == "token_type_ids":
                feeds[name] = np.zeros_like(enc["input_ids"], dtype=np.int64)
            else:
                raise ValueError(f"model input {name!r} is not produced by the tokenizer")
        return self.session.run([self._output_name], feeds)[0]

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Softmax probabilities, float32, shape [len(texts), len(self.labels)], columns in ``self.labels`` order."""
        if isinstance(texts, str):
            raise TypeError("predict_proba expects a list of strings, not a single string")
        texts = self._prepare(list(texts))
        out = np.empty((len(texts), self._n_outputs), dtype=np.float32)
        if not texts:
            return out[:, self._columns]
        # sort by length so each batch pads to a similar length; results go back in input order
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for s in range(0, len(order), self.batch_size):
            idx = order[s : s + self.batch_size]
            logits = self._logits([texts[i] for i in idx]).astype(np.float64)
            if logits.ndim != 2 or logits.shape[1] != self._n_outputs:
                raise ValueError(f"model returned logits of shape {logits.shape}, expected [B, {self._n_outputs}]")
            logits -= logits.max(axis=1, keepdims=True)
            e = np.exp(logits)
            out[idx] = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
        return np.ascontiguousarray(out[:, self._columns])
