"""Insert throughput of ClickHouseStore.insert_mentions (embedded chdb, or --url for a server).

    .venv/bin/python bench/clickhouse_insert.py [--rows 100000] [--batch 10000] [--url chdb:///tmp/x]

Prints rows/s for building the columns + inserting (the sink agent's cost), then for a replay
of the same rows, and checks that the exact count is still the number of distinct events.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from schemas.records import PLATFORMS, ScoredMention  # noqa: E402
from tables.clickhouse.store import ClickHouseStore  # noqa: E402

TEXTS = ["존맛 ㅋㅋ 내돈내산 후기", "배송 너무 늦어요 ㅠㅠ 별로", "개이득 할인 중!!", "This is great, love it", "그냥 그래요"]
LABELS = ["negative", "neutral", "positive"]


def make_rows(n: int, seed: int = 7, span_minutes: float = 120.0, prefix: str = "p") -> list[ScoredMention]:
    """n scored mentions spread evenly over span_minutes ending now, 21 platforms x 21 campaigns."""
    rnd = random.Random(seed)
    base = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=span_minutes)
    step_ms = span_minutes * 60_000 / max(n, 1)
    rows = []
    for i in range(n):
        label = LABELS[i % 3]
        rows.append(ScoredMention.model_construct(
            **ScoredMention(
                platform=PLATFORMS[i % len(PLATFORMS)], post_id=f"{prefix}{i}", url=f"https://ex.com/{i}",
                author={"id": f"u{rnd.randrange(10_000)}", "handle": "h", "followers": rnd.randrange(10_000)},
                text=TEXTS[i % len(TEXTS)], lang="ko", hashtags=["신상", "ad"][: i % 3],
                engagement={"likes": rnd.randrange(100), "comments": rnd.randrange(10)},
                posted_at=base + timedelta(milliseconds=step_ms * i), brand="acme",
                campaigns=[f"c{i % 20}"] if i % 4 else [], sentiment=rnd.uniform(-1, 1), sentiment_label=label,
                toxicity=rnd.random(), toxic=i % 17 == 0, credibility=0.7, slang_terms=["존맛"] if i % 5 == 0 else [],
                scored_at=base,
            ).__dict__
        ))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=10_000, help="rows per insert_mentions call (the sink's batch)")
    ap.add_argument("--url", default="")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="tv-bench-ch-")
    url = args.url or f"chdb://{tmp.name}/ch"
    store = ClickHouseStore(url, "truevoice_bench")
    store.migrate()
    total = 0
    # live: posted_at within the last 10 minutes (what the sink sees at ~170 events/s and up);
    # history: spread over 2 hours (a replay of older data: many more minute keys per batch)
    for label, span in (("live, 10 min span", 10.0), ("history, 2 h span", 120.0)):
        rows = make_rows(args.rows, span_minutes=span, prefix=f"{span}-")
        for run in ("insert", "replay"):
            t = time.perf_counter()
            for start in range(0, len(rows), args.batch):
                store.insert_mentions(rows[start:start + args.batch])
            dt = time.perf_counter() - t
            print(f"{label:18s} {run:6s}: {len(rows):,} rows in {dt:.2f} s = {len(rows) / dt:,.0f} rows/s "
                  f"(batch {args.batch:,})")
        total += len(rows)
    t = time.perf_counter()
    n = store.count_mentions()
    print(f"count_mentions() = {n:,} (expected {total:,}) in {time.perf_counter() - t:.3f} s")
    t = time.perf_counter()
    w = store.window_rows(datetime.now(timezone.utc) - timedelta(hours=3))
    print(f"window_rows(last 3 h): {len(w):,} keys in {time.perf_counter() - t:.3f} s")
    t = time.perf_counter()
    store.query("SELECT campaign_id, sum(mention_count) FROM campaign_minute_stats_mv GROUP BY campaign_id")
    print(f"MV view read: {time.perf_counter() - t:.3f} s")
    assert n == total, (n, total)
    store.close()
    tmp.cleanup()


if __name__ == "__main__":
    main()
