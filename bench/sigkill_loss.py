"""What a SIGKILL of ``truevoice up`` loses during a full-speed replay.

The embedded Tansu broker keeps topics in memory only: what it holds and the worker has not yet
written to ClickHouse is gone when ``up`` dies. Replay (and HTTP ingest) therefore wait while
the unprocessed backlog is above a few seconds of measured capacity (``streams.kafka.backlog``).

This benchmark starts ``up --no-sample``, replays N mentions at full speed exactly as
``truevoice replay`` does (same producer code, same backpressure), SIGKILLs ``up`` once
ClickHouse holds about half of them, restarts it on the same data directory and counts how many
of the mentions the broker had acknowledged are in ClickHouse.

    .venv/bin/python bench/sigkill_loss.py                    # with backpressure (the default)
    .venv/bin/python bench/sigkill_loss.py --no-backpressure  # as before it existed
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from pipeline import HEADERS, api, load_texts  # noqa: E402
from schemas import Topics  # noqa: E402
from streams.kafka.backlog import BacklogGauge, BacklogLimit  # noqa: E402
from streams.kafka.embedded import free_port  # noqa: E402
from streams.keystore import KeyStore  # noqa: E402
from streams.settings import Settings  # noqa: E402


def stored(url: str) -> int:
    return api(url, "/api/sql", {"sql": "SELECT count() FROM mentions FINAL WHERE startsWith(post_id, 'k-')"},
               timeout=60)["rows"][0][0]


def start_up(data_dir: Path, web_port: int, broker_port: int) -> subprocess.Popen:
    env = dict(os.environ, TRUEVOICE_LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    log = open(data_dir.parent / f"up-{time.time():.0f}.log", "ab")
    proc = subprocess.Popen([sys.executable, "-m", "streams.cli", "up", "--no-sample", "--data-dir", str(data_dir),
                             "--web-port", str(web_port), "--broker-port", str(broker_port)],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while True:
        try:
            if api(f"http://127.0.0.1:{web_port}", "/ready", timeout=60)["ready"]:
                return proc
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            raise SystemExit(f"up did not start; see {log.name}")
        time.sleep(0.2)


async def replay_and_kill(bootstrap: str, url: str, records: list[bytes], proc: subprocess.Popen,
                          backpressure: bool) -> tuple[int, float, float]:
    """(acknowledged, seconds from first send to the kill, capacity measured by the gauge)."""
    settings = Settings()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=10, max_batch_size=262144)
    await producer.start()
    gauge = None
    if backpressure:
        gauge = BacklogGauge(bootstrap, {f"{settings.app_id}.score": [Topics.RAW],
                                         f"{settings.app_id}.sink": [Topics.SCORED]},
                             limit=BacklogLimit(settings.backlog_limit_seconds, settings.backlog_floor_records))
        await gauge.start()
    killed = asyncio.Event()
    start = time.time()

    def progress() -> int:
        try:
            return stored(url)
        except OSError:  # a swamped worker may answer late: ask again
            return 0

    async def killer() -> float:
        while await asyncio.to_thread(progress) < len(records) // 2:
            await asyncio.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        killed.set()
        return time.time() - start

    kill_task = asyncio.create_task(killer())
    acked = 0
    try:
        for i in range(0, len(records), 1000):
            if killed.is_set():
                break
            futures = [await producer.send(Topics.RAW, v) for v in records[i:i + 1000]]
            done = await asyncio.gather(*futures, return_exceptions=True)
            acked += sum(not isinstance(d, BaseException) for d in done)
            if gauge is not None and gauge.over_limit and not killed.is_set():
                await asyncio.wait([asyncio.ensure_future(gauge.wait_below()),
                                    asyncio.ensure_future(killed.wait())], return_when=asyncio.FIRST_COMPLETED)
    except Exception:  # noqa: BLE001 - the broker died with up
        pass
    at = await kill_task
    capacity = gauge.capacity if gauge else 0.0
    for closing in (gauge.stop() if gauge else None, producer.stop()):
        if closing is not None:
            try:
                await asyncio.wait_for(closing, 5)
            except Exception:  # noqa: BLE001
                pass
    return acked, at, capacity


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=50_000, help="mentions to replay")
    ap.add_argument("--no-backpressure", action="store_true", help="replay without waiting for the worker")
    ap.add_argument("--texts", type=Path, help="texts (see bench/pipeline.py); default: the bundled sample's")
    args = ap.parse_args()

    texts = load_texts(args.texts)
    rng = random.Random(5)
    now = time.time()
    records = []
    for i in range(args.n):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now - rng.randint(0, 3600)))
        records.append(orjson.dumps({
            "platform": rng.choice(["twitter", "instagram", "dcinside", "naver_blog", "clien"]),
            "post_id": f"k-{i}", "author": {"id": f"u{rng.randint(1, 5000)}"}, "text": texts[i % len(texts)],
            "posted_at": stamp}))

    root = Path(tempfile.mkdtemp(prefix="truevoice-sigkill-"))
    data_dir = root / "data"
    data_dir.mkdir()
    HEADERS["Authorization"] = "Bearer " + KeyStore.in_data_dir(data_dir).create("default", admin=True, name="bench").key
    web_port, broker_port = free_port(), free_port()
    url = f"http://127.0.0.1:{web_port}"
    proc = start_up(data_dir, web_port, broker_port)
    acked, at, capacity = asyncio.run(replay_and_kill(f"127.0.0.1:{broker_port}", url, records, proc,
                                                      not args.no_backpressure))
    proc.wait(30)
    again = start_up(data_dir, free_port(), free_port())
    url = f"http://127.0.0.1:{again.args[again.args.index('--web-port') + 1]}"
    kept = stored(url)
    again.send_signal(signal.SIGTERM)
    again.wait(60)
    lost = acked - kept
    mode = "without backpressure" if args.no_backpressure else "with backpressure"
    print(f"SIGKILL of up {at:.1f} s into a full-speed replay of {args.n} mentions ({mode}):")
    print(f"  acknowledged by the broker  {acked}")
    print(f"  in ClickHouse after restart {kept}")
    line = f"  lost                        {lost} ({lost / max(acked, 1):.1%} of acknowledged"
    if capacity:
        line += f"; {lost / capacity:.1f} s of the {capacity:,.0f}/s capacity measured"
    print(line + ")")
    print(f"(data in {root})")


if __name__ == "__main__":
    main()
