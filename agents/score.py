"""Score agent: mentions.raw → validate → enrich and score in batches → mentions.scored.

Bad records go to mentions.deadletter with the reason; the agent never dies on a record.
Raw offsets are committed only after every scored and dead-lettered record was acknowledged.

Parsing, validation, normalisation and the models are CPU work in Python and ONNX Runtime, so
they run in a scoring process of their own (the event loop keeps the broker, the sink and the
windows moving on the other core). The child gets raw bytes and returns encoded records.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import itertools
import logging
import multiprocessing
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

from aiokafka import AIOKafkaProducer, ConsumerRecord

from agents.enrich import MentionEnricher
from agents.produce import send_many
from agents.validate import dead_letter, parse_mention, position_id
from agents.voices import VoiceStage, voice_posts
from schemas import Campaign, Mention, Topics
from scoring.privacy import Anonymiser
from scoring.voices import VoicePost

log = logging.getLogger(__name__)

RecordMeta = tuple[str, int, int, int]  # topic, partition, offset, timestamp ms
Encoded = tuple[bytes, bytes]  # key, value


def _letter(value: bytes | None, error_type: str, reason: str, meta: RecordMeta, anonymiser: Anonymiser) -> Encoded:
    topic, partition, offset, ts = meta
    if not value:
        # a null and an empty value are two different faults, and every one of them is its own
        # record: keyed by where it was, not by its (identical) bytes
        error_type = "null" if value is None else "empty"
        reason = "record has no value (null)" if value is None else "record value is empty (0 bytes)"
    letter = dead_letter(value, error_type, reason, topic, partition, offset, ts, anonymiser=anonymiser)
    if not value:
        letter.event_id = position_id(topic, partition, offset, error_type)
    return letter.event_id.encode(), letter.dumps()


def score_records(enricher: MentionEnricher, values: Sequence[bytes | None],
                  metas: Sequence[RecordMeta]) -> tuple[list[Encoded], list[Encoded]]:
    """Raw record values → (scored records, dead letters), both encoded for their topics."""
    scored, letters, _ = score_records_with_voices(enricher, values, metas, voices=False)
    return scored, letters


def score_records_with_voices(enricher: MentionEnricher, values: Sequence[bytes | None],
                              metas: Sequence[RecordMeta], *, voices: bool = True
                              ) -> tuple[list[Encoded], list[Encoded], list[VoicePost]]:
    """``score_records`` plus, with ``voices``, one ``VoicePost`` per scored record (same order)
    for the cross-mention tracker (``agents.voices``), computed here where the text is at hand."""
    mentions: list[Mention] = []
    sources: list[tuple[bytes | None, RecordMeta]] = []
    letters: list[Encoded] = []
    for value, meta in zip(values, metas):
        parsed = parse_mention(value)
        if isinstance(parsed, Mention):
            mentions.append(parsed)
            sources.append((value, meta))
        else:
            letters.append(_letter(value, parsed[0], parsed[1], meta, enricher.anonymiser))
    try:
        done = enricher.enrich(mentions)
    except Exception:  # noqa: BLE001 - find the one record that breaks the batch, keep the rest
        log.exception("batch scoring failed; scoring %d mentions one by one", len(mentions))
        done = []
        for m, (value, meta) in zip(mentions, sources):
            try:
                done.extend(enricher.enrich([m]))
            except Exception as exc:  # noqa: BLE001 - the record's fault: dead-lettered where it came from
                letters.append(_letter(value, "scoring_failed", f"scoring failed: {type(exc).__name__}: {exc}",
                                       meta, enricher.anonymiser))
    posts = voice_posts(done) if voices else []
    return [(s.event_id.encode(), s.dumps()) for s in done], letters, posts


# -- the scoring process -------------------------------------------------------------------------
_child: dict = {}


@dataclass(frozen=True)
class ScorerConfig:
    """What a scoring process needs to build its enricher (picklable: it crosses a spawn)."""

    salt: bytes
    model_root: Path | None = None
    model_overrides: Mapping[str, Path] = field(default_factory=dict)
    ort_threads: int | None = None


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no orphans after a crash)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except OSError:
        pass


def tune_gc() -> None:
    """For a process that makes hundreds of thousands of short-lived objects a second (records,
    batches) and few cycles (the worker, a scoring process): collect the youngest generation
    every 50,000 allocations instead of 700, and keep what start-up built (modules, models, the
    app) out of every collection. Measured: 6-8 % of a scoring process, a fifth of the worker's
    CPU per mention (bench/scoring_process.py, bench/pipeline.py)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def _init_child(config: ScorerConfig) -> None:
    from scoring.campaigns import CampaignMatcher
    from scoring.text import TextScorer

    _die_with_parent()  # a SIGKILLed worker must not leave its scoring process behind
    # A terminal's Ctrl-C reaches the whole process group; the worker decides when scoring stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING)
    scorer = TextScorer.load(config.model_root, intra_op_threads=config.ort_threads,
                             overrides=config.model_overrides)
    _child["enricher"] = MentionEnricher(scorer, CampaignMatcher([]), Anonymiser(config.salt))
    _child["version"] = -1
    tune_gc()


