"""``models`` subcommands: eval, bench (and export, when scoring.hf_export provides it).

``add_models_commands`` adds them to the ``truevoice`` CLI (``streams.cli``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

csv.field_size_limit(sys.maxsize)

BENCH_SENTENCES = [
    "이 집 떡볶이 존맛탱 ㅋㅋㅋㅋ 내돈내산 후기입니다",
    "배송이 너무 늦고 포장도 엉망이네요 다시는 안 삽니다",
    "신제품 가격 얼마예요? 링크 좀 주세요",
    "아 진짜 개빡치네 고객센터 전화를 왜 안 받냐",
    "그냥 평범했어요. 나쁘지도 좋지도 않음",
    "이번 업데이트 개이득 ㄹㅇ 갓겜 인정합니다 👍👍",
    "품절이라니 ㅠㅠ 재입고 언제 되나요?",
    "광고 너무 많이 나와서 짜증나요 ㅡㅡ",
    "친구 추천으로 샀는데 생각보다 괜찮네요 ㅎㅎ",
    "이거 살까 말까 고민중인데 써보신 분 계신가요?",
    "Just bought the new phone, battery life is amazing!",
    "Worst customer service ever, never buying from them again.",
    "Where can I buy this? Is there a link?",
    "The update is okay I guess, nothing special.",
    "뉴스 보니까 이번 분기 실적 발표가 다음 주래요",
    "헐 이 가격 실화냐 미쳤다 ㄷㄷ 바로 장바구니 담음",
    "직원분들 너무 친절하시고 매장도 깨끗해요 또 올게요~",
    "이딴 걸 돈 받고 파냐 쓰레기 같은 회사",
    "오늘 날씨 좋다 산책 가야지",
    "방금 주문했어요!! 빨리 왔으면 좋겠다",
]


def _read_tsv(path: Path) -> tuple[list[str], list[int]]:
    import gzip

    opener = gzip.open if str(path).endswith(".gz") else open
    texts, labels = [], []
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        if reader.fieldnames is None or "document" not in reader.fieldnames or "label" not in reader.fieldnames:
            raise SystemExit(f"{path}: needs a header with columns 'document' and 'label'")
        for row in reader:
            lab = (row.get("label") or "").strip()
            if lab == "":
                continue
            texts.append(row.get("document") or "")
            labels.append(int(lab))
    return texts, labels


def _predict(model_dir: Path, texts: list[str], batch: int = 256) -> np.ndarray:
    from scoring.normalise import normalise
    from scoring.text import load_classifier

    clf = load_classifier(model_dir)
    out = []
    for i in range(0, len(texts), batch):
        chunk = [normalise(t) for t in texts[i:i + batch]]
        out.append(np.asarray(clf.predict_proba(chunk)))
    return np.concatenate(out) if out else np.zeros((0, len(clf.labels)))


def cmd_eval(args) -> int:
    from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score

    from scoring.text import DEFAULT_MODEL_ROOT

    root = Path(args.model_root) if args.model_root else DEFAULT_MODEL_ROOT
    # the folder served for this task: --model, else the TextScorer override, else the shipped one
    from streams.settings import Settings

    model_dir = Path(args.model or Settings.from_env().model_overrides.get(args.task) or root / args.task)
    texts, y = _read_tsv(Path(args.file))
    y = np.asarray(y, dtype=int)
    if len(y) == 0:
        raise SystemExit("no labelled rows")
    t0 = time.perf_counter()
    P = _predict(model_dir, texts)
    dt = time.perf_counter() - t0
    mode = args.task
    if args.task == "sentiment":
        if P.shape[1] == 2:
            P = np.stack([P[:, 0], np.zeros(len(P)), P[:, 1]], 1)
        if set(np.unique(y)) <= {0, 1}:
            mode, names = "sentiment-binary", ["negative", "positive"]
            pred = (P[:, 2] > P[:, 0]).astype(int)  # neutral ignored: P(pos) vs P(neg)
        else:
            mode, names = "sentiment-3class", ["negative", "neutral", "positive"]
            pred = P.argmax(1)
    elif args.task == "toxicity":
        import json as _json

        meta = _json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
        thr = float(meta.get("threshold", 0.5))
        names = ["clean", "toxic"]
        pred = (P[:, -1] >= thr).astype(int)
    else:
        raise SystemExit(f"unknown task {args.task}")
    labels = list(range(len(names)))
    acc = float(accuracy_score(y, pred))
    mf1 = float(f1_score(y, pred, average="macro", labels=labels))
    print(f"{mode}: {len(y)} rows from {args.file}, model {model_dir}, {len(y) / dt:,.0f} rows/s")
    print(classification_report(y, pred, labels=labels, target_names=names, digits=4, zero_division=0))
    print("confusion (rows = truth):")
    print(confusion_matrix(y, pred, labels=labels))
    print(json.dumps({"task": args.task, "n": int(len(y)), "accuracy": round(acc, 5), "macro_f1": round(mf1, 5)}))
    return 0


def cmd_bench(args) -> int:
    from scoring.text import TextScorer

    scorer = TextScorer.load(Path(args.model_root) if args.model_root else None, intra_op_threads=args.threads)
    rng = np.random.default_rng(0)
    base = BENCH_SENTENCES
    # vary the texts so that nothing is cached: random pairs of sentences, some doubled
    texts = []
    for _ in range(args.n):
        a, b = rng.integers(len(base), size=2)
        texts.append(base[a] if rng.random() < 0.6 else base[a] + " " + base[b])
    bs = args.batch
    scorer.score(texts[:bs])  # warm-up
    best = 0.0
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        for i in range(0, len(texts), bs):
            scorer.score(texts[i:i + bs])
        dt = time.perf_counter() - t0
        best = max(best, len(texts) / dt)
        print(f"{len(texts)} texts, batch {bs}: {len(texts) / dt:,.0f} sentences/s")
    heads = {k: getattr(v, "format", type(v).__name__) for k, v in scorer.heads.items()}
    print(json.dumps({"sentences_per_s": round(best), "batch": bs, "n": len(texts), "heads": heads}))
    return 0


def add_models_commands(subparsers) -> None:
    p = subparsers.add_parser("models", help="text models: evaluate, benchmark, export")
    p.add_argument("--model-root", default=None, help="folder holding the model folders (default: the repo's onnx/)")
    sub = p.add_subparsers(dest="models_command", required=True)

    pe = sub.add_parser("eval", help="evaluate a model on a labelled TSV (columns document, label)")
    pe.add_argument("task", choices=["sentiment", "toxicity"])
    pe.add_argument("file")
    pe.add_argument("--model-root", default=argparse.SUPPRESS)
    pe.add_argument("--model", default=None, help="a model folder to evaluate (default: the one served for TASK)")
    pe.set_defaults(func=cmd_eval)

    pb = sub.add_parser("bench", help="sentences/s of the whole text model set, end to end")
    pb.add_argument("--batch", type=int, default=64)
    pb.add_argument("-n", type=int, default=20000)
    pb.add_argument("--repeat", type=int, default=3)
    pb.add_argument("--threads", type=int, default=None, help="ONNX Runtime intra-op threads")
    pb.add_argument("--model-root", default=argparse.SUPPRESS)
    pb.set_defaults(func=cmd_bench)

    from scoring import hf_export

    hf_export.add_export_command(sub)
