"""Producing mention records into mentions.raw, with a progress bar."""

from __future__ import annotations

import asyncio
from typing import Iterable

import orjson
from aiokafka import AIOKafkaProducer
from tqdm import tqdm

from schemas import Topics

WINDOW = 5000


async def produce_records(producer: AIOKafkaProducer, records: Iterable[dict | bytes], *, total: int | None = None,
                          desc: str = "replay", progress: bool = True) -> int:
    """Send each record as is (bytes) or as JSON (dict); invalid ones are the score agent's to dead-letter."""
    sent = 0
    pending: list[asyncio.Future] = []
    with tqdm(total=total, desc=desc, unit=" mentions", disable=not progress, mininterval=0.5) as bar:
        for record in records:
            value = record if isinstance(record, bytes) else orjson.dumps(record)
            pending.append(await producer.send(Topics.RAW, value))
            sent += 1
            if len(pending) >= WINDOW:
                await asyncio.gather(*pending)
                bar.update(len(pending))
                pending.clear()
        if pending:
            await asyncio.gather(*pending)
            bar.update(len(pending))
    return sent
