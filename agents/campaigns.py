"""Campaign registry: follows the compacted ``campaigns`` topic and rebuilds the matcher on change."""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

from aiokafka import AIOKafkaConsumer
from pydantic import ValidationError

from schemas import Campaign, Topics
from tables.spikes import Thresholds

log = logging.getLogger(__name__)

DEFAULT_THRESHOLDS = Thresholds(zscore=4.0, min_mentions=30)


class CampaignRegistry:
    def __init__(self, on_change: Callable[[list[Campaign]], None] | None = None) -> None:
        self.campaigns: dict[str, Campaign] = {}
        self._on_change = on_change
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task | None = None
        self.ready = asyncio.Event()

    def update(self, campaigns: list[Campaign]) -> None:
        for c in campaigns:
            self.campaigns[c.campaign_id] = c
        if self._on_change:
            self._on_change(list(self.campaigns.values()))

    def thresholds(self, campaign_id: str) -> Thresholds:
        c = self.campaigns.get(campaign_id)
        if c is None:
            return DEFAULT_THRESHOLDS
        return Thresholds(zscore=c.spike_threshold, min_mentions=c.min_mentions)

    async def follow(self, bootstrap_servers: str) -> None:
        """Read the topic from the start (no group: every worker needs every campaign)."""
        self._consumer = AIOKafkaConsumer(Topics.CAMPAIGNS, bootstrap_servers=bootstrap_servers,
                                          auto_offset_reset="earliest", enable_auto_commit=False)
        await self._consumer.start()
        self._task = asyncio.create_task(self._run(), name="campaign-registry")

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            batch = await self._consumer.getmany(timeout_ms=300)
            changed = []
            for records in batch.values():
                for r in records:
                    try:
                        changed.append(Campaign.loads(r.value))
                    except (ValidationError, ValueError) as exc:
                        log.warning("ignoring invalid campaign record at offset %d: %s", r.offset, exc)
            if changed:
                self.update(changed)
            if not batch:
                self.ready.set()

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        if self._consumer:
            await self._consumer.stop()
