"""The sink's insert stage against real chdb: scored mentions go in as the JSON the topic carries
(migration 006), and a record ClickHouse refuses is found by bisection and dead-lettered while
every other record of its batch is stored."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import orjson
import pytest
from aiokafka import ConsumerRecord

from agents.sink import SinkAgent, decode_batch
from schemas import Topics
from schemas.records import ScoredMention
from tables.clickhouse.store import ClickHouseStore


@pytest.fixture
def store(tmp_path):
    s = ClickHouseStore(f"chdb://{tmp_path / 'ch'}", "tv_sink")
    s.migrate()
    yield s
    s.close()


def scored(i: int) -> dict:
    m = ScoredMention(platform="twitter", post_id=f"p{i}", text=f"신라면 {i}번째 후기", author={"id": f"a{i}", "handle": "h"},
                      posted_at=datetime(2026, 12, 1, 9, i % 60, tzinfo=timezone.utc), campaigns=["c1"],
                      sentiment_probs=(0.1, 0.2, 0.7))
    return orjson.loads(m.dumps())


def record(offset: int, value: dict | bytes) -> ConsumerRecord:
    raw = value if isinstance(value, bytes) else orjson.dumps(value)
    return ConsumerRecord(Topics.SCORED, 0, offset, 0, 0, None, raw, None, 0, len(raw), [])


# values the scoring stage never writes, but a foreign producer on mentions.scored might
REFUSED = {
    "a negative follower count": lambda d: {**d, "author": {**d["author"], "followers": -5}},
    "a number as the text": lambda d: {**d, "text": 123},
    "an object as the text": lambda d: {**d, "text": {"a": 1}},
    "a string as the probabilities": lambda d: {**d, "sentiment_probs": "0.1,0.2"},
    "a string as a flag": lambda d: {**d, "toxic": "maybe"},
    "a fraction as a count": lambda d: {**d, "engagement": {**d["engagement"], "likes": 1.5}},
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_record_clickhouse_refuses_is_dead_lettered_and_the_rest_stored(store, case):
    values = [scored(i) for i in range(40)]
    values[17] = REFUSED[case](values[17])
    batch = decode_batch([record(i, v) for i, v in enumerate(values)])
    assert not batch.letters  # it is valid JSON with an event id: only ClickHouse can tell
    agent = SinkAgent(store, ThreadPoolExecutor(1))
    refused = agent._store(batch)
    assert [(d.source_offset, d.error_type) for d in refused] == [(17, "sink_refused")]
    assert "ClickHouse refused it" in refused[0].reason
    stored = {r[0] for r in store.select("SELECT post_id FROM mentions").rows}
    assert stored == {f"p{i}" for i in range(40) if i != 17}


def test_what_is_not_a_scored_mention_is_dead_lettered_before_the_insert(store):
    values = [record(0, scored(0)), record(1, b"[1, 2]"), record(2, b"{not json"), record(3, {**scored(3), "event_id": ""}),
              record(4, {**scored(4), "posted_at": "next tuesday"})]  # the windows read the time
    batch = decode_batch(values)
    assert sorted(d.source_offset for d in batch.letters) == [1, 2, 3, 4]
    assert all(d.error_type == "sink_invalid" for d in batch.letters)
    assert SinkAgent(store, ThreadPoolExecutor(1))._store(batch) == []
    assert store.select("SELECT post_id FROM mentions").rows == [("p0",)]
