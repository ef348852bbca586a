"""Producing mention records into mentions.raw, with a progress bar and backpressure."""

from __future__ import annotations

import asyncio
from typing import Iterable

import orjson
from aiokafka import AIOKafkaProducer
from tqdm import tqdm

from schemas import Topics
from streams.kafka.backlog import BacklogGauge

WINDOW = 5000


async def produce_records(producer: AIOKafkaProducer, records: Iterable[dict | bytes], *, total: int | None = None,
                          desc: str = "replay", progress: bool = True, backlog: BacklogGauge | None = None) -> int:
    """Send each record as is (bytes) or as JSON (dict); invalid ones are the score agent's to dead-letter.

    With ``backlog``, sending pauses while the pipeline is further behind than its limit (the
    embedded broker holds only memory: what it holds unprocessed is what a crash would lose).
    """
    sent = 0
    pending: list[asyncio.Future] = []
    with tqdm(total=total, desc=desc, unit=" mentions", disable=not progress, mininterval=0.5) as bar:

        def waiting(gauge: BacklogGauge) -> None:
            bar.set_postfix_str(f"waiting: the worker is {gauge.lag} mentions behind", refresh=True)

        async def flush() -> None:
            await asyncio.gather(*pending)
            bar.update(len(pending))
            pending.clear()
            if backlog is not None and backlog.over_limit:
                await backlog.wait_below(waiting)
                bar.set_postfix_str("", refresh=False)

        for record in records:
            value = record if isinstance(record, bytes) else orjson.dumps(record)
            pending.append(await producer.send(Topics.RAW, value))
            sent += 1
            if len(pending) >= WINDOW:
                await flush()
        if pending:
            await flush()
    return sent
