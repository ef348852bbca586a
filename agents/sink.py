"""Sink agent: every scored mention, dead letter, alert and campaign into ClickHouse, in batches.

Offsets are committed by the loop only after ClickHouse acknowledged the insert, so a crash
re-inserts at most the last batch, and ReplacingMergeTree keyed by event id keeps it once.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

from aiokafka import ConsumerRecord

from schemas import Alert, Campaign, DeadLetter, Topics

SINK_TOPICS = (Topics.SCORED, Topics.DEADLETTER, Topics.ALERTS, Topics.CAMPAIGNS)


def split_by_topic(records: Sequence[ConsumerRecord]) -> dict[str, list[bytes]]:
    by_topic: dict[str, list[bytes]] = {t: [] for t in SINK_TOPICS}
    for r in records:
        by_topic[r.topic].append(r.value)
    return by_topic


class SinkAgent:
    def __init__(self, store: Any, executor: ThreadPoolExecutor) -> None:
        self.store = store
        self.executor = executor
        self.rows = 0

    async def write(self, scored: list[dict], others: dict[str, list[bytes]]) -> None:
        """``scored``: decoded mentions.scored records; ``others``: raw values of the other sink topics."""
        await asyncio.get_running_loop().run_in_executor(self.executor, self._insert, scored, others)

    def _insert(self, scored: list[dict], others: dict[str, list[bytes]]) -> None:
        # Records on these topics were written by our own agents from validated models. A
        # foreign producer's bad record raises here: the loop logs and retries it rather than
        # dropping data silently.
        if scored:
            self.rows += self.store.insert_mention_json(scored)
        if others.get(Topics.DEADLETTER):
            self.store.insert_deadletters([DeadLetter.model_validate_json(v) for v in others[Topics.DEADLETTER]])
        if others.get(Topics.ALERTS):
            self.store.insert_alerts([Alert.model_validate_json(v) for v in others[Topics.ALERTS]])
        if others.get(Topics.CAMPAIGNS):
            self.store.upsert_campaigns([Campaign.model_validate_json(v) for v in others[Topics.CAMPAIGNS]])
