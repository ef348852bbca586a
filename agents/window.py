"""Window agent, in two stages.

Stage 1 (``WindowCombinerAgent``): sums each batch of mentions.scored per (campaign, platform,
minute) and sends one delta per key and minute to ``windows.deltas``, keyed like the table. It
shares the consumer of mentions.scored with the sink (one fetch and one decode per record);
the offsets are committed after the deltas were acknowledged and ClickHouse took the batch.

Stage 2 (``apply_deltas`` in ``streams.app``, a Faust agent on ``windows.deltas``): adds each
delta to the tumbling RocksDB table inside normal stream iteration, then asks the spike detector
about the bucket (``agents.alerts``).
"""

from __future__ import annotations

import asyncio
from typing import Sequence

from aiokafka import AIOKafkaProducer

from schemas import Topics, WindowDelta
from tables.combiner import Combiner, window_key


class WindowCombinerAgent:
    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer
        self.combiner = Combiner()
        self.deltas_sent = 0

    async def handle(self, scored: Sequence[dict]) -> None:
        """One call per ``window_flush_seconds`` of records (the loop lingers): one delta per key."""
        for mention in scored:
            self.combiner.add(mention)
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
