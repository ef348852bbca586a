"""Scoring benchmark: CPU µs per mention of the scoring process and of the voice tracker.

Builds ``--n`` realistic mentions as ``bench/pipeline.py`` produces them (the bundled sample's
Korean and English posts, two joined, random authors), then measures with
``time.process_time`` (CPU of this process only, so a busy neighbour inflates it less than wall
time would):

* ``child``: the scoring process's whole batch path, ``agents.score._score_in_child`` (parse,
  validate, anonymise, normalise, the models, the reasons, the records' JSON, the voice posts),
  in batches of ``--batch``;
* ``fingerprint``: ``scoring.voices`` fingerprinting alone, as ``agents.voices.voice_posts`` does it;
* ``tracker``: ``VoiceStage.apply`` (the tracker plus the rewrite of the records that gained a
  reason) on the child's results, batch by batch, with author state in RocksDB
  (``streams.app._voice_stage``) or, with ``--memory``, in a dict.

``--dump FILE`` writes every scored record (without ``scored_at``), finding and cluster id as
JSON lines, to compare two versions of the code (``--compare OLD NEW``).

    .venv/bin/python bench/scoring_process.py                     # 20,480 mentions, every part
    .venv/bin/python bench/scoring_process.py --only tracker --n 40960
    .venv/bin/python bench/scoring_process.py --dump /tmp/before.jsonl
    .venv/bin/python bench/scoring_process.py --compare /tmp/before.jsonl /tmp/after.jsonl
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from pipeline import load_texts, mention  # noqa: E402


def build(n: int, seed: int, texts_path: Path | None, stamp: str | None = None) -> list[bytes]:
    """``n`` raw mentions, all posted at ``stamp`` (default: now), as bench/pipeline.py sends them."""
    texts = load_texts(texts_path)
    random.Random(seed).shuffle(texts)
    rng = random.Random(seed)
    stamp = stamp or datetime.now(timezone.utc).isoformat()
    return [orjson.dumps(mention(i, rng, stamp, texts)) for i in range(n)]


def per_mention(seconds: float, n: int) -> str:
    return f"{seconds / max(n, 1) * 1e6:7.1f} µs/mention"


def bench_child(vals: list[bytes], batch: int, repeat: int):
    from agents.score import ScorerConfig, _init_child, _score_in_child

    _init_child(ScorerConfig(b"x" * 32, None, {}, 1))
    metas = [("mentions.raw", 0, i, 0) for i in range(len(vals))]
    _score_in_child(vals[:batch], metas[:batch], 0, [], True)  # warm up
    best = float("inf")
    results = []
    for _ in range(repeat):
        results = []
        t = time.process_time()
        for s in range(0, len(vals), batch):
            results.append(_score_in_child(vals[s:s + batch], metas[s:s + batch], 0, [], True))
        best = min(best, time.process_time() - t)
    print(f"child        {per_mention(best, len(vals))}  (_score_in_child, batches of {batch})")
    return results


def bench_fingerprint(results, repeat: int) -> None:
    from schemas import ScoredMention
    import scoring.voices as sv

    scored = [ScoredMention.loads(v) for r in results for _, v in r[0]]
    batch = getattr(sv, "fingerprints", None)
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        if batch is not None:
            batch([m.text for m in scored], [m.text_normalised for m in scored])
        else:
            for m in scored:
                sv.fingerprint(m.text)
        best = min(best, time.process_time() - t)
    how = "fingerprints(texts, normalised), one batch" if batch is not None else "fingerprint(text) each"
    print(f"fingerprint  {per_mention(best, len(scored))}  ({how})")


def bench_tracker(results, memory: bool, repeat: int):
    from agents.voices import VoiceStage, voice_config
    from scoring.credibility import CredibilityRules
    from scoring.voices import VoiceTracker
    from streams.settings import Settings
    from tables.voices import MemoryVoiceStore, RocksVoiceStore

    best = float("inf")
    outs: list = []
    n = sum(len(r[2]) for r in results)
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            # as streams.app._voice_stage builds it (not imported: streams.app imports every stage)
            settings = Settings(data_dir=tmp)
            rules = CredibilityRules.load()
            store = MemoryVoiceStore() if memory else RocksVoiceStore(settings.voices_dir)
            stage = VoiceStage(VoiceTracker(store, voice_config(rules, **settings.voice_limits)), rules)
            outs = []
            t = time.process_time()
            for scored, _letters, posts in results:
                records = stage.apply(scored, posts)
                outs.append((records, list(stage.tracker.cluster_ids)))
            best = min(best, time.process_time() - t)
            stage.tracker.authors.close()
    where = "memory" if memory else "RocksDB"
    print(f"tracker      {per_mention(best, n)}  (VoiceStage.apply, author state in {where})")
    return outs


def dump(path: Path, results, tracked) -> None:
    with open(path, "wb") as f:
        for (_scored, letters, posts), (records, cids) in zip(results, tracked):
            for (key, value), post, cid in zip(records, posts, cids):
                rec = orjson.loads(value)
                rec.pop("scored_at", None)
                f.write(orjson.dumps({"key": key.decode(), "record": rec, "cluster": cid,
                                      "post": [post.event_id, post.author_id, post.posted_at,
                                               post.account_age_days, post.bands is not None]},
                                     option=orjson.OPT_SORT_KEYS) + b"\n")
            for key, value in letters:
                f.write(orjson.dumps({"letter": key.decode()}) + b"\n")
    print(f"wrote {path}")


def compare(old: Path, new: Path) -> int:
    """Records and findings must be equal but for the coordination ids, which are compared as a
    clustering (the same posts grouped together) and summarised, since a change of the
    fingerprint's hashes legitimately moves borderline pairs (LSH is probabilistic)."""
    a = [orjson.loads(line) for line in old.read_bytes().splitlines()]
    b = [orjson.loads(line) for line in new.read_bytes().splitlines()]
    if len(a) != len(b):
        print(f"different lengths: {len(a)} vs {len(b)}")
        return 1
    records = clusters = 0
    groups: list[dict[str, list[int]]] = [{}, {}]
    flagged = [0, 0]
    for i, (x, y) in enumerate(zip(a, b)):
        for side, row in enumerate((x, y)):
            cid = row.pop("cluster", "")
            rec = row.get("record", {})
            coord = rec.pop("coordination", "")
            flagged[side] += bool(coord)
            # the coordination reason's evidence names the cluster's size: compared as a clustering
            reasons = rec.get("credibility_reasons") or []
            rec["credibility_reasons"] = [r for r in reasons if r.get("factor") != "coordination"]
            rec["coordinated"] = bool(coord)
            if cid:
                groups[side].setdefault(cid, []).append(i)
        if x != y:
            records += 1
            if records <= 3:
                print(f"line {i}: {orjson.dumps(x)[:800]!r}\n    vs {orjson.dumps(y)[:800]!r}")
    member = [{i: cid for cid, ms in g.items() for i in ms} for g in groups]
    for i in range(len(a)):
        ox, oy = member[0].get(i), member[1].get(i)
        same_x = set(groups[0][ox]) if ox else {i}
        same_y = set(groups[1][oy]) if oy else {i}
        clusters += same_x != same_y
    multi = [sum(len(ms) > 1 for ms in g.values()) for g in groups]
    print(f"{len(a)} lines: {records} records differ (coordination ids aside); "
          f"{clusters} posts in a different group of posts; "
          f"groups of 2+ posts {multi[0]} -> {multi[1]}; coordinated posts {flagged[0]} -> {flagged[1]}")
    return 1 if records or clusters else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=20480, help="mentions (default 20480)")
    p.add_argument("--batch", type=int, default=2048, help="mentions per scoring batch (default 2048)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--texts", type=Path, default=None, help="texts file (as bench/pipeline.py --texts)")
    p.add_argument("--repeat", type=int, default=1, help="runs of each part; the fastest is reported")
    p.add_argument("--only", choices=("child", "fingerprint", "tracker"), action="append",
                   help="measure only these parts (repeatable; the child always runs to feed the others)")
    p.add_argument("--stamp", default="2026-06-01T12:00:00+00:00",
                   help="posted_at of every mention (fixed, so two dumps compare; 'now' for the clock)")
    p.add_argument("--memory", action="store_true", help="tracker: author state in a dict, not RocksDB")
    p.add_argument("--dump", type=Path, help="write records, findings and cluster ids as JSON lines")
    p.add_argument("--compare", type=Path, nargs=2, metavar=("OLD", "NEW"), help="compare two dumps and exit")
    args = p.parse_args()
    if args.compare:
        return compare(*args.compare)
    parts = set(args.only or ("child", "fingerprint", "tracker"))
    vals = build(args.n, args.seed, args.texts, None if args.stamp == "now" else args.stamp)
    results = bench_child(vals, args.batch, args.repeat if "child" in parts else 1)
    if "fingerprint" in parts:
        bench_fingerprint(results, args.repeat)
    tracked = None
    if "tracker" in parts or args.dump:
        tracked = bench_tracker(results, args.memory, args.repeat)
    if args.dump:
        dump(args.dump, results, tracked)
    return 0


if __name__ == "__main__":
    sys.exit(main())
