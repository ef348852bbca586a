"""Faults end to end: ClickHouse's disk fills up mid-stream, then frees up again.

A real worker (Tansu, RocksDB, chdb on a 64 MB tmpfs) keeps taking mentions while its inserts
fail with a full disk; afterwards every mention is in ClickHouse exactly once and the live
windows equal what ClickHouse says, per (campaign, platform, minute): retried inserts never
re-send window deltas.
"""

from __future__ import annotations

import errno
import subprocess
import urllib.error
from pathlib import Path

import orjson
import pytest

from tests.conftest import wait_until
from tests.mentions import PLATFORMS, make_mentions
from tests.test_pipeline import produce

CAMPAIGN = {"campaign_id": "ramen", "brand": "농심", "keywords": ["신라면"]}


@pytest.fixture
def small_disk(tmp_path: Path):
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)], capture_output=True)
    assert done.returncode == 0, f"cannot mount a tmpfs (the tests run as root): {done.stderr.decode().strip()}"
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(mount: Path) -> Path:
    """Write zeros into ``mount`` until the disk is full."""
    filler = mount / "filler"
    chunk = b"\0" * (1 << 20)
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
        try:  # the last bytes too, so not even a small part fits
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass
    return filler


def rows_or_none(worker, query: str):
    try:
        return worker.sql(query)
    except (AssertionError, urllib.error.URLError, OSError):
        return None


def windows(worker, campaign: str, platform: str) -> dict[int, tuple[int, float]]:
    body = worker.get(f"/api/windows?campaign={campaign}&platform={platform}&windows=60")
    return {row["minute"]: (int(row["count"]), row["sentiment_sum"]) for row in body["tumbling_1m"]}


def clickhouse_windows(worker, campaign: str) -> dict[str, dict[int, tuple[int, float]]]:
    where = "" if campaign == "*" else f"WHERE has(CAST(campaigns, 'Array(String)'), '{campaign}')"
    rows = worker.sql(
        "SELECT platform, toUInt32(toUnixTimestamp(toStartOfMinute(toDateTime(posted_at, 'UTC')))) AS minute, "
        f"count(), sum(toFloat64(sentiment)) FROM mentions FINAL {where} GROUP BY platform, minute")
    out: dict[str, dict[int, tuple[int, float]]] = {p: {} for p in PLATFORMS}
    for platform, minute, n, s in rows:
        out[platform][int(minute)] = (int(n), s)
    return out


def agree(got: dict[int, tuple[int, float]], want: dict[int, tuple[int, float]]) -> bool:
    """The same minutes and counts, and sentiment sums equal up to ClickHouse's Float32 storage
    of each score (the window adds the float64 the topic carries)."""
    return got.keys() == want.keys() and all(
        got[m][0] == want[m][0] and abs(got[m][1] - want[m][1]) <= 1e-6 * max(1, want[m][0]) for m in want)


def ready(worker) -> dict:
    try:
        return worker.get("/ready")
    except urllib.error.HTTPError as exc:
        assert exc.code == 503
        return orjson.loads(exc.read())


def test_a_full_disk_delays_inserts_but_windows_stay_exact(broker, worker_factory, small_disk):
    worker = worker_factory(broker)
    worker.env["TRUEVOICE_CLICKHOUSE_URL"] = f"chdb://{small_disk}/clickhouse"
    worker.env["TRUEVOICE_BACKLOG_FLOOR_RECORDS"] = "500"  # a small bound, so a short test passes it
    worker.start()
    assert worker.post("/api/campaigns", CAMPAIGN)[0] == 201
    wait_until(lambda: any(c["campaign_id"] == "ramen" for c in worker.get("/api/campaigns")["campaigns"]), 30,
               "the campaign")

    first = make_mentions(800, seed=21, prefix="f1")
    produce(broker.bootstrap_servers, [orjson.dumps(m) for m in first])
    wait_until(lambda: worker.scalar("SELECT count() FROM mentions FINAL") == len(first), 60, "the first mentions")
    failures_before = worker.metrics()["truevoice_loop_failures_total"]

    filler = fill(small_disk)
    second = make_mentions(1200, seed=22, prefix="f2")
    produce(broker.bootstrap_servers, [orjson.dumps(m) for m in second])
    wait_until(lambda: worker.metrics()["truevoice_loop_failures_total"] >= failures_before + 2, 60,
               "inserts failing on the full disk")
    # a full disk is visible: not ready, the reason says storage, and once the unprocessed
    # backlog passes its bound ingest stops taking input: 503 with Retry-After
    state = wait_until(lambda: _when(ready(worker), lambda r: any("behind" in p for p in r["problems"])), 30,
                       "/ready false with the backlog over its bound")
    assert not state["ready"]
    assert any(p.startswith("sink:") and "NOT_ENOUGH_SPACE" in p for p in state["problems"]), state
    third = make_mentions(50, seed=23, prefix="f3")
    status, headers, body = _post_raw(worker, third)
    assert status == 503 and int(headers["Retry-After"]) >= 1 and "behind" in body["error"], (status, body)
    filler.unlink()
    wait_until(lambda: ready(worker)["ready"], 60, "/ready true again once space returns")
    status, body = worker.post("/api/mentions", third)  # accepted again, and stored
    assert status == 202 and body["accepted"] == len(third)

    everything = first + second + third
    wait_until(lambda: (rows_or_none(worker, "SELECT count() FROM mentions FINAL") or [(0,)])[0][0] == len(everything),
               60, "every mention after the disk was freed")
    assert worker.scalar("SELECT count() FROM mentions FINAL") == len(everything)
    assert worker.scalar("SELECT uniqExact(post_id) FROM mentions FINAL") == len(everything)
    assert worker.scalar("SELECT count() FROM deadletter FINAL") == 0

    for campaign in ("*", "ramen"):
        want = clickhouse_windows(worker, campaign)
        if campaign == "ramen":
            assert sum(n for per in want.values() for n, _ in per.values()) > 0, "the campaign matched nothing"
        for platform in PLATFORMS:
            try:
                wait_until(lambda: agree(windows(worker, campaign, platform), want[platform]), 20,
                           f"windows of {campaign} on {platform} equal ClickHouse")
            except AssertionError:
                got = windows(worker, campaign, platform)
                diff = {m: (got.get(m), want[platform].get(m)) for m in set(got) | set(want[platform])
                        if not agree({m: got[m]} if m in got else {}, {m: want[platform][m]} if m in want[platform] else {})}
                raise AssertionError(f"{campaign} {platform}: (window, clickhouse) differ: {diff}")
    assert worker.get("/health") == {"status": "ok"}


def _post_raw(worker, body: object) -> tuple[int, dict, dict]:
    import urllib.request

    req = urllib.request.Request(worker.url + "/api/mentions", data=orjson.dumps(body),
                                 headers={"Content-Type": "application/json", **worker.headers})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), orjson.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), orjson.loads(exc.read())


def _when(value, test):
    return value if test(value) else None
