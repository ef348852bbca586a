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
    """``campaigns``: the live campaigns by id; ``deleted``: the last record of each deleted one
    (its tenant still owns the id). ``on_change`` gets the live campaigns only."""

    def __init__(self, on_change: Callable[[list[Campaign]], None] | None = None) -> None:
        self.campaigns: dict[str, Campaign] = {}
        self.deleted: dict[str, Campaign] = {}
        self._changed = asyncio.Event()
        self._on_change = on_change
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task | None = None
        self.ready = asyncio.Event()

    def update(self, campaigns: list[Campaign]) -> None:
        for c in campaigns:
            # records arrive in topic order: the latest record of an id decides whether it lives
            into, out_of = (self.deleted, self.campaigns) if c.deleted else (self.campaigns, self.deleted)
            out_of.pop(c.campaign_id, None)
            into[c.campaign_id] = c
        if self._on_change:
            self._on_change(list(self.campaigns.values()))
        self._changed.set()  # wakes every waiter of seen(); the next change gets a new event
        self._changed = asyncio.Event()

    async def seen(self, campaign: Campaign, timeout: float) -> bool:
        """Wait until ``campaign`` (as published) is this registry's latest record of its id."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        cid = campaign.campaign_id
        while (self.campaigns.get(cid) or self.deleted.get(cid)) != campaign:
            try:
                await asyncio.wait_for(self._changed.wait(), deadline - loop.time())
            except TimeoutError:
                return False
        return True

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
