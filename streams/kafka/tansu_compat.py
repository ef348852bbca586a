"""Workarounds for the embedded Tansu broker's known gaps; installed only when Tansu is in use.

Tansu's ListOffsets(latest) answers "base offset of the newest record batch + 1", which is less
than the real end offset whenever that batch holds several records. Faust sizes table recovery
by those end offsets and then raises ConsistencyError (persisted offset > highwater). The Fetch
response's high watermark is correct, so we ask for it instead: one small fetch per partition
from just below the reported end.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition

_installed = False


async def true_end_offsets(bootstrap_servers: str, tps: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
    tps = list(tps)
    if not tps:
        return {}
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False,
                             max_partition_fetch_bytes=1024, fetch_max_wait_ms=50)
    await probe.start()
    try:
        return await probe_end_offsets(probe, tps)
    finally:
        await probe.stop()


async def probe_end_offsets(probe: AIOKafkaConsumer, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
    """True end offsets through ``probe`` (a started consumer without a group, which this
    re-assigns): one small fetch per partition from just below the reported end. On Kafka both
    agree."""
    reported = await probe.end_offsets(tps)
    result: dict[TopicPartition, int] = {}
    probe.assign([tp for tp in tps if reported[tp] > 0])
    for tp in tps:
        if reported[tp] > 0:
            probe.seek(tp, reported[tp] - 1)
        else:
            result[tp] = 0
    pending = {tp for tp in tps if tp not in result}
    for _ in range(20):
        if not pending:
            break
        await probe.getmany(*pending, timeout_ms=500, max_records=1)
        for tp in list(pending):
            hw = probe.highwater(tp)
            if hw is not None:
                result[tp] = max(hw, reported[tp])
                pending.discard(tp)
    for tp in pending:
        result[tp] = reported[tp]
    return result


def install(bootstrap_servers: str) -> None:
    """Make Faust's consumer ask Tansu for correct end offsets (idempotent)."""
    global _installed
    if _installed:
        return
    from faust.transport.drivers import aiokafka as faust_aiokafka

    async def _highwaters(self, partitions: list) -> Mapping:
        tps = [TopicPartition(tp.topic, tp.partition) for tp in partitions]
        ends = await true_end_offsets(bootstrap_servers, tps)
        return {tp: ends[TopicPartition(tp.topic, tp.partition)] for tp in partitions}

    faust_aiokafka.AIOKafkaConsumerThread._highwaters = _highwaters
    _installed = True