def _score_in_child(values: list[bytes | None], metas: list[RecordMeta], version: int,
                    campaigns: list[bytes], voices: bool = False
                    ) -> tuple[list[Encoded], list[Encoded], list[VoicePost]]:
    enricher: MentionEnricher = _child["enricher"]
    if version != _child["version"]:
        from scoring.campaigns import CampaignMatcher

        enricher.set_matcher(CampaignMatcher([Campaign.loads(c) for c in campaigns]))
        _child["version"] = version
    return score_records_with_voices(enricher, values, metas, voices=voices)


def _warm() -> bool:
    return "enricher" in _child


class ScoringPool:
    """Scoring processes (spawned, not forked: the parent runs threads and chdb).

    Every call carries the campaign list (a few KB) and its version, so each process rebuilds
    its matcher when the campaigns changed, whichever process a batch lands on.
    """

    def __init__(self, config: ScorerConfig, processes: int = 1, *, voices: bool = False) -> None:
        self.config = config
        self.processes = processes
        self.voices = voices  # the scoring processes also fingerprint each mention (agents.voices)
        self.executor = self._new_executor()
        self.campaigns: list[bytes] = []
        self.version = 0

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_child, initargs=(self.config,))

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self.executor, _warm) for _ in range(self.processes)))

    def set_campaigns(self, campaigns: Sequence[Campaign]) -> None:
        # a deleted campaign's record stays on the compacted topic; it must match nothing
        self.campaigns = [c.dumps() for c in campaigns if not c.deleted]
        self.version += 1

    async def score(self, values: list[bytes | None], metas: list[RecordMeta]
                    ) -> tuple[list[Encoded], list[Encoded], list[VoicePost]]:
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self.executor, _score_in_child, values, metas, self.version, self.campaigns, self.voices)
        except BrokenProcessPool:
            # A scoring process died (out of memory, a crash in native code): start new ones;
            # the loop retries the batch, which was not committed.
            log.error("a scoring process died; starting new ones")
            self.executor = self._new_executor()
            raise

    def shutdown(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


class ScoreAgent:
    """``voices``: the cross-mention step, run here in the parent (one tracker per worker, so its
    state is consistent whichever scoring process scored a batch), batch after batch in the order
    the batches were read, although several are scored at once."""

    def __init__(self, producer: AIOKafkaProducer, pool: ScoringPool, voices: VoiceStage | None = None) -> None:
        self.producer = producer
        self.pool = pool
        self.voices = voices
        self.scored = 0
        self.dead_lettered = 0
        # seconds each batch spent in the scoring pool (waiting for a process, then scored), once
        # per batch: set by whoever exports metrics (a histogram's observe)
        self.observe_batch: Callable[[float], None] | None = None
        self._tickets = itertools.count()
        self._next = 0  # the ticket whose turn it is at the tracker
        self._finished: set[int] = set()
        self._turn = asyncio.Condition()

    async def handle(self, records: Sequence[ConsumerRecord]) -> None:
        ticket = next(self._tickets)  # taken before any await: tickets follow the read order
        values = [r.value for r in records]
        metas = [(r.topic, r.partition, r.offset, r.timestamp) for r in records]
        try:
            started = time.perf_counter()
            scored, letters, posts = await self.pool.score(values, metas)
            if self.observe_batch is not None:
                self.observe_batch(time.perf_counter() - started)
            if self.voices is not None:
                async with self._turn:
                    await self._turn.wait_for(lambda: self._next == ticket)
                scored = self.voices.apply(scored, posts)
        finally:
            await self._done(ticket)
        await asyncio.gather(send_many(self.producer, Topics.SCORED, scored),
                             send_many(self.producer, Topics.DEADLETTER, letters))
        self.scored += len(scored)
        self.dead_lettered += len(letters)

    async def _done(self, ticket: int) -> None:
        async with self._turn:
            self._finished.add(ticket)
            while self._next in self._finished:
                self._finished.discard(self._next)
                self._next += 1
            self._turn.notify_all()
