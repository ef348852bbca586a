"""Score agent: mentions.raw → validate → enrich and score in batches → mentions.scored.

Bad records go to mentions.deadletter with the reason; the agent never dies on a record.
Raw offsets are committed only after every scored and dead-lettered record was acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

from aiokafka import AIOKafkaProducer, ConsumerRecord

from agents.enrich import MentionEnricher
from agents.validate import dead_letter, parse_mention
from schemas import Mention, Topics

log = logging.getLogger(__name__)


class ScoreAgent:
    def __init__(self, producer: AIOKafkaProducer, enricher: MentionEnricher, executor: ThreadPoolExecutor) -> None:
        self.producer = producer
        self.enricher = enricher
        self.executor = executor
        self.scored = 0
        self.dead_lettered = 0

    async def handle(self, records: Sequence[ConsumerRecord]) -> None:
        mentions: list[Mention] = []
        sends = []
        for r in records:
            parsed = parse_mention(r.value)
            if isinstance(parsed, Mention):
                mentions.append(parsed)
            else:
                letter = dead_letter(r.value, parsed[0], parsed[1], r.topic, r.partition, r.offset, r.timestamp)
                sends.append(await self.producer.send(Topics.DEADLETTER, letter.dumps(), key=letter.event_id.encode()))
        loop = asyncio.get_running_loop()
        scored, failed = await loop.run_in_executor(self.executor, self._enrich_and_encode, mentions)
        for key, value in scored:
            sends.append(await self.producer.send(Topics.SCORED, value, key=key))
        for mention, reason in failed:
            letter = dead_letter(mention.dumps(), "scoring_failed", reason, Topics.RAW, -1, -1)
            sends.append(await self.producer.send(Topics.DEADLETTER, letter.dumps(), key=letter.event_id.encode()))
        if sends:
            await asyncio.gather(*sends)
        self.scored += len(scored)
        self.dead_lettered += len(records) - len(scored)

    def _enrich_and_encode(self, mentions: list[Mention]) -> tuple[list[tuple[bytes, bytes]], list[tuple[Mention, str]]]:
        try:
            return [(m.event_id.encode(), m.dumps()) for m in self.enricher.enrich(mentions)], []
        except Exception:  # noqa: BLE001 - find the one record that breaks the batch, keep the rest
            log.exception("batch scoring failed; scoring %d mentions one by one", len(mentions))
        scored, failed = [], []
        for m in mentions:
            try:
                scored.extend((s.event_id.encode(), s.dumps()) for s in self.enricher.enrich([m]))
            except Exception as exc:  # noqa: BLE001
                failed.append((m, f"scoring failed: {type(exc).__name__}: {exc}"))
        return scored, failed
