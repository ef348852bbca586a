"""Record → column mapping for the tables TrueVoice writes from Python, each from ONE field map.

(Scored mentions are the exception: ClickHouse maps their JSON itself, migration 006.)

A map lists, in the table's column order, where each column comes from in the record's JSON
form (``Record.model_dump(mode="json")``, which is also what travels on the topics) and how
the value is converted. ``tests/test_clickhouse_columns.py`` checks every map against the
migrated tables and the pydantic records, so a field cannot be added in one place only.
"""

from __future__ import annotations

import gc
from datetime import datetime, timedelta, timezone
from operator import itemgetter
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import orjson

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def ms(value: datetime | None) -> int | None:
    """Epoch milliseconds (exact integer arithmetic); naive datetimes are taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return (value - _EPOCH) // timedelta(milliseconds=1)


def us(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return (value - _EPOCH) // timedelta(microseconds=1)


def now_us() -> int:
    return us(datetime.now(timezone.utc))


def iso_ms(value: str | None) -> int | None:
    """Epoch milliseconds of an ISO text as ``model_dump(mode="json")`` writes it."""
    if value is None:
        return None
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp()) * 1000 + dt.microsecond // 1000


class Column(NamedTuple):
    name: str
    path: tuple[str | int, ...]  # keys into the record's JSON form; () = filled by the store
    convert: Callable[[Any], Any] | None = None


def _c(name: str, path: str | None = None, convert: Callable[[Any], Any] | None = None) -> Column:
    keys = tuple(int(k) if k.isdigit() else k for k in (path or name).split(".")) if path != "" else ()
    return Column(name, keys, convert)


DEADLETTER_MAP: tuple[Column, ...] = (
    _c("event_id"), _c("reason"), _c("error_type"), _c("raw"), _c("raw_size"), _c("source_topic"),
    _c("source_partition"), _c("source_offset"), _c("received_at", convert=iso_ms), _c("ingested_at", ""),
)
ALERT_MAP: tuple[Column, ...] = (
    _c("alert_id"), _c("campaign_id"), _c("platform"), _c("kind"), _c("minute", convert=iso_ms), _c("count"),
    _c("baseline_mean"), _c("baseline_std"), _c("zscore"), _c("sentiment_mean"), _c("negative_share"),
    _c("raised_at", convert=iso_ms), _c("message"), _c("status"), _c("revision"),
    _c("updated_at", convert=iso_ms), _c("severity"), _c("anomaly_score"), _c("expected_low"), _c("expected_high"),
    _c("peak_minute", convert=iso_ms), _c("last_minute", convert=iso_ms), _c("kinds"), _c("platforms"),
    _c("mentions"), _c("baseline_sentiment"), _c("sentiment_shift"), _c("terms"),
    _c("example_ids", "examples", lambda xs: [x["event_id"] for x in xs]),
    _c("example_platforms", "examples", lambda xs: [x["platform"] for x in xs]),
    _c("example_texts", "examples", lambda xs: [x["text"] for x in xs]),
    _c("ingested_at", ""),
)
CAMPAIGN_MAP: tuple[Column, ...] = (
    _c("campaign_id"), _c("brand"), _c("name"), _c("keywords"), _c("query"), _c("exclude"), _c("platforms"),
    _c("starts_at", convert=iso_ms), _c("ends_at", convert=iso_ms), _c("active"), _c("spike_threshold"),
    _c("min_mentions"), _c("tenant"), _c("deleted"), _c("updated_at", ""),
)
def item_summaries(items: Sequence[Mapping[str, Any]]) -> list[str]:
    """``risks``/``opportunities`` column: each PredictionItem's one-line summary (as before 005)."""
    return [i["summary"] if isinstance(i, Mapping) else str(i) for i in items]


def item_json(items: Sequence[Mapping[str, Any]]) -> list[str]:
    """``risk_items``/``opportunity_items`` column: one JSON object per PredictionItem."""
    return [orjson.dumps(i).decode() for i in items]


PREDICTION_MAP: tuple[Column, ...] = (
    _c("prediction_id"), _c("campaign_id"), _c("made_at", convert=iso_ms), _c("horizon_hours"),
    _c("purchase_intent"), _c("brand_sentiment"), _c("viral_potential"), _c("confidence"),
    _c("risks", convert=item_summaries), _c("opportunities", convert=item_summaries),
    _c("risk_items", "risks", item_json), _c("opportunity_items", "opportunities", item_json),
    _c("mentions_used"), _c("updated_at", ""),
)
OUTCOME_MAP: tuple[Column, ...] = (
    _c("outcome_id"), _c("campaign_id"), _c("metric"), _c("value"), _c("observed_at", convert=iso_ms),
    _c("source"), _c("recorded_at", ""),
)


def names(columns: Sequence[Column]) -> tuple[str, ...]:
    return tuple(c.name for c in columns)


def build(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]], fill: Any) -> list[list]:
    """Column-oriented data for ``columns`` from decoded records; store-filled columns get ``fill``.

    One pass reads each record's top-level fields together (while they are in cache), then a
    C-level transpose per nested level: about 3x faster than one comprehension per column on
    the sink's hot path.
    """
    n = len(rows)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # building ~40 columns of 100k items would trigger many full collections
    try:
        tops = list(dict.fromkeys(c.path[0] for c in columns if c.path))
        by_top = dict(zip(tops, zip(*map(itemgetter(*tops), rows)) if len(tops) > 1
                          else [[r[tops[0]] for r in rows]]))
        nested: dict[tuple, Sequence[Any]] = {}
        out: list[list] = []
        for col in columns:
            if not col.path:
                out.append([fill] * n)
                continue
            values = by_top[col.path[0]]
            for depth in range(1, len(col.path)):
                key = col.path[:depth + 1]
                if key not in nested:
                    nested[key] = [v[col.path[depth]] for v in values]
                values = nested[key]
            out.append([col.convert(v) for v in values] if col.convert else list(values))
        return out
    finally:
        if gc_was_enabled:
            gc.enable()
