"""The spine end to end: real Tansu, a real worker process, real RocksDB, real chdb."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer

from tests.conftest import wait_until
from tests.mentions import PLATFORMS, make_mentions, minute_counts


def produce(bootstrap: str, values: list[bytes]) -> None:
    async def go() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_request_size=8 * 1024 * 1024)
        await producer.start()
        try:
            futures = [await producer.send("mentions.raw", v) for v in values]
            await asyncio.gather(*futures)
        finally:
            await producer.stop()

    asyncio.run(go())


def window_counts(worker, platform: str) -> dict[int, int]:
    body = worker.get(f"/api/windows?campaign=*&platform={platform}&windows=30")
    return {row["minute"]: int(row["count"]) for row in body["tumbling_1m"]}


def test_n_mentions_become_n_rows_and_exact_windows(broker, worker_factory):
    worker = worker_factory(broker).start()
    mentions = make_mentions(3000)
    produce(broker.bootstrap_servers, [orjson.dumps(m) for m in mentions])

    wait_until(lambda: worker.scalar("SELECT count() FROM mentions FINAL") == len(mentions), 120, "3000 rows")
    assert worker.scalar("SELECT count() FROM mentions") == len(mentions)
    assert worker.scalar("SELECT uniqExact(event_id) FROM mentions") == len(mentions)

    expected = minute_counts(mentions)
    for platform in PLATFORMS:
        want = {minute: n for (p, minute), n in expected.items() if p == platform}
        wait_until(lambda: window_counts(worker, platform) == want, 60, f"window counts on {platform}")

    scored = worker.sql("SELECT sentiment_label, count() FROM mentions FINAL GROUP BY sentiment_label")
    assert {label for label, _ in scored} >= {"positive", "negative"}


def test_sigkill_mid_stream_then_restart_keeps_every_event_once(broker, worker_factory, tmp_path):
    worker = worker_factory(broker).start()
    mentions = make_mentions(20000, seed=11, prefix="k")
    produce(broker.bootstrap_servers, [orjson.dumps(m) for m in mentions])

    wait_until(lambda: worker.scalar("SELECT count() FROM mentions") > 2000, 120, "the first rows")
    children = worker.children()
    assert children, "the worker scores in a child process"
    worker.kill()
    wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in children), 30, "no orphaned scoring process")
    restarted = worker_factory(broker, data_dir=worker.data_dir).start()

    wait_until(lambda: restarted.scalar("SELECT count() FROM mentions FINAL") == len(mentions), 180, "all rows after restart")
    assert restarted.scalar("SELECT uniqExact(event_id) FROM mentions") == len(mentions)
    post_ids = {row[0] for row in restarted.sql("SELECT post_id FROM mentions FINAL")}
    assert post_ids == {m["post_id"] for m in mentions}


def test_malformed_records_are_dead_lettered_and_good_ones_land(broker, worker_factory):
    worker = worker_factory(broker).start()
    good = make_mentions(200, seed=3, prefix="g")
    huge = dict(good[0], post_id="huge", text="가" * 1_000_000)
    wrong_types = dict(good[1], post_id="wrong", author={"id": "a", "followers": "lots"})
    missing = {k: v for k, v in good[2].items() if k not in ("text", "posted_at")}
    missing["author"] = {"id": "a", "handle": "kim"}
    missing["url"] = "mailto:jane.doe@example.com 010-1234-5678"
    bad = [b"this is not json {", orjson.dumps(wrong_types), orjson.dumps(missing), orjson.dumps(huge),
           b'{"text": "\xff\xfe broken utf-8"}', orjson.dumps([1, 2, 3])]
    values = [orjson.dumps(m) for m in good[:100]] + bad + [orjson.dumps(m) for m in good[100:]]
    produce(broker.bootstrap_servers, values)

    wait_until(lambda: worker.scalar("SELECT count() FROM deadletter FINAL") == len(bad), 120, "dead letters")
    wait_until(lambda: worker.scalar("SELECT count() FROM mentions FINAL") == len(good), 120, "good rows")
    reasons = dict(worker.sql("SELECT error_type, reason FROM deadletter FINAL ORDER BY source_offset"))
    assert reasons.keys() == {"not_json", "invalid", "invalid_utf8", "not_object"}
    letters = worker.sql("SELECT error_type, reason, raw_size FROM deadletter FINAL ORDER BY source_offset")
    by_size = {size: (etype, reason) for etype, reason, size in letters}
    assert "not valid JSON" in by_size[len(bad[0])][1]
    assert "author.followers" in by_size[len(bad[1])][1]
    assert "text: Field required" in by_size[len(bad[2])][1] and "posted_at: Field required" in by_size[len(bad[2])][1]
    assert "at most 20000 characters" in by_size[len(bad[3])][1]
    assert by_size[len(bad[4])] == ("invalid_utf8", "not valid UTF-8: byte 0xff at position 10")
    assert by_size[len(bad[5])][0] == "not_object"
    stored = worker.scalar("SELECT raw FROM deadletter FINAL WHERE error_type = 'invalid' AND raw LIKE '%mailto%'")
    assert "j***@example.com" in stored and "jane.doe" not in stored and "010-1234-5678" not in stored
    assert worker.get("/health") == {"status": "ok"}
