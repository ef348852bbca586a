"""A batch loop over an app-owned aiokafka consumer with offsets committed after the batch's work.

Faust's per-message path costs several asyncio tasks per record (DESIGN.md); the hot agents read
``getmany`` batches themselves and commit only after everything the batch produced was
acknowledged (ClickHouse insert, topic sends), so nothing accepted is lost in a crash.

Errors follow ``schemas.errors``: a retriable one (broker or ClickHouse down, disk full, an
unknown library error) is retried with a capped backoff (``RetryPolicy``); a permanent one is
isolated by bisecting the batch down to the records that fail, which go to the dead-letter
callback with their topic, partition and offset, and the batch goes on.

Batch alignment (``plan_topics``): before a batch is handled, its end offset per partition is
recorded in the consumer group's commit metadata (the committed offset itself does not move),
and when a partition is (re)assigned, the first batches of it are cut exactly at the recorded
ends. A batch read again after a crash then covers the same offset range as the one whose
effects (window deltas) may already have been applied, so those effects can be recognised as
duplicates by range. Brokers that drop commit metadata (Tansu 0.6) are detected on the first
plan; alignment is then off and a crash may re-apply up to one batch (at-least-once).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Awaitable, Callable, Sequence, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from agents.correlation import start_batch
from schemas.errors import is_retriable

log = logging.getLogger(__name__)

BatchHandler = Callable[[Sequence[ConsumerRecord]], Awaitable[None]]
DeadLetterHandler = Callable[[Sequence[ConsumerRecord], BaseException], Awaitable[None]]
T = TypeVar("T")


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class RetryPolicy:
    """Retries retriable failures with a capped exponential backoff until success or shutdown.

    One policy is shared by the stages of a loop (send deltas, insert, commit): ``failures``
    counts every failed try, ``last_error`` keeps the latest error (it stays after a success;
    ``failing`` says whether the latest try failed). A non-retriable error is raised at once.
    """

    def __init__(self, name: str, *, initial: float = 0.2, cap: float = 5.0, factor: float = 2.0,
                 stopping: asyncio.Event | None = None) -> None:
        self.name = name
        self.initial = initial
        self.cap = cap
        self.factor = factor
        self.stopping = stopping or asyncio.Event()
        self.failures = 0
        self.last_error: str | None = None
        self.failing = False

    def delays(self):
        delay = self.initial
        while True:
            yield delay
            delay = min(delay * self.factor, self.cap)

    def failed(self, exc: BaseException, what: str) -> None:
        self.failures += 1
        self.failing = True
        self.last_error = f"{what}: {describe(exc)}"

    async def backoff(self, delay: float) -> None:
        """Sleep ``delay`` seconds; CancelledError when the loop is stopping meanwhile."""
        if self.stopping.is_set():
            raise asyncio.CancelledError
        try:
            await asyncio.wait_for(self.stopping.wait(), delay)
        except asyncio.TimeoutError:
            return
        raise asyncio.CancelledError

    async def run(self, fn: Callable[[], Awaitable[T]], what: str) -> T:
        """``await fn()`` until it succeeds; retriable errors are retried, others raised."""
        for delay in self.delays():
            try:
                result = await fn()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - classified below
                if not is_retriable(exc):
                    raise
                self.failed(exc, what)
                log.warning("%s: %s failed (%s), retrying in %.1f s", self.name, what, describe(exc), delay)
                await self.backoff(delay)
                continue
            self.failing = False
            return result
        raise AssertionError("unreachable")


def parse_plan(metadata: str | None) -> list[int]:
    """Planned batch ends recorded in commit metadata ("p:123,456"), ascending."""
    if not metadata or not metadata.startswith("p:"):
        return []
    out = []
    for part in metadata[2:].split(","):
        try:
            out.append(int(part))
        except ValueError:
            continue
    return sorted(set(out))


def format_plan(ends: Sequence[int]) -> str:
    return "p:" + ",".join(str(e) for e in sorted(set(ends))) if ends else ""


class ConsumerLoop:
    def __init__(self, name: str, bootstrap_servers: str, topics: Sequence[str], group_id: str,
                 handler: BatchHandler, *, max_records: int = 5000, linger_seconds: float = 0.0,
                 in_flight: int = 1, session_timeout_ms: int = 6000, plan_topics: Sequence[str] = (),
                 dead_letter: DeadLetterHandler | None = None) -> None:
        self.name = name
        self.handler = handler
        self.max_records = max_records
        self.linger_seconds = linger_seconds
        self.in_flight = in_flight
        self.topics = list(topics)
        self.plan_topics = frozenset(plan_topics)
        if self.plan_topics and in_flight != 1:
            raise ValueError("batch plans need in_flight=1 (each batch starts where the last one committed)")
        self.dead_letter = dead_letter
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
        self.dead_lettered = 0
        self._stopping = asyncio.Event()
        self.retry = RetryPolicy(name, stopping=self._stopping)
        self.plans_kept: bool | None = None  # does the broker keep commit metadata? (None: not known yet)
        self.aligned_batches = 0  # batches cut at a planned end after a (re)assignment
        self._cuts: dict[TopicPartition, list[int]] = {}
        self._held: dict[TopicPartition, list[int]] = defaultdict(list)  # ends of batches being bisected
        self._pending: list[ConsumerRecord] = []
        self._offsets: dict[TopicPartition, int] = {}
        self._running: list[asyncio.Task] = []

    # the loop's health, for /metrics: every failed try of any stage
    @property
    def failures(self) -> int:
        return self.retry.failures

    @property
    def last_error(self) -> str | None:
        """The error while a stage is failing now; None once it succeeded (``retry.last_error`` keeps it)."""
        return self.retry.last_error if self.retry.failing else None

    async def start(self) -> None:
        loop = self

        class _Listener(ConsumerRebalanceListener):
            async def on_partitions_revoked(self, revoked: object) -> None:
                # Finish what we hold before the partitions move, so the next owner starts
                # after it instead of doing it again.
                await loop.flush()
                for tp in list(revoked):  # type: ignore[attr-defined]
                    loop._cuts.pop(TopicPartition(tp.topic, tp.partition), None)

            async def on_partitions_assigned(self, assigned: object) -> None:
                await loop._load_plans(list(assigned))  # type: ignore[call-overload]

        self.consumer.subscribe(self.topics, listener=_Listener())
        await self.consumer.start()

    # -- batch alignment --------------------------------------------------------------------
    async def _load_plans(self, assigned: list[TopicPartition]) -> None:
        tps = [TopicPartition(tp.topic, tp.partition) for tp in assigned if tp.topic in self.plan_topics]
        if not tps or self.plans_kept is False:
            return
        try:
            committed = await self.consumer._coordinator.fetch_committed_offsets(tps)
        except Exception:  # noqa: BLE001 - alignment is best effort; the batch is still handled
            log.warning("%s: could not read batch plans", self.name, exc_info=True)
            return
        for tp, om in committed.items():
            ends = [e for e in parse_plan(om.metadata) if e > om.offset]
            if ends:
                self._cuts[tp] = ends
                log.info("%s: %s resumes at %d; first batches cut at %s", self.name, tp, om.offset, ends)

    async def _record_plan(self, records: Sequence[ConsumerRecord]) -> None:
        """Commit, for each plan partition of the batch, its start offset with the planned ends."""
        if not self.plan_topics or self.plans_kept is False:
            return
        ranges: dict[TopicPartition, list[int]] = {}
        for r in records:
            if r.topic in self.plan_topics:
                tp = TopicPartition(r.topic, r.partition)
                rng = ranges.get(tp)
                if rng is None:
                    ranges[tp] = [r.offset, r.offset + 1]
                else:
                    rng[0], rng[1] = min(rng[0], r.offset), max(rng[1], r.offset + 1)
        if not ranges:
            return
        plans = {tp: OffsetAndMetadata(start, format_plan([end, *self._outstanding(tp, end)]))
                 for tp, (start, end) in ranges.items()}
        try:
            await self.consumer.commit(plans)
            if self.plans_kept is None:
                back = await self.consumer._coordinator.fetch_committed_offsets(list(plans))
                self.plans_kept = all(back.get(tp) is not None and back[tp].metadata == om.metadata
                                      for tp, om in plans.items())
                if not self.plans_kept:
                    log.warning("%s: the broker does not keep commit metadata; batches read again after a "
                                "crash are not aligned with the ones sent before it (at-least-once)", self.name)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - without a plan the batch is handled all the same
            log.warning("%s: could not record the batch plan", self.name, exc_info=True)

    def _outstanding(self, tp: TopicPartition, after: int) -> list[int]:
        """Planned ends beyond ``after`` that must survive the next commit of ``tp``."""
        return [e for e in (*self._cuts.get(tp, ()), *self._held.get(tp, ())) if e > after]

    def _ends(self, records: Sequence[ConsumerRecord]) -> dict[TopicPartition, int]:
        ends: dict[TopicPartition, int] = {}
        for r in records:
            if r.topic in self.plan_topics:
                tp = TopicPartition(r.topic, r.partition)
                ends[tp] = max(ends.get(tp, 0), r.offset + 1)
        return ends

    def _cut(self, tp: TopicPartition, part: list[ConsumerRecord]) -> tuple[list[ConsumerRecord], bool]:
        """Records of ``part`` before the partition's next planned end; True when it was reached."""
        cuts = self._cuts.get(tp)
        if not cuts or part[-1].offset + 1 < cuts[0]:
            return part, False
        end = cuts.pop(0)
        if not cuts:
            del self._cuts[tp]
        kept = [r for r in part if r.offset < end]
        if len(kept) < len(part):
            self.consumer.seek(tp, end)  # the rest is fetched again for the next batch
        self.aligned_batches += 1
        return kept, True

    # -- the loop -------------------------------------------------------------------------------
    async def run(self) -> None:
        """Gather records for up to ``linger_seconds`` (or ``max_records``), handle them, commit."""
        deadline = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            wait = 0.2 if not self._pending else max(deadline - loop.time(), 0.0)
            batch = await self.consumer.getmany(timeout_ms=int(wait * 1000),
                                                max_records=max(self.max_records - len(self._pending), 1))
            cut = False
            for ktp, part in batch.items():
                tp = TopicPartition(ktp.topic, ktp.partition)
                if tp in self._cuts:
                    part, reached = self._cut(tp, part)
                    cut = cut or reached
                if not part:
                    continue
                if not self._pending:
                    deadline = loop.time() + self.linger_seconds
                self._pending.extend(part)
                self._offsets[tp] = part[-1].offset + 1
            if self._pending and (cut or len(self._pending) >= self.max_records or loop.time() >= deadline):
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
        # this task's own context: every line logged for the batch (retries, bisection, dead
        # letters, the handler's) carries one id
        batch_id = start_batch(self.name)
        log.debug("%s: batch %s of %d records", self.name, batch_id, len(records))
        await self._handle_until_done(records)
        if before is not None:
            await before
        commit = {tp: OffsetAndMetadata(end, format_plan(self._outstanding(tp, end))
                                        if self.plans_kept else "")
                  for tp, end in offsets.items()}
        await self.consumer.commit(commit)
        self.processed += len(records)
        self.batches += 1

    async def flush(self) -> None:
        """Handle and commit everything gathered so far (on partition revoke)."""
        if self._pending:
            await self._dispatch()
        if self._running:
            await asyncio.gather(*self._running)

    async def _handle_until_done(self, records: Sequence[ConsumerRecord]) -> None:
        """Handle the batch: retriable failures are retried (never skipped: the records are only
        committed once their effects are durable); a permanent failure is isolated by bisection
        and only the records that fail on their own are dead-lettered."""
        delays = self.retry.delays()
        while True:
            try:
                await self._record_plan(records)
                await self.handler(records)
                self.retry.failing = False
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the loop must survive any downstream failure
                if is_retriable(exc) or self.dead_letter is None:
                    self.retry.failed(exc, "batch")
                    delay = next(delays)
                    log.exception("%s: batch of %d failed, retrying in %.1f s", self.name, len(records), delay)
                    await self.retry.backoff(delay)
                    continue
                if len(records) == 1:
                    log.error("%s: %s[%d]@%d is dead-lettered: %s", self.name, records[0].topic,
                              records[0].partition, records[0].offset, describe(exc))
                    await self.retry.run(lambda: self.dead_letter(records, exc), "dead letter")  # type: ignore[misc]
                    self.dead_lettered += 1
                    return
                log.warning("%s: batch of %d failed permanently (%s); bisecting", self.name, len(records), describe(exc))
                # the whole batch's plan stays recorded while its halves are handled: its effects
                # may have been applied in part before it failed
                ends = self._ends(records)
                for tp, end in ends.items():
                    self._held[tp].append(end)
                try:
                    mid = len(records) // 2
                    await self._handle_until_done(records[:mid])
                    await self._handle_until_done(records[mid:])
                finally:
                    for tp, end in ends.items():
                        self._held[tp].remove(end)
                return

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


def by_partition(records: Sequence[ConsumerRecord], topic: str) -> dict[int, list[ConsumerRecord]]:
    out: dict[int, list[ConsumerRecord]] = defaultdict(list)
    for r in records:
        if r.topic == topic:
            out[r.partition].append(r)
    return out
