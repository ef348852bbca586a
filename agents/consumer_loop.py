"""A batch loop over an app-owned aiokafka consumer with offsets committed after the batch's work.

Faust's per-message path costs several asyncio tasks per record (DESIGN.md); the hot agents read
``getmany`` batches themselves and commit only after everything the batch produced was
acknowledged (ClickHouse insert, topic sends), so nothing accepted is lost in a crash.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition

log = logging.getLogger(__name__)

BatchHandler = Callable[[Sequence[ConsumerRecord]], Awaitable[None]]


class ConsumerLoop:
    def __init__(self, name: str, bootstrap_servers: str, topics: Sequence[str], group_id: str,
                 handler: BatchHandler, *, max_records: int = 5000, linger_seconds: float = 0.0,
                 in_flight: int = 1, session_timeout_ms: int = 6000) -> None:
        self.name = name
        self.handler = handler
        self.max_records = max_records
        self.linger_seconds = linger_seconds
        self.in_flight = in_flight
        self.topics = list(topics)
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=max(session_timeout_ms // 3, 500),
            rebalance_timeout_ms=session_timeout_ms * 2,
            max_partition_fetch_bytes=4 * 1024 * 1024,
            fetch_max_bytes=16 * 1024 * 1024,
            fetch_max_wait_ms=100,
            max_poll_records=max_records,
        )
        self.processed = 0
        self.batches = 0
        self.failures = 0
        self.last_error: str | None = None
        self._stopping = asyncio.Event()
        self._pending: list[ConsumerRecord] = []
        self._offsets: dict[TopicPartition, int] = {}
        self._running: list[asyncio.Task] = []

    async def start(self) -> None:
        loop = self

        class _FlushOnRevoke(ConsumerRebalanceListener):
            async def on_partitions_revoked(self, revoked: object) -> None:
                # Finish what we hold before the partitions move, so the next owner starts
                # after it instead of doing it again.
                await loop.flush()

            async def on_partitions_assigned(self, assigned: object) -> None:
                return None

        self.consumer.subscribe(self.topics, listener=_FlushOnRevoke())
        await self.consumer.start()

    async def run(self) -> None:
        """Gather records for up to ``linger_seconds`` (or ``max_records``), handle them, commit."""
        deadline = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            wait = 0.2 if not self._pending else max(deadline - loop.time(), 0.0)
            batch = await self.consumer.getmany(timeout_ms=int(wait * 1000),
                                                max_records=max(self.max_records - len(self._pending), 1))
            for tp, part in batch.items():
                if not self._pending:
                    deadline = loop.time() + self.linger_seconds
                self._pending.extend(part)
                self._offsets[TopicPartition(tp.topic, tp.partition)] = part[-1].offset + 1
            if self._pending and (len(self._pending) >= self.max_records or loop.time() >= deadline):
                await self._dispatch()

    async def _dispatch(self) -> None:
        """Start handling the gathered records; wait while ``in_flight`` batches are running.

        With ``in_flight`` > 1 the next batch is fetched and handed over while the previous one is
        still being handled (the scoring process never waits for the broker), and commits still
        happen in batch order: each batch commits only after the one before it did.
        """
        records, offsets = self._pending, self._offsets
        self._pending, self._offsets = [], {}
        before = self._running[-1] if self._running else None
        task = asyncio.create_task(self._handle_and_commit(records, offsets, before))
        self._running.append(task)
        task.add_done_callback(self._running.remove)
        while len(self._running) >= self.in_flight:
            await asyncio.wait([self._running[0]])
        if task.done():
            task.result()  # surface a commit failure here rather than in a lost task

    async def _handle_and_commit(self, records: list[ConsumerRecord], offsets: dict[TopicPartition, int],
                                 before: asyncio.Task | None) -> None:
        await self._handle_until_done(records)
        if before is not None:
            await before
        await self.consumer.commit(offsets)
        self.processed += len(records)
        self.batches += 1

    async def flush(self) -> None:
        """Handle and commit everything gathered so far (on partition revoke)."""
        if self._pending:
            await self._dispatch()
        if self._running:
            await asyncio.gather(*self._running)

    async def _handle_until_done(self, records: list[ConsumerRecord]) -> None:
        # A batch that fails (ClickHouse down, broker hiccup) is retried, never skipped: the
        # records are only committed once their effects are durable.
        delay = 0.2
        while True:
            try:
                await self.handler(records)
                self.last_error = None
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the loop must survive any downstream failure
                self.failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("%s: batch of %d failed, retrying in %.1f s", self.name, len(records), delay)
                try:
                    await asyncio.wait_for(self._stopping.wait(), delay)
                    raise asyncio.CancelledError
                except asyncio.TimeoutError:
                    delay = min(delay * 2, 5.0)

    async def stop(self) -> None:
        """Stop without committing what is still being handled (the next owner reads it again)."""
        self._stopping.set()
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
        await self.consumer.stop()

    async def caught_up(self, end_offsets: Callable[[list[TopicPartition]], Awaitable[dict[TopicPartition, int]]]) -> bool:
        """True when this loop holds nothing and has committed up to the topics' end offsets."""
        if self._pending or self._running:
            return False
        tps = sorted(self.consumer.assignment())
        if not tps:
            return False
        ends = await end_offsets(tps)
        for tp in tps:
            if ends[tp] > (await self.consumer.committed(tp) or 0):
                return False
        return True
