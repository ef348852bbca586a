"""Sink agent: every scored mention, dead letter, alert and campaign into ClickHouse, in batches.

Offsets are committed by the loop only after ClickHouse acknowledged the insert, so a crash
re-inserts at most the last batch, and ReplacingMergeTree keyed by event id keeps it once.

Errors (``schemas.errors``): a record that does not decode or validate is the data's fault and
is dead-lettered with its topic, partition and offset (never retried). A ClickHouse failure is
either the store's (down, disk full: ``StorageUnavailableError``, retried with the whole insert
stage) or the data's (a type error on one record): only then is the batch bisected to find the
records ClickHouse refuses, which are dead-lettered while the rest is stored.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Sequence

import orjson
from aiokafka import AIOKafkaProducer, ConsumerRecord
from pydantic import ValidationError

from agents.validate import dead_letter, describe_validation_error, position_id
from schemas import Alert, Campaign, DeadLetter, Topics
from schemas.errors import PermanentError, StorageUnavailableError, TrueVoiceError
from tables.combiner import WindowRow, window_row

log = logging.getLogger(__name__)

SINK_TOPICS = (Topics.SCORED, Topics.DEADLETTER, Topics.ALERTS, Topics.CAMPAIGNS)

# ClickHouse error codes that mean "this data", not "this server": bisect to the record.
DATA_ERROR_CODES = frozenset({
    6,    # CANNOT_PARSE_TEXT
    25,   # CANNOT_PARSE_ESCAPE_SEQUENCE
    26,   # CANNOT_PARSE_QUOTED_STRING
    27,   # CANNOT_PARSE_INPUT_ASSERTION_FAILED
    38,   # CANNOT_PARSE_DATE
    41,   # CANNOT_PARSE_DATETIME
    43,   # ILLEGAL_TYPE_OF_ARGUMENT
    53,   # TYPE_MISMATCH
    69,   # ARGUMENT_OUT_OF_BOUND
    70,   # CANNOT_CONVERT_TYPE
    72,   # CANNOT_PARSE_NUMBER
    117,  # INCORRECT_DATA
    130,  # CANNOT_READ_ARRAY_FROM_TEXT
    131,  # TOO_LARGE_STRING_SIZE
    321,  # VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
    349,  # CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
    467,  # CANNOT_PARSE_BOOL
})
# raised by the column builders and the client's serialisers on a record of the wrong shape
_DATA_EXCEPTIONS = (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError, UnicodeError)


class DataError(PermanentError):
    """ClickHouse (or the column builder) refuses these records: the data's fault."""


def classify_store_error(exc: BaseException) -> TrueVoiceError:
    """The store's failures as one of our errors: DataError (the data's fault: bisect to the
    record) or a retriable one (down, full, an error nobody classified: never drop data on it)."""
    if isinstance(exc, DataError):
        return exc
    code = getattr(exc, "code", None)
    if code in DATA_ERROR_CODES:
        return DataError(str(exc))
    if isinstance(exc, _DATA_EXCEPTIONS) and not isinstance(exc, (OSError, ConnectionError, TrueVoiceError)):
        return DataError(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, TrueVoiceError) and exc.retriable:
        return exc
    # unreachable, disk full, too many parts, an unknown table or code: may succeed later
    return StorageUnavailableError(f"{type(exc).__name__}: {exc}")


def split_by_topic(records: Sequence[ConsumerRecord]) -> dict[str, list[bytes]]:
    by_topic: dict[str, list[bytes]] = {t: [] for t in SINK_TOPICS}
    for r in records:
        by_topic[r.topic].append(r.value)
    return by_topic


def sink_dead_letter(record: ConsumerRecord, error_type: str, reason: str, anonymiser: Any = None) -> DeadLetter:
    """A dead letter for a record of an internal topic, keyed by where it was (topic, partition,
    offset): two bad records with the same bytes at two places are two dead letters."""
    value = record.value
    if anonymiser is None:
        # nobody to scrub personal data out of it: keep where it was and why, not the bytes
        letter = DeadLetter(event_id="", reason=reason[:2000], error_type=error_type, raw="",
                            raw_size=len(value or b""), source_topic=record.topic,
                            source_partition=record.partition, source_offset=record.offset,
                            received_at=_received_at(record.timestamp))
    else:
        letter = dead_letter(value, error_type, reason, record.topic, record.partition, record.offset,
                             record.timestamp, anonymiser=anonymiser)
    letter.event_id = position_id(record.topic, record.partition, record.offset, "null" if value is None else "value")
    return letter


def _received_at(timestamp_ms: int | None) -> datetime:
    return datetime.fromtimestamp(timestamp_ms / 1000, timezone.utc) if timestamp_ms else datetime.now(timezone.utc)


@dataclass
class SinkBatch:
    """One batch of the sink loop, decoded once: what goes where, and what is dead-lettered."""

    scored: list[tuple[ConsumerRecord, bytes]] = field(default_factory=list)  # their JSON, inserted as it is
    others: dict[str, list[tuple[ConsumerRecord, Any]]] = field(default_factory=dict)
    letters: list[DeadLetter] = field(default_factory=list)
    scored_records: list[ConsumerRecord] = field(default_factory=list)  # every mentions.scored record
    windows: dict[tuple[int, int], WindowRow] = field(default_factory=dict)  # (partition, offset) -> row

    def refused(self) -> int:
        return len(self.letters)


_MODELS = {Topics.DEADLETTER: DeadLetter, Topics.ALERTS: Alert, Topics.CAMPAIGNS: Campaign}


def decode_batch(records: Sequence[ConsumerRecord], anonymiser: Any = None) -> SinkBatch:
    # decoding 20k records makes ~1M objects: with the collector on, full collections cost a third
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _decode_batch(records, anonymiser)
    finally:
        if gc_was_enabled:
            gc.enable()


