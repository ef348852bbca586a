#!/usr/bin/env python
"""Build a *tiny* BERT-style Korean sentiment checkpoint entirely offline.

Nothing is downloaded: the model is created from a ``BertConfig`` with random
weights, the WordPiece vocabulary is trained on a slice of NSMC with the
``tokenizers`` library, and the model is fine-tuned for a few dozen steps on
CPU.  The result is a normal Hugging Face checkpoint directory
(``save_pretrained`` for model and tokenizer, ``id2label`` set) that can be fed
to ``truevoice models export`` / ``scoring.hf_export.export_checkpoint``.

It is *not* meant to be accurate; it exists so that the export/serving path
can be exercised end to end (tests use it in fast mode) and as a template for
a real fine-tuning run.

Usage::

    python onnx/recipes/tiny_transformer.py --out /tmp/tiny-bert            # by hand
    python onnx/recipes/tiny_transformer.py --out /tmp/t --steps 30 --rows 2000  # fast

Note: ``onnx/`` is deliberately not a package (it would shadow the real
``onnx`` module); import this file with ``runpy``/``importlib`` from its path.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import time
from pathlib import Path

# The team's data sits beside the checkout (../shared/data); TRUEVOICE_DATA points elsewhere.
DEFAULT_DATA = Path(os.environ.get("TRUEVOICE_DATA")
                    or Path(__file__).resolve().parents[2].parent / "shared" / "data") / "nsmc" / "ratings_train.txt.gz"
ID2LABEL = {0: "negative", 1: "positive"}  # NSMC: 0 = negative, 1 = positive


def load_nsmc(path: Path, rows: int, seed: int = 0) -> tuple[list[str], list[int]]:
    """Read the first ``rows`` usable (document, label) pairs of an NSMC TSV(.gz)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    texts: list[str] = []
    labels: list[int] = []
    with opener(path, "rt", encoding="utf-8") as fh:
        header = fh.readline().rstrip("\n").split("\t")
        i_doc, i_lab = header.index("document"), header.index("label")
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) <= max(i_doc, i_lab):
                continue
            doc, lab = parts[i_doc].strip(), parts[i_lab].strip()
            if not doc or lab not in ("0", "1"):
                continue
            texts.append(doc)
            labels.append(int(lab))
            if len(texts) >= rows:
                break
    if not texts:
        raise ValueError(f"no usable rows in {path}")
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    return [texts[i] for i in order], [labels[i] for i in order]


def train_tokenizer(texts: list[str], vocab_size: int):
    """Train a cased WordPiece tokenizer (no accent stripping: NFD would break Hangul)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertTokenizerFast

    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False
    )
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=special)
    tok.train_from_iterator(texts, trainer=trainer)
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    tok.decoder = decoders.WordPiece(prefix="##")
    return BertTokenizerFast(
        tokenizer_object=tok,
        do_lower_case=False,
        strip_accents=False,
        tokenize_chinese_chars=True,
        unk_token="[UNK]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        mask_token="[MASK]",
        model_max_length=512,
    )


def build_tiny_checkpoint(
    out_dir: Path,
    *,
    steps: int = 300,
    rows: int = 20000,
    data: Path = DEFAULT_DATA,
    vocab_size: int = 4000,
    hidden_size: int = 64,
    layers: int = 2,
    heads: int = 2,
    intermediate_size: int = 128,
    max_length: int = 64,
    batch_size: int = 32,
    lr: float = 1e-3,
    seed: int = 0,
    threads: int | None = None,
    verbose: bool = True,
) -> Path:
    """Create, briefly train and save a tiny BERT sequence classifier in ``out_dir``.

    Returns ``out_dir``.  Fast mode for tests: ``steps=30, rows=2000``.
    """
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)

    texts, labels = load_nsmc(Path(data), rows, seed=seed)
    n_eval = max(1, min(len(texts) // 10, 1000))
    ev_x, ev_y = texts[:n_eval], labels[:n_eval]
    tr_x, tr_y = texts[n_eval:] or texts, labels[n_eval:] or labels

    tokenizer = train_tokenizer(tr_x, vocab_size)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=max(128, max_length),
        pad_token_id=tokenizer.pad_token_id,
        num_labels=len(ID2LABEL),
        id2label=dict(ID2LABEL),
        label2id={v: k for k, v in ID2LABEL.items()},
        problem_type="single_label_classification",
    )
    model = BertForSequenceClassification(config)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    rng = random.Random(seed)
    idx = list(range(len(tr_x)))

    model.train()
    loss_val = float("nan")
    for step in range(steps):
        batch = rng.sample(idx, min(batch_size, len(idx)))
        enc = tokenizer(
            [tr_x[i] for i in batch], padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        )
        y = torch.tensor([tr_y[i] for i in batch])
        out = model(**enc, labels=y)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss_val = out.loss.item()
        if verbose and (step + 1) % max(1, steps // 10) == 0:
            print(f"step {step + 1}/{steps} loss {loss_val:.4f}", flush=True)

    model.eval()
    correct = 0
    with torch.no_grad():
        for s in range(0, len(ev_x), 128):
            enc = tokenizer(ev_x[s : s + 128], padding=True, truncation=True, max_length=max_length, return_tensors="pt")
            pred = model(**enc).logits.argmax(-1).tolist()
            correct += sum(int(p == t) for p, t in zip(pred, ev_y[s : s + 128]))
    acc = correct / len(ev_x)

    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    meta = {
        "recipe": "onnx/recipes/tiny_transformer.py",
        "data": str(data),
        "rows": len(texts),
        "steps": steps,
        "final_train_loss": round(loss_val, 4),
        "heldout_accuracy": round(acc, 4),
        "heldout_rows": n_eval,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    (out_dir / "recipe.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if verbose:
        print(f"saved tiny checkpoint to {out_dir} (held-out acc {acc:.3f} on {n_eval} rows, {meta['seconds']} s)")
    return out_dir


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True, help="checkpoint directory to write")
    p.add_argument("--steps", type=int, default=300, help="training steps (fast mode: 30)")
    p.add_argument("--rows", type=int, default=20000, help="NSMC rows to read (fast mode: 2000)")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="NSMC-style TSV(.gz): id, document, label")
    p.add_argument("--vocab-size", type=int, default=4000)
    p.add_argument("--hidden-size", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    a = p.parse_args(argv)
    build_tiny_checkpoint(
        a.out,
        steps=a.steps,
        rows=a.rows,
        data=a.data,
        vocab_size=a.vocab_size,
        hidden_size=a.hidden_size,
        layers=a.layers,
        max_length=a.max_length,
        batch_size=a.batch_size,
        lr=a.lr,
        seed=a.seed,
        threads=a.threads,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
