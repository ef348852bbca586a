"""Export a Hugging Face sequence-classification checkpoint to a TrueVoice model folder.

A TrueVoice "transformer" model folder looks like::

    <out_dir>/
        model.onnx            ONNX graph (inputs: input_ids, attention_mask[, token_type_ids]; output: logits)
        tokenizer.json ...    tokenizer files copied verbatim from the checkpoint
        config.json           the checkpoint's HF config (for reference only)
        model.json            TrueVoice metadata, read by scoring.text.TextScorer / scoring.transformer
        CARD.md               provenance: source, export command, opset, size, how to serve / evaluate

``model.json``::

    {"task": "sentiment" | "toxicity",
     "format": "transformer",
     "labels": [...],          # meaning of each ONNX output column, in column order
     "max_length": 128,        # tokenizer truncation length
     "normalise": false,       # run scoring.normalise.normalise on texts before tokenising
     "source": "/abs/path/to/checkpoint", ...}

Label mapping
-------------
``labels`` lists, in output-column order (i.e. the checkpoint's ``id2label`` order,
column *i* == class id *i*), what each column means, using canonical names only:

* sentiment: ``"negative"``, ``"neutral"``, ``"positive"`` (2 columns: negative+positive,
  3 columns: all three);
* toxicity: ``"clean"``, ``"toxic"`` (exactly 2 columns).

The names are derived from ``config.id2label``.  Common spellings are recognised
case-insensitively (``neg``/``NEGATIVE``/``부정``, ``pos``/``긍정``, ``neutral``/``중립``,
``non-toxic``/``none``/``normal``/``정상``, ``toxic``/``hate``/``offensive``/``악플`` ...).
Generic names (``LABEL_0``, ``LABEL_1``, ``0``, ``1`` ...) carry no meaning; they are mapped by
convention (sentiment 2 classes: 0=negative, 1=positive, as in NSMC; 3 classes:
0=negative, 1=neutral, 2=positive; toxicity: 0=clean, 1=toxic) with a warning, and the
guess is recorded in model.json (``"label_source": "convention"``) and CARD.md.  When the
convention is wrong, or id2label uses names we do not know, pass ``labels=[...]`` /
``--labels`` with one canonical name per class id, in class-id order.

The column order in model.json need not be canonical (a checkpoint with
``{0: "positive", 1: "negative"}`` is exported as ``["positive", "negative"]``);
``scoring.transformer.TransformerClassifier`` reorders columns so that ``predict_proba``
always returns canonical order (negative[, neutral], positive / clean, toxic) and sets its
``labels`` attribute accordingly.

CLI: :func:`add_export_command` registers ``truevoice models export``; standalone:
``python -m scoring.hf_export export HF_DIR --task sentiment``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

__all__ = [
    "ExportError",
    "TASKS",
    "CANONICAL_LABELS",
    "resolve_labels",
    "export_checkpoint",
    "add_export_command",
    "main",
]

TASKS = ("sentiment", "toxicity")

#: canonical label names per task, in canonical column order
CANONICAL_LABELS: dict[str, tuple[str, ...]] = {
    "sentiment": ("negative", "neutral", "positive"),
    "toxicity": ("clean", "toxic"),
}

#: label sets allowed per task (as sets of canonical names)
_ALLOWED_SETS: dict[str, tuple[frozenset[str], ...]] = {
    "sentiment": (frozenset({"negative", "positive"}), frozenset({"negative", "neutral", "positive"})),
    "toxicity": (frozenset({"clean", "toxic"}),),
}

# Generic label names carry no meaning: mapped by class id, by convention.
_CONVENTION: dict[tuple[str, int], tuple[str, ...]] = {
    ("sentiment", 2): ("negative", "positive"),
    ("sentiment", 3): ("negative", "neutral", "positive"),
    ("toxicity", 2): ("clean", "toxic"),
}

_ALIASES: dict[str, dict[str, str]] = {
    "sentiment": {
        **{a: "negative" for a in ("negative", "neg", "n", "bad", "부정", "부정적", "negative_sentiment")},
        **{a: "neutral" for a in ("neutral", "neu", "neut", "objective", "중립", "중립적")},
        **{a: "positive" for a in ("positive", "pos", "p", "good", "긍정", "긍정적", "positive_sentiment")},
    },
    "toxicity": {
        **{
            a: "clean"
            for a in (
                "clean", "non-toxic", "non_toxic", "nontoxic", "not-toxic", "not_toxic", "not toxic",
                "none", "normal", "neutral", "ok", "safe", "benign", "non-hate", "non_hate", "not_hate",
                "정상", "일반", "clean_text",
            )
        },
        **{
            a: "toxic"
            for a in (
                "toxic", "toxicity", "hate", "hateful", "offensive", "abusive", "abuse", "profanity",
                "insult", "unsafe", "악플", "혐오", "욕설", "악성",
            )
        },
    },
}

_GENERIC_RE = re.compile(r"^(label[_\- ]?)?\d+$", re.IGNORECASE)

# tokenizer files copied verbatim from the checkpoint (whichever exist)
_TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "sentencepiece.bpe.model",
    "spiece.model",
    "tokenizer.model",
    "sentencepiece.model",
)


class ExportError(ValueError):
    """Raised when a checkpoint cannot be exported; the message says what to fix."""


def _log(msg: str) -> None:
    print(f"[truevoice export] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- labels


def _canonical(task: str, name: str) -> str | None:
    key = str(name).strip().lower()
    return _ALIASES[task].get(key) or _ALIASES[task].get(key.replace(" ", "_")) or _ALIASES[task].get(
        key.replace("_", "-")
    )


def _check_label_set(task: str, labels: list[str], where: str) -> None:
    if len(set(labels)) != len(labels):
        raise ExportError(f"{where}: duplicate labels {labels}; each output column must have a distinct meaning")
    if frozenset(labels) not in _ALLOWED_SETS[task]:
        allowed = " or ".join(
            "[" + ", ".join(n for n in CANONICAL_LABELS[task] if n in s) + "]" for s in _ALLOWED_SETS[task]
        )
        raise ExportError(f"{where}: labels {labels} are not a valid {task} label set; expected (in any order) {allowed}")


def resolve_labels(
    task: str, id2label: dict[int, str] | None, num_labels: int, override: list[str] | None = None
) -> tuple[list[str], str]:
    """Return (labels in class-id order using canonical names, how they were obtained).

    ``how`` is one of ``"override"``, ``"id2label"``, ``"convention"``.
    Raises :class:`ExportError` on unknown task, count mismatch or unmappable names.
    """
    if task not in TASKS:
        raise ExportError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    if (task, num_labels) not in _CONVENTION:
        counts = sorted(n for (t, n) in _CONVENTION if t == task)
        raise ExportError(
            f"label count mismatch: the checkpoint has {num_labels} output classes, but a {task} model must have "
            f"{' or '.join(map(str, counts))} (canonical labels: {', '.join(CANONICAL_LABELS[task])})"
        )

    if override:
        names = [p.strip() for item in override for p in str(item).split(",") if p.strip()]
        if len(names) != num_labels:
            raise ExportError(
                f"label count mismatch: --labels gives {len(names)} names {names} but the checkpoint has "
                f"{num_labels} output classes; give one name per class id, in class-id order"
            )
        out = []
        for n in names:
            c = _canonical(task, n)
            if c is None:
                raise ExportError(
                    f"--labels: {n!r} is not a {task} label; use {', '.join(CANONICAL_LABELS[task])}"
                )
            out.append(c)
        _check_label_set(task, out, "--labels")
        return out, "override"

    id2label = {int(k): str(v) for k, v in (id2label or {}).items()}
    if sorted(id2label) != list(range(num_labels)):
        id2label = {i: f"LABEL_{i}" for i in range(num_labels)}
    raw = [id2label[i] for i in range(num_labels)]

    if all(_GENERIC_RE.match(r.strip()) for r in raw):
        # LABEL_0/LABEL_1 or 0/1: meaning is not in the checkpoint; use the convention by class id
        # (only when the generic names really are the class ids in order).
        nums = [int(re.sub(r"\D", "", r)) for r in raw]
        if nums == list(range(num_labels)):
            out = list(_CONVENTION[(task, num_labels)])
            _log(
                f"WARNING: id2label {raw} has generic names; assuming the {task} convention "
                f"{dict(enumerate(out))}. If that is wrong, pass --labels (one canonical name per class id)."
            )
            return out, "convention"

    out = []
    for i, r in enumerate(raw):
        c = _canonical(task, r)
        if c is None:
            raise ExportError(
                f"cannot map id2label[{i}] = {r!r} (id2label: {id2label}) to a {task} label; pass --labels with one "
                f"of {', '.join(CANONICAL_LABELS[task])} per class id, in class-id order "
                f"(e.g. --labels {' '.join(_CONVENTION[(task, num_labels)])})"
            )
        out.append(c)
    _check_label_set(task, out, f"id2label {id2label}")
    return out, "id2label"


# --------------------------------------------------------------------------- export


def _load_config(hf_dir: Path):
    if not hf_dir.exists():
        raise ExportError(f"checkpoint directory {str(hf_dir)!r} does not exist")
    if not hf_dir.is_dir():
        raise ExportError(f"{str(hf_dir)!r} is not a directory; pass the folder written by save_pretrained()")
    if not (hf_dir / "config.json").is_file():
        raise ExportError(
            f"{str(hf_dir)!r} is not a Hugging Face checkpoint: no config.json "
            "(save the fine-tuned model with model.save_pretrained(dir) and tokenizer.save_pretrained(dir))"
        )
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(hf_dir, local_files_only=True)
    except Exception as e:  # noqa: BLE001 - re-raised with context
        raise ExportError(f"cannot read {hf_dir / 'config.json'}: {e}") from e
    archs = list(getattr(config, "architectures", None) or [])
    if not any(a.endswith("ForSequenceClassification") for a in archs):
        raise ExportError(
            f"{str(hf_dir)!r} is not a sequence-classification checkpoint (architectures={archs or None}, "
            f"model_type={getattr(config, 'model_type', None)!r}); export a model fine-tuned with "
            "AutoModelForSequenceClassification (e.g. ElectraForSequenceClassification), not a base/pre-training one"
        )
    has_weights = any(
        (hf_dir / f).is_file() or any(hf_dir.glob(f.replace(".", "*.", 1)))
        for f in ("model.safetensors", "pytorch_model.bin")
    )
    if not has_weights:
        raise ExportError(
            f"{str(hf_dir)!r} has no PyTorch weights (model.safetensors / pytorch_model.bin, possibly sharded)"
        )
    return config


def _onnx_opset(path: Path) -> int | None:
    try:
        import onnx

        m = onnx.load(str(path), load_external_data=False)
        return max((o.version for o in m.opset_import if o.domain in ("", "ai.onnx")), default=None)
    except Exception:  # noqa: BLE001 - informational only
        return None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _human(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024
    return f"{n} B"


def default_out_dir(hf_dir: Path, task: str) -> Path:
    """``onnx/<task>-<checkpoint dir name>/`` relative to the current directory."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(hf_dir).resolve().name).strip("-").lower() or "model"
    return Path("onnx") / f"{task}-{name}"


