"""How far the pipeline is behind its input: records not yet committed by the score and sink
loops, and what that is in seconds of the capacity the loops have shown.

The embedded broker keeps topics in memory only, so whatever sits there unprocessed is what a
SIGKILL of ``up`` loses. Ingest (HTTP) and replay therefore stop taking input while the backlog
is above a few seconds of measured capacity: what can be lost is bounded by that, not by how
fast a producer can push.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from typing import Mapping, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from streams.kafka.tansu_compat import probe_end_offsets

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BacklogLimit:
    seconds: float = 2.0  # of measured capacity
    floor_records: int = 5_000  # allowed before any capacity was measured (and never less)


class BacklogGauge:
    """Measures lag = end offsets − committed offsets of the watched groups, every ``interval``.

    ``watch`` maps a consumer group to the topics it consumes. Capacity is the rate at which
    the groups' committed offsets advanced while there was work to do (an exponential average),
    so an idle pipeline keeps the capacity it last showed.
    """

    def __init__(self, bootstrap_servers: str, watch: Mapping[str, Sequence[str]], *,
                 limit: BacklogLimit = BacklogLimit(), interval: float = 0.5) -> None:
        self.bootstrap = bootstrap_servers
        self.watch = {g: list(t) for g, t in watch.items()}
        self.limit = limit
        self.interval = interval
        self.lag = 0
        self.lag_by_topic: dict[tuple[str, str], int] = {}  # (group, topic) -> records not committed
        self.capacity = 0.0  # records/s committed while busy
        self.measured_at = 0.0
        self._last: tuple[float, int, int] | None = None  # time, total committed, lag
        self._admin: AIOKafkaAdminClient | None = None
        self._probe: AIOKafkaConsumer | None = None
        self._task: asyncio.Task | None = None
        self._partitions_of: dict[str, list[int]] = {}

    async def start(self) -> None:
        self._admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await self._admin.start()
        self._probe = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False,
                                       max_partition_fetch_bytes=1024, fetch_max_wait_ms=50)
        await self._probe.start()
        await self.measure()
        self._task = asyncio.create_task(self._run(), name="backlog-gauge")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._probe:
            await self._probe.stop()
        if self._admin:
            await self._admin.close()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.measure()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a missed measurement keeps the last one
                log.warning("backlog measurement failed", exc_info=True)

    async def _partitions(self, topic: str) -> list[int]:
        if topic not in self._partitions_of:
            assert self._admin is not None
            described = await self._admin.describe_topics([topic])
            found = sorted(p["partition"] for d in described if d.get("error_code", 0) == 0 for p in d["partitions"])
            if not found:
                return []  # not created yet: nothing to be behind on
            self._partitions_of[topic] = found
        return self._partitions_of[topic]

    async def measure(self) -> int:
        assert self._admin is not None and self._probe is not None
        lag = committed_total = 0
        by_topic: dict[tuple[str, str], int] = {}
        for group, topics in self.watch.items():
            tps = [TopicPartition(t, p) for t in topics for p in await self._partitions(t)]
            if not tps:
                continue
            ends = await probe_end_offsets(self._probe, tps)  # Tansu under-reports ends
            committed = await self._admin.list_consumer_group_offsets(group, partitions=tps)
            for tp in tps:
                c = committed.get(tp)
                offset = c.offset if c is not None and c.offset >= 0 else 0
                committed_total += offset
                behind = max(ends[tp] - offset, 0)
                lag += behind
                by_topic[(group, tp.topic)] = by_topic.get((group, tp.topic), 0) + behind
        now = time.monotonic()
        if self._last is not None:
            t0, c0, lag0 = self._last
            if lag0 > 0 and now > t0 and committed_total >= c0:
                rate = (committed_total - c0) / (now - t0)
                self.capacity = rate if self.capacity == 0 else 0.7 * self.capacity + 0.3 * rate
        self._last = (now, committed_total, lag)
        self.lag, self.lag_by_topic, self.measured_at = lag, by_topic, now
        return lag

    @property
    def allowed(self) -> int:
        """Records of backlog allowed: a few seconds of measured capacity, never under the floor."""
        return max(self.limit.floor_records, int(self.capacity * self.limit.seconds))

    @property
    def over_limit(self) -> bool:
        return self.lag > self.allowed

    @property
    def seconds_behind(self) -> float:
        return self.lag / self.capacity if self.capacity > 0 else math.inf if self.lag else 0.0

    def retry_after(self) -> int:
        """Whole seconds until the backlog should be back under the limit."""
        if not self.over_limit:
            return 0
        if self.capacity <= 0:
            return 5
        return max(1, math.ceil((self.lag - self.allowed) / self.capacity))

    async def wait_below(self, on_wait=None) -> None:
        """Return once the backlog is under the limit (measuring itself when not started as a task)."""
        while self.over_limit:
            if on_wait is not None:
                on_wait(self)
            await asyncio.sleep(self.interval)
            if self._task is None:
                await self.measure()
