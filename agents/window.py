"""Window agent, in two stages.

Stage 1 (``WindowCombinerAgent``, an app-owned consumer of mentions.scored): sums each batch per
(campaign, platform, minute) and, every ``window_flush_seconds``, sends one delta per key and minute to
``windows.deltas`` keyed like the table; its offsets are committed after the sends were acknowledged.

Stage 2 (``apply_deltas``, a Faust agent on ``windows.deltas``): adds each delta to the tumbling
RocksDB table inside normal stream iteration, then asks the spike detector about the bucket.
"""

from __future__ import annotations

import asyncio
from typing import Sequence

import orjson
from aiokafka import AIOKafkaProducer, ConsumerRecord

from schemas import Topics, WindowDelta
from tables.combiner import Combiner, window_key


class WindowCombinerAgent:
    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer
        self.combiner = Combiner()
        self.deltas_sent = 0

    async def handle(self, records: Sequence[ConsumerRecord]) -> None:
        """One call per ``flush_seconds`` of records (the loop lingers), so one delta per key per flush."""
        for r in records:
            self.combiner.add(orjson.loads(r.value))
        deltas = self.combiner.drain()
        await send_deltas(self.producer, deltas)
        self.deltas_sent += len(deltas)


async def send_deltas(producer: AIOKafkaProducer, deltas: Sequence[WindowDelta], *, rebuild: bool = False) -> None:
    sends = []
    for d in deltas:
        if rebuild:
            d.rebuild = True
        sends.append(await producer.send(
            Topics.WINDOW_DELTAS, d.dumps(), key=window_key(d.campaign_id, d.platform).encode(),
            timestamp_ms=d.minute * 1000,
        ))
    await asyncio.gather(*sends)
