"""The bundled sample: ~4,000 mentions of five fictional brands over six hours, and campaigns.

``load_sample(shift_to=now)`` re-bases the fixed times so the newest mention is at ``shift_to``
(the dashboard then shows "now"); ``load_campaigns(shift_to=now)`` shifts campaign
``starts_at``/``ends_at`` by the same amount so time-bounded campaigns keep matching.
The files are written by ``python -m streams.sample.generate``.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson

__all__ = ["MENTIONS_PATH", "CAMPAIGNS_PATH", "load_sample", "load_campaigns", "sample_shift", "sample_bounds"]

HERE = Path(__file__).resolve().parent
MENTIONS_PATH = HERE / "mentions.jsonl.gz"
CAMPAIGNS_PATH = HERE / "campaigns.json"

_TIME_FIELDS = ("posted_at", "collected_at")


def _parse(value: str) -> datetime:
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def _fmt(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _read() -> list[dict]:
    with gzip.open(MENTIONS_PATH, "rb") as fh:
        return [orjson.loads(line) for line in fh if line.strip()]


def sample_bounds() -> tuple[datetime, datetime]:
    """(first, last) ``posted_at`` of the sample as written."""
    times = [_parse(m["posted_at"]) for m in _read()]
    return min(times), max(times)


def sample_shift(shift_to: datetime | None) -> timedelta:
    """How much ``load_sample(shift_to)`` moves every timestamp (zero for ``None``)."""
    if shift_to is None:
        return timedelta(0)
    if shift_to.tzinfo is None:
        shift_to = shift_to.replace(tzinfo=timezone.utc)
    return shift_to - sample_bounds()[1]


def load_sample(shift_to: datetime | None = None) -> Iterator[dict]:
    """Mention-shaped dicts in ``posted_at`` order; with ``shift_to`` (naive = UTC) the newest
    mention's ``posted_at`` becomes ``shift_to`` and every other time moves by the same amount."""
    records = _read()
    if shift_to is None:
        yield from records
        return
    if shift_to.tzinfo is None:
        shift_to = shift_to.replace(tzinfo=timezone.utc)
    delta = shift_to - max(_parse(m["posted_at"]) for m in records)
    for m in records:
        for k in _TIME_FIELDS:
            if m.get(k):
                m[k] = _fmt(_parse(m[k]) + delta)
        yield m


def load_campaigns(shift_to: datetime | None = None) -> list:
    """The sample's campaigns as ``Campaign`` records (time bounds shifted like the mentions)."""
    from schemas.records import Campaign

    raw = orjson.loads(CAMPAIGNS_PATH.read_bytes())
    delta = sample_shift(shift_to)
    out = []
    for c in raw:
        for k in ("starts_at", "ends_at"):
            if c.get(k) and delta:
                c[k] = _fmt(_parse(c[k]) + delta)
        out.append(Campaign.model_validate(c))
    return out
