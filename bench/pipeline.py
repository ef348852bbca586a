"""Pipeline benchmark: mentions/s sustained end to end on the embedded stack, and latencies.

Starts ``truevoice up --no-sample`` (Tansu, the worker with scoring, windows, alerts and the
ClickHouse sink all switched on) in a subprocess, produces mentions at full speed for
``--seconds``, waits until ClickHouse holds every one, and reports:

* sustained mentions/s: mentions / (time the last one became visible in ClickHouse - first send)
* produce → ClickHouse-visible latency p50/p99 (``ingested_at - collected_at``; the benchmark
  stamps ``collected_at`` with the send time)
* CPU per mention of the worker process (event loop, sink, chdb), the scoring processes and the
  broker, from /proc (Linux): what each part costs, whatever the machine's core count
* produce → alert latency p50/p99: for each incident raised (revision 0), its ``raised_at`` minus
  the send time of the mention that took its campaign's first minute over the campaign's
  ``min_mentions`` (all mentions for the all-campaigns incident ``*``; the bench's campaigns are
  matched by their keywords here). The load itself is the burst: it
  starts from nothing, so each campaign raises one incident in the first minute.

    .venv/bin/python bench/pipeline.py --seconds 20               # capacity: as fast as it goes
    .venv/bin/python bench/pipeline.py --seconds 30 --rate 4000   # latency under a steady load
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from streams.kafka.embedded import free_port  # noqa: E402
from streams.keystore import KeyStore  # noqa: E402

SAMPLE = REPO / "streams" / "sample" / "mentions.jsonl.gz"


def load_texts(path: Path | None) -> list[str]:
    """Realistic texts: FILE (.txt one per line; .tsv/.txt.gz with a ``document`` or second column, as
    NSMC's ratings files; .jsonl[.gz] with ``text``) or, by default, the bundled sample's 4,150
    Korean and English community posts and reviews."""
    import csv
    import gzip

    path = path or SAMPLE
    opener = gzip.open if path.suffix == ".gz" else open
    name = path.name.removesuffix(".gz")
    with opener(path, "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()
    if name.endswith((".jsonl", ".ndjson")):
        texts = [orjson.loads(line)["text"] for line in lines if line.strip()]
    elif name.endswith(".tsv") or (lines and "\t" in lines[0]):
        rows = list(csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))
        col = rows[0].index("document") if "document" in rows[0] else 1
        texts = [r[col] for r in rows[1:] if len(r) > col]
    else:
        texts = lines
    texts = [t for t in texts if t.strip()]
    if not texts:
        raise SystemExit(f"no texts in {path}")
    return texts


PLATFORMS = ["twitter", "instagram", "dcinside", "naver_blog", "youtube", "clien", "fmkorea", "theqoo",
             "ruliweb", "blind"]
CAMPAIGNS = [
    {"campaign_id": "shin-ramyun", "brand": "nongshim", "keywords": ["신라면"], "min_mentions": 30},
    {"campaign_id": "galaxy", "brand": "samsung", "keywords": ["갤럭시", "galaxy"], "min_mentions": 30},
    {"campaign_id": "starbucks", "brand": "starbucks", "keywords": ["스타벅스"], "min_mentions": 30},
]


def matching(text: str) -> list[str]:
    low = text.lower()
    return [c["campaign_id"] for c in CAMPAIGNS if any(k in low for k in c["keywords"])]


MIN_MENTIONS = {"*": 30, **{c["campaign_id"]: c["min_mentions"] for c in CAMPAIGNS}}  # agents.campaigns defaults


# the API needs a key: main() makes an admin key in the data directory before `up` starts
HEADERS = {"Content-Type": "application/json"}


def api(url: str, path: str, body: object | None = None, timeout: float = 120) -> dict:
    req = urllib.request.Request(url + path, data=None if body is None else orjson.dumps(body),
                                 headers=HEADERS)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return orjson.loads(r.read())


def sql(url: str, query: str) -> list[list]:
    return api(url, "/api/sql", {"sql": query})["rows"]


def mention(i: int, rng: random.Random, sent_at: str, texts: list[str]) -> dict:
    return {
        "platform": rng.choice(PLATFORMS), "post_id": f"b{i}", "url": f"https://example.com/{i}",
        "author": {"id": f"u{rng.randint(1, 2_000_000)}", "handle": f"h{i % 977}", "created_at": "2019-05-01",
                   "followers": rng.randint(0, 20000), "following": rng.randint(0, 2000)},
        # two posts of the corpus joined: real traffic is mostly distinct texts, and a corpus cycled
        # at thousands per second would look like one huge copy-paste campaign to the tracker
        "text": f"{texts[i % len(texts)]} {rng.choice(texts)}", "hashtags": ["bench"], "engagement": {"likes": rng.randint(0, 300)},
        "posted_at": sent_at, "collected_at": sent_at,
    }


async def produce(bootstrap: str, seconds: float, seed: int, rate: float | None,
                  texts: list[str]) -> tuple[int, float, dict]:
    rng = random.Random(seed)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=512 * 1024)
    await producer.start()
    sent_times: dict[tuple[str, int], list[float]] = defaultdict(list)  # (campaign, minute) -> send times
    n = 0
    start = time.time()
    try:
        while time.time() - start < seconds:
            now = time.time()
            stamp = datetime.fromtimestamp(now, timezone.utc).isoformat()
            futures = []
            for _ in range(1000):
                m = mention(n, rng, stamp, texts)
                n += 1
                minute = int(now) // 60 * 60
                sent_times[("*", minute)].append(now)
                for campaign in matching(m["text"]):
                    sent_times[(campaign, minute)].append(now)
                futures.append(await producer.send("mentions.raw", orjson.dumps(m)))
            await asyncio.gather(*futures)
            if rate:
                # pace the load: latency is only meaningful below the pipeline's capacity
                await asyncio.sleep(max(start + n / rate - time.time(), 0))
    finally:
        await producer.stop()
    return n, start, sent_times


async def collect_alerts(bootstrap: str, stop: asyncio.Event, out: list[dict]) -> None:
    consumer = AIOKafkaConsumer("alerts.spikes", bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        while not stop.is_set():
            for records in (await consumer.getmany(timeout_ms=200)).values():
                out.extend(orjson.loads(r.value) for r in records)
    finally:
        await consumer.stop()


def cpu_seconds(root: int) -> dict[str, float]:
    """CPU seconds (user + system) used so far by ``root`` (the worker) and its descendants, by role:
    worker (event loop, sink, ClickHouse), scoring (the scoring processes), broker (Tansu). Linux /proc."""
    hz = os.sysconf("SC_CLK_TCK")
    procs: dict[int, tuple[int, float, str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        procs[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / hz, cmd.decode(errors="replace"))
    out = {"worker": 0.0, "scoring": 0.0, "broker": 0.0, "other": 0.0}
    for pid, (ppid, cpu, cmd) in procs.items():
        p, depth = pid, 0
        while p != root and p in procs and depth < 10:
            p, depth = procs[p][0], depth + 1
        if p != root:
            continue
        role = ("worker" if pid == root else "broker" if "tansu" in cmd else
                "scoring" if "multiprocessing" in cmd else "other")
        out[role] += cpu
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(int(q * len(values)), len(values) - 1)] if values else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20.0, help="how long to produce at full speed")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rate", type=float, help="mentions/s to produce (default: as fast as possible)")
    ap.add_argument("--keep", action="store_true", help="keep the data directory")
    ap.add_argument("--texts", type=Path, help="texts to send (default: the bundled sample's posts); see load_texts")
    args = ap.parse_args()
    texts = load_texts(args.texts)
    random.Random(args.seed).shuffle(texts)
    print(f"texts: two of {len(texts)} from {args.texts or SAMPLE.name} joined, "
          f"{2 * sum(map(len, texts)) / len(texts) + 1:.0f} characters on average", flush=True)

    data_dir = Path(tempfile.mkdtemp(prefix="truevoice-bench-"))
    HEADERS["Authorization"] = "Bearer " + KeyStore.in_data_dir(data_dir).create("default", admin=True, name="bench").key
    web_port, broker_port = free_port(), free_port()
    env = dict(os.environ, TRUEVOICE_LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    log = open(data_dir / "up.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "streams.cli", "up", "--no-sample", "--data-dir", str(data_dir),
                             "--web-port", str(web_port), "--broker-port", str(broker_port)],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{web_port}"
    bootstrap = f"127.0.0.1:{broker_port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                if api(url, "/ready")["ready"]:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise SystemExit(f"worker did not start; see {data_dir / 'up.log'}")
            time.sleep(0.2)
        for c in CAMPAIGNS:
            api(url, "/api/campaigns", c)
        while len(api(url, "/api/campaigns")["campaigns"]) < len(CAMPAIGNS):
            time.sleep(0.1)
        print(f"worker ready (pid {proc.pid}); producing for {args.seconds:.0f} s ...", flush=True)

        async def run() -> tuple[int, float, dict, list[dict]]:
            stop = asyncio.Event()
            alerts: list[dict] = []
            collector = asyncio.create_task(collect_alerts(bootstrap, stop, alerts))
            cpu_before.update(cpu_seconds(proc.pid))
            n, start, sent = await produce(bootstrap, args.seconds, args.seed, args.rate, texts)
            produced_at = time.time()
            print(f"produced {n} mentions in {produced_at - start:.1f} s ({n / (produced_at - start):,.0f}/s)", flush=True)
            # the figures come from ingested_at, not from this poll: poll rarely, it costs the worker CPU
            while sql(url, "SELECT count() FROM mentions")[0][0] < n:
                await asyncio.sleep(1.0)
            cpu_after.update(cpu_seconds(proc.pid))
            await asyncio.sleep(1.0)
            stop.set()
            await collector
            return n, start, sent, alerts

        cpu_before: dict[str, float] = {}
        cpu_after: dict[str, float] = {}
        n, start, sent, alerts = asyncio.run(run())
        rows = sql(url, "SELECT count(), uniqExact(event_id), toUnixTimestamp64Milli(max(ingested_at)), "
                        "quantiles(0.5, 0.99)(toUnixTimestamp64Milli(ingested_at) - toUnixTimestamp64Milli(collected_at)) "
                        "FROM mentions")
        count, distinct, last_ms, (p50, p99) = rows[0]
        elapsed = last_ms / 1000 - start
        alert_lat = []
        for a in alerts:
            if a.get("revision", 0) != 0 or a["campaign_id"] not in MIN_MENTIONS:
                continue
            minute = int(datetime.fromisoformat(a["minute"]).timestamp())
            times = sent.get((a["campaign_id"], minute), [])
            k = MIN_MENTIONS[a["campaign_id"]]
            if len(times) >= k:
                alert_lat.append(datetime.fromisoformat(a["raised_at"]).timestamp() - times[k - 1])
        print(f"ClickHouse rows {count} (distinct {distinct}) of {n} produced")
        print(f"sustained: {n / elapsed:,.0f} mentions/s end to end ({n} in {elapsed:.1f} s, produce to last row visible)")
        print(f"produce -> ClickHouse visible: p50 {p50 / 1000:.3f} s, p99 {p99 / 1000:.3f} s")
        used = {role: (cpu_after[role] - cpu_before[role]) / n * 1e6 for role in cpu_after}
        print("CPU per mention: " + ", ".join(f"{role} {used[role]:.0f} µs" for role in ("worker", "scoring", "broker"))
              + f" (total {sum(used.values()):.0f} µs on {os.cpu_count()} cores; the benchmark's own producer excluded)")
        if alert_lat:
            print(f"produce -> alert ({len(alert_lat)} incidents raised): "
                  f"p50 {statistics.median(alert_lat):.3f} s, p99 {pct(alert_lat, 0.99):.3f} s")
        else:
            print("no incident was raised")
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        if not args.keep:
            import shutil

            shutil.rmtree(data_dir, ignore_errors=True)
        else:
            print(f"data kept in {data_dir}")


if __name__ == "__main__":
    main()