def _export_command(hf_dir: Path, task: str, out_dir: Path, labels, opset, max_length, normalise, how) -> str:
    parts = ["truevoice", "models", "export", str(hf_dir), "--task", task, "--out", str(out_dir)]
    if how == "override":
        parts += ["--labels", *labels]
    if opset is not None:
        parts += ["--opset", str(opset)]
    if max_length is not None:
        parts += ["--max-length", str(max_length)]
    if normalise:
        parts += ["--normalise"]
    return shlex.join(parts)


def export_checkpoint(
    hf_dir: Path,
    task: str,
    out_dir: Path,
    *,
    opset: int | None = None,
    labels: list[str] | None = None,
    max_length: int | None = None,
    normalise: bool = False,
    validate: bool = True,
) -> Path:
    """Export the HF sequence-classification checkpoint in ``hf_dir`` to a TrueVoice model folder.

    Writes ``out_dir/model.onnx`` (via ``optimum.exporters.onnx.main_export``, offline),
    the checkpoint's tokenizer files, ``model.json`` and ``CARD.md``; returns ``out_dir``.

    ``labels`` overrides the checkpoint's id2label (one canonical name per class id, in
    class-id order).  ``max_length`` defaults to ``min(128, max_position_embeddings)``.
    ``normalise`` sets model.json ``"normalise"`` (only if the model was trained on
    ``scoring.normalise.normalise``-d text).  ``validate`` lets optimum compare ONNX outputs
    with PyTorch after export.

    Raises :class:`ExportError` (a ``ValueError``) with a helpful message for a missing
    dir, a non-sequence-classification checkpoint, an unknown task or a label mismatch.
    """
    t0 = time.perf_counter()
    hf_dir = Path(hf_dir).expanduser()
    if task not in TASKS:
        raise ExportError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    config = _load_config(hf_dir)
    num_labels = int(config.num_labels)
    canon, how = resolve_labels(task, getattr(config, "id2label", None), num_labels, labels)
    if opset is not None and (not isinstance(opset, int) or opset < 11):
        raise ExportError(f"opset must be an integer >= 11, got {opset!r}")
    max_pos = int(getattr(config, "max_position_embeddings", 512) or 512)
    requested_max_length = max_length
    if max_length is None:
        max_length = min(128, max_pos)
    if not (1 <= int(max_length) <= max_pos):
        raise ExportError(f"max_length must be between 1 and the model's max_position_embeddings ({max_pos})")

    from transformers import AutoTokenizer

    try:
        AutoTokenizer.from_pretrained(hf_dir, local_files_only=True)
    except Exception as e:  # noqa: BLE001
        raise ExportError(
            f"cannot load a tokenizer from {str(hf_dir)!r} ({e}); save it beside the model with "
            "tokenizer.save_pretrained(dir)"
        ) from e

    out_dir = Path(out_dir).expanduser()
    if out_dir.resolve() == hf_dir.resolve():
        raise ExportError("--out must differ from the checkpoint directory")
    out_dir.mkdir(parents=True, exist_ok=True)
    stale = out_dir / "model.json"
    if stale.exists():
        stale.unlink()  # written last: a folder without model.json is never picked up half-exported

    _log(f"exporting {hf_dir} ({', '.join(config.architectures)}, {num_labels} classes) to ONNX ...")
    from optimum.exporters.onnx import main_export

    with tempfile.TemporaryDirectory(prefix="tv-export-", dir=out_dir) as tmp:
        try:
            main_export(
                str(hf_dir),
                output=tmp,
                task="text-classification",
                opset=opset,
                device="cpu",
                library_name="transformers",
                local_files_only=True,
                do_validation=validate,
            )
        except Exception as e:  # noqa: BLE001
            raise ExportError(f"optimum ONNX export of {hf_dir} failed: {type(e).__name__}: {e}") from e
        tmp_p = Path(tmp)
        if not (tmp_p / "model.onnx").is_file():
            raise ExportError(f"optimum did not produce model.onnx (got {sorted(p.name for p in tmp_p.iterdir())})")
        for old in ("model.onnx", "model.onnx_data", "model.onnx.data"):
            (out_dir / old).unlink(missing_ok=True)
        for f in tmp_p.iterdir():
            if f.is_file():
                shutil.move(str(f), out_dir / f.name)

    # tokenizer files verbatim from the checkpoint (optimum re-saves them with extra state)
    copied = []
    for name in _TOKENIZER_FILES:
        src = hf_dir / name
        if src.is_file():
            shutil.copy2(src, out_dir / name)
            copied.append(name)
    if not copied:
        AutoTokenizer.from_pretrained(hf_dir, local_files_only=True).save_pretrained(out_dir)
        copied = ["(re-saved with save_pretrained)"]

    model_path = out_dir / "model.onnx"
    weight_files = [p for p in out_dir.iterdir() if p.name.startswith("model.onnx")]
    size = sum(p.stat().st_size for p in weight_files)
    real_opset = _onnx_opset(model_path)
    import optimum.version
    import transformers

    meta = {
        "task": task,
        "format": "transformer",
        "labels": canon,
        "max_length": int(max_length),
        "normalise": bool(normalise),
        "source": str(hf_dir.resolve()),
        "label_source": how,
        "id2label": {str(k): v for k, v in sorted((int(k), v) for k, v in (config.id2label or {}).items())},
        "architecture": config.architectures[0],
        "model_type": getattr(config, "model_type", None),
        "opset": real_opset,
        "onnx_bytes": size,
        "onnx_sha256": _sha256(model_path),
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "exporter": f"optimum {optimum.version.__version__} / transformers {transformers.__version__}",
    }
    cmd = _export_command(hf_dir, task, out_dir, canon, opset, requested_max_length, normalise, how)
    env_var = f"TRUEVOICE_{task.upper()}_MODEL"
    mapping = "\n".join(f"| {i} | `{meta['id2label'].get(str(i), '?')}` | `{lab}` |" for i, lab in enumerate(canon))
    label_note = {
        "override": "given explicitly with `--labels`.",
        "id2label": "mapped from the checkpoint's `id2label` names.",
        "convention": (
            "**guessed by convention** because `id2label` only has generic names (LABEL_0 ...). "
            "Verify on labelled data; re-export with `--labels` if the columns are swapped."
        ),
    }[how]
    card = f"""# {task} model: {out_dir.name}

Exported from a Hugging Face sequence-classification checkpoint for TrueVoice
(`format: transformer`, served by `scoring.transformer.TransformerClassifier`).

| | |
|---|---|
| source checkpoint | `{meta['source']}` |
| architecture | `{meta['architecture']}` (`{meta['model_type']}`), {num_labels} classes |
| task | `{task}` |
| ONNX opset | {real_opset}{' (requested)' if opset is not None else ' (exporter default)'} |
| model.onnx size | {_human(size)} ({size} bytes), sha256 `{meta['onnx_sha256'][:16]}…` |
| max_length | {max_length} tokens (truncation) |
| normalise | `{str(bool(normalise)).lower()}` |
| exported | {meta['exported_at']} with {meta['exporter']} |
| tokenizer files | {', '.join(f'`{c}`' for c in copied)} |

## Export command

```sh
{cmd}
```

## Labels (ONNX output columns)

Labels were {label_note}

| column / class id | checkpoint id2label | TrueVoice label |
|---|---|---|
{mapping}

`TransformerClassifier.predict_proba` reorders columns into canonical order
({', '.join(n for n in CANONICAL_LABELS[task] if n in canon)}) and exposes it as `.labels`.

## Serving

Point the {task} scorer at this folder (absolute path), e.g.

```sh
export {env_var}={out_dir.resolve()}
```

`TextScorer` reads `model.json` (`"format": "transformer"`) and loads the model with
onnxruntime (CUDAExecutionProvider when available, else CPU).

## Accuracy

Not measured by the export. Before shipping, measure it on the held-out set:

```sh
truevoice models eval {task} YOUR_HELD_OUT.tsv --model {out_dir}
```
"""
    (out_dir / "CARD.md").write_text(card, encoding="utf-8")
    (out_dir / "model.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _log(f"wrote {model_path} ({_human(size)}, opset {real_opset})")
    _log(f"wrote {out_dir / 'model.json'}: labels {canon} ({how}), max_length {max_length}, normalise {bool(normalise)}")
    _log(f"wrote {out_dir / 'CARD.md'} and tokenizer files: {', '.join(copied)}")
    _log(f"done in {time.perf_counter() - t0:.1f} s; serve it with {env_var}={out_dir.resolve()}")
    return out_dir


# --------------------------------------------------------------------------- CLI


def _cmd_export(args: argparse.Namespace) -> int:
    out = args.out if args.out is not None else default_out_dir(args.hf_dir, args.task)
    try:
        export_checkpoint(
            args.hf_dir,
            args.task,
            out,
            opset=args.opset,
            labels=args.labels,
            max_length=args.max_length,
            normalise=args.normalise,
            validate=not args.no_validate,
        )
    except ExportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(out)
    return 0


def add_export_command(models_subparsers) -> None:
    """Register ``export`` on the ``truevoice models`` sub-parsers.

    The parser's default ``func`` is a handler ``func(args) -> int`` (exit status), so
    the CLI can dispatch with ``sys.exit(args.func(args))``.
    """
    p = models_subparsers.add_parser(
        "export",
        help="export a Hugging Face sequence-classification checkpoint to an ONNX model folder",
        description=(
            "Export a fine-tuned Hugging Face sequence-classification checkpoint (e.g. KcELECTRA) on disk to a "
            "TrueVoice 'transformer' model folder: model.onnx, tokenizer files, model.json and CARD.md. Runs "
            "offline (local files only). Labels come from the checkpoint's id2label; generic LABEL_0/LABEL_1 "
            "names are mapped by convention (sentiment: negative[,neutral],positive; toxicity: clean,toxic) "
            "unless --labels is given."
        ),
    )
    p.add_argument("hf_dir", metavar="HF_DIR", type=Path, help="checkpoint folder written by save_pretrained()")
    p.add_argument("--task", required=True, choices=TASKS, help="what the model predicts")
    p.add_argument(
        "--out", type=Path, default=None, help="output folder (default: onnx/<task>-<checkpoint dir name>/)"
    )
    p.add_argument(
        "--labels",
        nargs="+",
        default=None,
        metavar="LABEL",
        help="meaning of each class id, in class-id order, canonical names: sentiment negative/neutral/positive, "
        "toxicity clean/toxic (space- or comma-separated); overrides id2label",
    )
    p.add_argument("--opset", type=int, default=None, help="ONNX opset (default: exporter's default for the model)")
    p.add_argument(
        "--max-length", type=int, default=None, help="truncation length written to model.json (default: min(128, max_position_embeddings))"
    )
    p.add_argument(
        "--normalise",
        action="store_true",
        help="set normalise=true in model.json (only if the model was trained on normalised text)",
    )
    p.add_argument("--no-validate", action="store_true", help="skip optimum's ONNX-vs-PyTorch output check")
    p.set_defaults(func=_cmd_export)


def main(argv: list[str] | None = None) -> int:
    """Standalone entry point: ``python -m scoring.hf_export export HF_DIR --task ...``."""
    parser = argparse.ArgumentParser(prog="python -m scoring.hf_export")
    sub = parser.add_subparsers(dest="command", required=True)
    add_export_command(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
