"""`truevoice up`, the embedded default, as a user runs it: sample in, SQL out, clean stop, restart."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from streams.sample import load_sample
from tests.conftest import REPO, wait_until
from tests.mentions import make_mentions

SAMPLE_PLATFORMS = Counter(m["platform"] for m in load_sample())
SAMPLE_SIZE = sum(SAMPLE_PLATFORMS.values())


def truevoice(*args: str, env: dict | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "streams.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=env)


def brand_wide_counts(worker, platform: str) -> int:
    body = worker.get(f"/api/windows?campaign=*&platform={platform}&windows=1440")
    return int(sum(row["count"] for row in body["tumbling_1m"]))


SAMPLE_BURSTS = {"haedam-bulkkot", "aether-chronicle", "nova-mobile"}  # streams.sample.generate BURSTS


def sample_alerts_are_incidents(up) -> dict[str, list[dict]]:
    """The records of alerts.spikes per incident of a sample burst (checked), after the sample replayed."""
    import asyncio
    import json

    import aiohttp
    import orjson
    from aiokafka import AIOKafkaConsumer

    def listed() -> dict[str, dict]:
        return {a["alert_id"]: a for a in up.get("/api/alerts")["alerts"]}

    wait_until(lambda: SAMPLE_BURSTS <= {a["campaign_id"] for a in listed().values()}, 60, "the bursts' alerts")
    bootstrap = json.loads((up.data_dir / "run.json").read_text())["broker_url"].removeprefix("kafka://")

    async def read() -> tuple[list[dict], list[dict]]:
        consumer = AIOKafkaConsumer("alerts.spikes", bootstrap_servers=bootstrap, auto_offset_reset="earliest")
        await consumer.start()
        try:
            batches = await consumer.getmany(timeout_ms=5000)
            records = [orjson.loads(r.value) for rs in batches.values() for r in rs]
        finally:
            await consumer.stop()
        async with aiohttp.ClientSession(headers=up.headers) as session:
            async with session.ws_connect(up.url.replace("http", "ws") + "/ws/alerts?recent=20") as ws:
                pushed = [await asyncio.wait_for(ws.receive_json(), 10)]
                while True:
                    try:
                        pushed.append(await asyncio.wait_for(ws.receive_json(), 0.5))
                    except asyncio.TimeoutError:
                        return records, pushed

    records, pushed = asyncio.run(read())
    by_id: dict[str, list[dict]] = {}
    for r in sorted(records, key=lambda r: r["revision"]):
        by_id.setdefault(r["alert_id"], []).append(r)
    bursts = {k: v for k, v in by_id.items() if v[0]["campaign_id"] in SAMPLE_BURSTS}
    for campaign in SAMPLE_BURSTS:  # one incident per burst
        assert sum(v[0]["campaign_id"] == campaign for v in bursts.values()) == 1, sorted(by_id)
    for alert_id, revisions in by_id.items():
        # at most one raise, then updates; a replayed burst may be over (resolved) when first published
        assert [r["revision"] for r in revisions] == list(range(len(revisions))), alert_id
        assert revisions[0]["status"] in ("open", "resolved") and all(r["status"] != "open" for r in revisions[1:])
        assert len(revisions) <= 8, [(r["status"], r["severity"], r["platforms"]) for r in revisions]
    for alert_id, revisions in bursts.items():
        last = revisions[-1]
        assert last["terms"] and last["examples"] and len(last["platforms"]) >= 2, last["message"]
        assert "People are saying:" in last["message"] and last["count"] > last["expected_high"]
    assert {a["alert_id"] for a in pushed} >= set(bursts)  # the WebSocket's recent incidents
    return bursts


def test_up_replays_sample_stops_cleanly_and_restarts_with_everything(worker_factory, tmp_path):
    up = worker_factory(None, command="up").start()
    wait_until(lambda: up.scalar("SELECT count() FROM mentions FINAL") == SAMPLE_SIZE, 120, "the sample in ClickHouse")
    for platform, n in SAMPLE_PLATFORMS.items():
        wait_until(lambda: brand_wide_counts(up, platform) == n, 60, f"windows for {platform}")

    # the sample's bursts are incidents: on the topic (one raise, then updates of the same id), on
    # the WebSocket and at /api/alerts, with what people say and examples
    incidents = sample_alerts_are_incidents(up)

    # `truevoice sql` goes through the running process (chdb allows one process per data path)
    out = truevoice("sql", "--data-dir", str(up.data_dir), "SELECT count() AS n FROM mentions FINAL")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[1].split() == ["|", "n", "|"] and lines[3] == f"| {SAMPLE_SIZE} |" and lines[-1] == "1 row"
    denied = truevoice("sql", "--data-dir", str(up.data_dir), "DROP TABLE mentions")
    assert denied.returncode != 0 and "DROP is not allowed" in denied.stderr
    denied = truevoice("sql", "--data-dir", str(up.data_dir), "SELECT * FROM file('/etc/passwd', 'LineAsString')")
    assert denied.returncode != 0 and "file() is not allowed" in denied.stderr and "root:" not in denied.stdout

    # up made a private salt on first start; authors reach ClickHouse only as keyed pseudonyms
    salt_file = up.data_dir / "anon.salt"
    assert salt_file.stat().st_mode & 0o777 == 0o600 and len(salt_file.read_bytes()) == 32
    salt = salt_file.read_bytes()
    raw_ids = {m["author"]["id"] for m in load_sample()}
    stored_ids = {r[0] for r in up.sql("SELECT DISTINCT author_id FROM mentions")}
    assert stored_ids and not (stored_ids & raw_ids) and all(i.startswith("author_") for i in stored_ids)
    # nor by handle: not as author_handle, nor inside a post's URL (twitter.com/<handle>/status/…)
    raw_handles = {m["author"]["handle"].lstrip("@").lower() for m in load_sample() if m["author"].get("handle")}
    stored = up.sql("SELECT groupUniqArray(author_handle), groupUniqArray(lower(url)) FROM mentions")[0]
    assert stored[0] and not (set(stored[0]) & raw_handles)
    assert not [u for u in stored[1] for h in raw_handles if h in u]

    # accepted a moment before Ctrl-C: the broker keeps topics in memory only, so `up` must
    # drain them into ClickHouse before it stops
    late = make_mentions(500, seed=21, prefix="late")
    status, body = up.post("/api/mentions", late)
    assert status == 202 and body["accepted"] == len(late)
    assert up.stop(signal.SIGINT, group=True) == 0  # Ctrl-C in a terminal
    assert not (up.data_dir / "run.json").exists()

    again = worker_factory(None, command="up", data_dir=up.data_dir).start()
    assert salt_file.read_bytes() == salt  # kept: pseudonyms stay stable across restarts
    assert again.scalar("SELECT count() FROM mentions FINAL") == SAMPLE_SIZE + len(late)
    late_platforms = Counter(m["platform"] for m in late)
    for platform, n in (SAMPLE_PLATFORMS + late_platforms).items():
        wait_until(lambda: brand_wide_counts(again, platform) == n, 60, f"rebuilt windows for {platform}")
    # the alerts outlive the worker: listed from ClickHouse after the restart
    listed = {a["alert_id"]: a for a in again.get("/api/alerts")["alerts"]}
    assert set(incidents) <= set(listed) and all(listed[i]["terms"] for i in incidents)
    assert again.stop(signal.SIGTERM) == 0


@pytest.mark.parametrize("command", ["up", "worker", "replay", "topics", "migrate", "sql", "models", "keys"])
def test_every_subcommand_has_help(command):
    out = truevoice(command, "--help")
    assert out.returncode == 0 and "usage: truevoice" in out.stdout


def test_worker_without_broker_says_what_to_set(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "TRUEVOICE_DATA_DIR": str(tmp_path), "TRUEVOICE_ANON_SALT": "x" * 32}
    out = truevoice("worker", env=env)
    assert out.returncode != 0 and "TRUEVOICE_BROKER_URL" in out.stderr


def test_worker_without_a_salt_refuses_to_start(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "TRUEVOICE_DATA_DIR": str(tmp_path), "TRUEVOICE_BROKER_URL": "kafka://127.0.0.1:1"}
    out = truevoice("worker", env=env)
    assert out.returncode != 0 and "worker needs an anonymisation salt" in out.stderr
    assert not (tmp_path / "anon.salt").exists()


def test_stop_never_waits_on_an_endless_analyst_query(worker_factory):
    """SIGTERM while an analyst query that never ends runs: up drains, kills the query, exits."""
    import socket

    up = worker_factory(None, command="up", extra=["--no-sample"]).start()
    body = b'{"sql": "SELECT count() FROM numbers(1000000000000)"}'
    endless = socket.create_connection(("127.0.0.1", up.web_port))
    endless.sendall(f"POST /api/sql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    f"Authorization: Bearer {up.api_key}\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    wait_until(lambda: up.metrics()["truevoice_analyst_queries_running"] == 1, 30, "the endless query running")
    accepted = make_mentions(200, seed=17, prefix="term")
    assert up.post("/api/mentions", accepted)[0] == 202
    assert up.stop(signal.SIGTERM, timeout=60) == 0  # not hung on the query
    endless.close()
    again = worker_factory(None, command="up", extra=["--no-sample"], data_dir=up.data_dir).start()
    assert again.scalar("SELECT count() FROM mentions FINAL WHERE post_id LIKE 'term-%'") == len(accepted)
    assert again.stop(signal.SIGTERM) == 0


def _banner(up) -> list[str]:
    """Start ``up`` and read its output up to the banner's dashboard line."""
    with open(up.log_path, "ab") as log:  # the fixture's cleanup ends the process
        up.proc = subprocess.Popen([sys.executable, "-m", "streams.cli", *up.args], env=up.env, cwd=REPO,
                                   stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True)
    printed = []
    for line in up.proc.stdout:
        printed.append(line)
        if line.lstrip().startswith("dashboard "):
            break
    return printed


