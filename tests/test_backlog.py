"""The backlog gauge on a real Tansu broker: lag from the groups' commits, the limit, the wait."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from schemas import Topics
from streams.kafka.backlog import BacklogGauge, BacklogLimit
from streams.kafka.topics import ensure_topics

GROUP = "truevoice.score"


async def _produce(bootstrap: str, n: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        await asyncio.gather(*[await producer.send(Topics.RAW, b"{}", partition=i % 2) for i in range(n)])
    finally:
        await producer.stop()


async def _commit(bootstrap: str, offsets: dict[int, int]) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=GROUP, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = {TopicPartition(Topics.RAW, p): OffsetAndMetadata(o, "") for p, o in offsets.items()}
        consumer.assign(list(tps))
        await consumer.commit(tps)
    finally:
        await consumer.stop()


async def test_lag_counts_what_the_group_has_not_committed_and_the_limit_opens_again(broker):
    bootstrap = broker.url.split("://", 1)[1]
    await ensure_topics(bootstrap, 2)
    await _produce(bootstrap, 300)  # many records per batch: Tansu under-reports such ends
    gauge = BacklogGauge(bootstrap, {GROUP: [Topics.RAW]}, limit=BacklogLimit(seconds=2, floor_records=100))
    await gauge.start()
    try:
        assert gauge.lag == 300 and gauge.over_limit and gauge.retry_after() >= 1
        await _commit(bootstrap, {0: 150, 1: 100})
        assert await gauge.measure() == 50
        assert not gauge.over_limit and gauge.retry_after() == 0
        # it committed 250 records while there was work: that is the capacity it has shown
        assert gauge.capacity > 0 and gauge.allowed >= 100
    finally:
        await gauge.stop()


async def test_wait_below_returns_once_the_group_catches_up(broker):
    bootstrap = broker.url.split("://", 1)[1]
    await ensure_topics(bootstrap, 2)
    await _produce(bootstrap, 200)
    gauge = BacklogGauge(bootstrap, {GROUP: [Topics.RAW]}, limit=BacklogLimit(seconds=2, floor_records=10),
                         interval=0.05)
    await gauge.start()
    try:
        waits: list[int] = []
        waiter = asyncio.create_task(gauge.wait_below(lambda g: waits.append(g.lag)))
        await asyncio.wait_for(_commit(bootstrap, {0: 100, 1: 100}), 30)
        await asyncio.wait_for(waiter, 30)
        assert waits and waits[0] == 200 and gauge.lag == 0
    finally:
        await gauge.stop()
