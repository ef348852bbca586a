"""Sink agent: every scored mention, dead letter, alert and campaign into ClickHouse, in batches.

Offsets are committed by the loop only after ClickHouse acknowledged the insert, so a crash
re-inserts at most the last batch, and ReplacingMergeTree keyed by event id keeps it once.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

from aiokafka import ConsumerRecord

import orjson

from schemas import Alert, Campaign, DeadLetter, Topics

SINK_TOPICS = (Topics.SCORED, Topics.DEADLETTER, Topics.ALERTS, Topics.CAMPAIGNS)


class SinkAgent:
    def __init__(self, store, executor: ThreadPoolExecutor) -> None:
        self.store = store
        self.executor = executor
        self.rows = 0

    async def handle(self, records: Sequence[ConsumerRecord]) -> None:
        by_topic: dict[str, list[bytes]] = {t: [] for t in SINK_TOPICS}
        for r in records:
            by_topic[r.topic].append(r.value)
        await asyncio.get_running_loop().run_in_executor(self.executor, self._insert, by_topic)

    def _insert(self, by_topic: dict[str, list[bytes]]) -> None:
        # Records on these topics were written by our own agents from validated models. A
        # foreign producer's bad record raises here: the loop logs and retries it rather than
        # dropping data silently.
        if by_topic[Topics.SCORED]:
            self.rows += self.store.insert_mention_json([orjson.loads(v) for v in by_topic[Topics.SCORED]])
        if by_topic[Topics.DEADLETTER]:
            self.store.insert_deadletters([DeadLetter.model_validate_json(v) for v in by_topic[Topics.DEADLETTER]])
        if by_topic[Topics.ALERTS]:
            self.store.insert_alerts([Alert.model_validate_json(v) for v in by_topic[Topics.ALERTS]])
        if by_topic[Topics.CAMPAIGNS]:
            self.store.upsert_campaigns([Campaign.model_validate_json(v) for v in by_topic[Topics.CAMPAIGNS]])