def test_up_prints_its_banner_once_the_api_answers(worker_factory):
    import urllib.request

    # a data directory without keys: up makes the first admin key and shows it once
    up = worker_factory(None, command="up", extra=["--no-sample"], make_key=False)
    printed = _banner(up)
    api = next(line for line in printed if line.lstrip().startswith("API "))
    assert api.split()[1] == f"{up.url}/", "".join(printed)
    with urllib.request.urlopen(up.url + "/health", timeout=5) as resp:  # answered before the banner
        assert resp.status == 200
    key = next(line for line in printed if line.lstrip().startswith("API key")).split()[2]
    assert printed[-1].split()[1] == f"{up.url}/#key={key}"
    req = urllib.request.Request(up.url + "/api/campaigns", headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 200
    assert key not in (up.data_dir / "api_keys.json").read_text()
    assert up.stop(signal.SIGTERM) == 0
    up.proc.stdout.close()
    # later starts show no key (none is kept to show); they say how to make one
    again = worker_factory(None, command="up", extra=["--no-sample"], data_dir=up.data_dir, make_key=False)
    printed = _banner(again)
    assert key not in "".join(printed) and "truevoice keys create" in "".join(printed)
    assert printed[-1].split()[1] == f"{again.url}/"
    assert again.stop(signal.SIGTERM) == 0
    again.proc.stdout.close()
