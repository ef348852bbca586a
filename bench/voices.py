"""What the cross-mention tracker costs: µs per mention (scoring-process side and tracker side)
and memory per 1,000 mentions/s.

    .venv/bin/python bench/voices.py [--rate 1000] [--texts N]

Texts: the bundled sample's posts (Korean and English, community lengths). A stream at
``--rate`` mentions/s for the coordination window, authors drawn from a pool of 2,000,000 (Pareto:
a few post often), 2 % copies of a few campaign texts from fresh accounts.
"""

from __future__ import annotations

import argparse
import gc
import random
import tempfile
import time
import tracemalloc
from pathlib import Path

from schemas.records import event_id_for
from scoring.normalise import normalise_many
from scoring.voices import VoiceConfig, VoicePost, VoiceTracker, fingerprints
from streams.sample import load_sample
from tables.voices import MemoryVoiceStore, RocksVoiceStore

CAMPAIGNS = ["이번에 나온 신라면 골드 진짜 인생라면입니다 다들 꼭 드셔보세요 강추합니다",
             "갤럭시 새 모델 카메라 미쳤습니다 아이폰 쓰던 사람도 무조건 갈아타세요 후회 없음"]


def stream(texts: list[str], n: int, rate: float, seed: int = 1):
    rng = random.Random(seed)
    words = sorted({w for t in texts for w in t.split() if len(w) > 1})
    t0 = 1_780_000_000.0
    for i in range(n):
        if rng.random() < 0.02:
            text, author, age = rng.choice(CAMPAIGNS) + f" #{i}", f"fresh{rng.randint(0, 5000)}", 2
        else:
            # distinct posts: a sample text with a few other words of the sample mixed in
            text = rng.choice(texts) + " " + " ".join(rng.choices(words, k=4))
            author, age = f"author{int(rng.paretovariate(1.0) * 10_000) % 2_000_000}", rng.randint(0, 4000)
        yield event_id_for("twitter", str(i)), author, t0 + i / rate, age, text


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=1000.0)
    ap.add_argument("--minutes", type=float, default=10.0, help="coordination window simulated")
    args = ap.parse_args()
    texts = [m["text"] for m in load_sample()]
    n = int(args.rate * args.minutes * 60)
    items = list(stream(texts, n, args.rate))

    # as the scoring process does: a batch of 2,048 at a time, from the texts the models normalised
    raw = [x[4] for x in items]
    norm = normalise_many(raw)
    t = time.perf_counter()
    bands = [b for i in range(0, len(raw), 2048) for b in fingerprints(raw[i:i + 2048], norm[i:i + 2048])]
    fp_us = (time.perf_counter() - t) / len(bands) * 1e6
    posts = [VoicePost(e, a, ts, age, b) for (e, a, ts, age, _), b in zip(items, bands)]
    print(f"fingerprint (scoring process): {fp_us:.1f} µs/mention; "
          f"{sum(b is None for b in bands) / len(bands):.0%} of the texts too short to fingerprint")

    cfg = VoiceConfig(coordination_window_minutes=args.minutes)
    clock = lambda: posts[-1].posted_at  # noqa: E731
    for name, store in (("memory", MemoryVoiceStore()), ("rocksdb", RocksVoiceStore(tempfile.mkdtemp() + "/v"))):
        tracker = VoiceTracker(store, cfg, clock=clock)
        gc.collect()
        t = time.perf_counter()
        found = 0
        for i in range(0, len(posts), 2048):
            found += sum(f is not None for f in tracker.observe(posts[i:i + 2048]))
        took = time.perf_counter() - t
        # memory: the same stream again into a fresh tracker, traced (tracemalloc slows it down)
        traced = VoiceTracker(MemoryVoiceStore() if name == "memory" else store, cfg, clock=clock)
        if name == "rocksdb":
            traced.authors = RocksVoiceStore(tempfile.mkdtemp() + "/v2")
        gc.collect()
        tracemalloc.start()
        for i in range(0, len(posts), 2048):
            traced.observe(posts[i:i + 2048])
        current, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        authors = sum(1 for _ in store.items())
        print(f"tracker ({name} store): {took / len(posts) * 1e6:.1f} µs/mention over {len(posts):,} mentions "
              f"({args.minutes:g} min at {args.rate:g}/s), {found:,} with a cross-mention reason, "
              f"{tracker.clusters:,} clusters of 2+, {tracker.indexed_bands:,} indexed bands, {authors:,} authors")
        print(f"  Python heap held: {current / 2**20:.1f} MiB "
              f"({current / len(posts):.0f} B/mention in the window)")
        if name == "rocksdb":
            store.db.flush()
            disk = sum(p.stat().st_size for p in Path(store.path).rglob("*") if p.is_file())
            print(f"  RocksDB on disk: {disk / 2**20:.1f} MiB ({disk / len(posts):.0f} B/mention)")
            store.close()


if __name__ == "__main__":
    main()