def _decode_batch(records: Sequence[ConsumerRecord], anonymiser: Any) -> SinkBatch:
    batch = SinkBatch(others={t: [] for t in _MODELS})
    for r in records:
        if r.topic == Topics.SCORED:
            batch.scored_records.append(r)
        if r.value is None:
            batch.letters.append(sink_dead_letter(r, "null", f"{r.topic}: record has no value (null)", anonymiser))
            continue
        if not r.value:
            batch.letters.append(sink_dead_letter(r, "empty", f"{r.topic}: record value is empty (0 bytes)", anonymiser))
            continue
        try:
            if r.topic == Topics.SCORED:
                data = orjson.loads(r.value)
                if not isinstance(data, dict):
                    raise ValueError(f"expected a JSON object, got {type(data).__name__}")
                # what the windows read, computed once here; the insert checks the rest
                batch.windows[(r.partition, r.offset)] = window_row(data)
                if not isinstance(data.get("event_id"), str) or not data["event_id"]:
                    raise ValueError("event_id: a non-empty string is required")
                batch.scored.append((r, r.value))
            else:
                batch.others[r.topic].append((r, _MODELS[r.topic].model_validate_json(r.value)))
        except ValidationError as exc:
            batch.letters.append(sink_dead_letter(r, "sink_invalid", f"{r.topic}: {describe_validation_error(exc)}",
                                                  anonymiser))
        except (orjson.JSONDecodeError, *_DATA_EXCEPTIONS) as exc:
            batch.letters.append(sink_dead_letter(r, "sink_invalid", f"{r.topic}: {type(exc).__name__}: {exc}",
                                                  anonymiser))
    return batch


class SinkAgent:
    def __init__(self, store: Any, executor: ThreadPoolExecutor) -> None:
        self.store = store
        self.executor = executor
        self.rows = 0
        self.refused = 0  # records ClickHouse refused (data's fault), dead-lettered
        self.anonymiser: Any = None  # set by whoever owns the deployment's salt (dead letters' raw)
        # set by whoever exports metrics (a histogram's observe), called once per batch: the
        # seconds an insert of a batch took (every try), and once a batch is stored, the seconds
        # since the oldest of its mentions.scored records was produced (its Kafka timestamp)
        self.observe_insert: Callable[[float], None] | None = None
        self.observe_lag: Callable[[float], None] | None = None

    def decode(self, records: Sequence[ConsumerRecord]) -> SinkBatch:
        return decode_batch(records, self.anonymiser)

    async def store_batch(self, batch: SinkBatch) -> list[DeadLetter]:
        """Insert everything in ``batch``; the dead letters of records ClickHouse refused.

        Retriable failures (StorageUnavailableError) propagate: the caller retries this stage
        alone (inserting again is harmless, ReplacingMergeTree keeps each event once).
        """
        # the batch's context goes along: what the insert logs carries the batch's correlation id
        refused = await asyncio.get_running_loop().run_in_executor(
            self.executor, contextvars.copy_context().run, self._timed_store, batch)
        if self.observe_lag is not None and batch.scored_records:
            oldest = min(r.timestamp for r in batch.scored_records)
            if oldest > 0:
                self.observe_lag(max(time.time() - oldest / 1000, 0.0))
        return refused

    def _timed_store(self, batch: SinkBatch) -> list[DeadLetter]:
        started = time.perf_counter()
        try:
            return self._store(batch)
        finally:
            if self.observe_insert is not None:
                self.observe_insert(time.perf_counter() - started)

    def _store(self, batch: SinkBatch) -> list[DeadLetter]:
        refused: list[DeadLetter] = []
        self.rows += self._insert_isolating(batch.scored, self.store.insert_scored, refused)
        for topic, insert in ((Topics.DEADLETTER, self.store.insert_deadletters),
                              (Topics.ALERTS, self.store.insert_alerts),
                              (Topics.CAMPAIGNS, self.store.upsert_campaigns)):
            self._insert_isolating(batch.others.get(topic, []), insert, refused)
        self.refused += len(refused)
        return refused

    def _insert_isolating(self, items: list[tuple[ConsumerRecord, Any]], insert: Callable[[list], int],
                          refused: list[DeadLetter]) -> int:
        if not items:
            return 0
        try:
            return insert([payload for _, payload in items])
        except Exception as exc:  # noqa: BLE001 - classified: the store's fault propagates
            err = classify_store_error(exc)
            if not isinstance(err, DataError):
                raise err from exc
            if len(items) == 1:
                r = items[0][0]
                log.error("ClickHouse refuses %s[%d]@%d: %s", r.topic, r.partition, r.offset, err)
                refused.append(sink_dead_letter(r, "sink_refused", f"ClickHouse refused it: {err}", self.anonymiser))
                return 0
            mid = len(items) // 2
            return (self._insert_isolating(items[:mid], insert, refused)
                    + self._insert_isolating(items[mid:], insert, refused))


async def send_dead_letters(producer: AIOKafkaProducer, letters: Sequence[DeadLetter]) -> None:
    sends = [await producer.send(Topics.DEADLETTER, d.dumps(), key=d.event_id.encode()) for d in letters]
    await asyncio.gather(*sends)


async def dead_letter_records(producer: AIOKafkaProducer, records: Sequence[ConsumerRecord], exc: BaseException,
                              anonymiser: Any = None) -> None:
    """The ConsumerLoop's dead-letter callback: records a stage failed on permanently."""
    await send_dead_letters(producer, [
        sink_dead_letter(r, getattr(exc, "error_type", "permanent_failure"), f"{type(exc).__name__}: {exc}", anonymiser)
        for r in records])
