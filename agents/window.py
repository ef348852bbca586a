"""Window agent, in two stages.

Stage 1 (``WindowCombinerAgent``): sums each batch of mentions.scored per (campaign, platform,
minute) and source partition, and sends one delta per key, minute and partition to
``windows.deltas``, keyed like the table. It shares the consumer of mentions.scored with the
sink (one fetch and one decode per record); each delta carries the batch's offset range in its
source partition, so the deltas of a batch are computed once and their send can be retried
alone: a delta applied twice is recognised by its range and skipped (``tables.windows.Bucket``).

Stage 2 (``apply_deltas`` in ``streams.app``, a Faust agent on ``windows.deltas``): applies each
delta to the tumbling RocksDB table inside normal stream iteration, then asks the spike detector
about the bucket (``agents.alerts``).
"""

from __future__ import annotations

import asyncio
from typing import Iterable, Sequence

from aiokafka import AIOKafkaProducer, ConsumerRecord

from schemas import Topics, WindowDelta
from tables.combiner import Combiner, WindowRow, window_key


class WindowCombinerAgent:
    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer
        self.combiner = Combiner()
        self.deltas_sent = 0

    def deltas(self, scored: Iterable[tuple[ConsumerRecord, WindowRow]],
               records: Iterable[ConsumerRecord] = ()) -> list[WindowDelta]:
        """The batch's deltas. ``scored``: (record, its ``window_row``) to count; ``records``: every
        mentions.scored record of the batch (also those that count nothing: a dead letter), so
        the offset range of each partition covers the whole batch."""
        for r in records:
            self.combiner.note(r.partition, r.offset)
        for r, row in scored:
            self.combiner.add_row(row, r.partition, r.offset)
        return self.combiner.drain()

    async def send(self, deltas: Sequence[WindowDelta]) -> None:
        """Send (or send again: duplicates are skipped where they are applied) the batch's deltas."""
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
