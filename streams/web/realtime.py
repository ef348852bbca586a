"""A campaign's realtime numbers, read from the 1-minute window buckets (RocksDB): what
``GET /api/v1/realtime/{campaign_id}`` answers and the WebSocket ticks carry.

Each scope (``summed`` over all platforms, and each platform) has, over the last 1, 5 and 60
minutes: the mentions, the velocity (mentions per minute), the mean sentiment and the credible
share. "The last N minutes" are the N one-minute buckets ending with the minute in progress,
which counts as a whole minute: right after a minute starts, the rates under-report a little,
but a burst shows at once (a user watching a burst expects to see it now, not next minute).
A mean or share over no mentions is ``null``, not 0.
"""

from __future__ import annotations

import time
from typing import Any, Generic, Iterable, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from schemas.records import PLATFORMS, Platform, WindowSums
from tables.combiner import window_key
from tables.windows import MINUTE

SPANS_MINUTES = (1, 5, 60)
T = TypeVar("T")


class Spans(BaseModel, Generic[T]):
    """One number over each span (the keys are "1m", "5m", "60m")."""

    model_config = ConfigDict(populate_by_name=True)
    last_1m: T = Field(alias="1m")
    last_5m: T = Field(alias="5m")
    last_60m: T = Field(alias="60m")


class SpanCounts(Spans[int]):
    pass


class SpanRatios(Spans[float | None]):
    """null over a span without mentions"""


class Velocity(BaseModel):
    last_1m: int = Field(description="mentions in the minute in progress")
    per_minute_5m: float
    per_minute_60m: float


class ScopeNumbers(BaseModel):
    velocity: Velocity
    mentions: SpanCounts
    sentiment_mean: SpanRatios = Field(description="mean sentiment (-1..1)")
    credible_share: SpanRatios = Field(description="share of mentions by credible authors")


class RealtimeNumbers(BaseModel):
    """What ``GET /api/v1/realtime/{campaign_id}`` answers (a campaign tick adds ``"type": "tick"``)."""

    campaign_id: str
    minute: int = Field(description="epoch second the minute in progress began")
    as_of: float = Field(description="epoch seconds the numbers were read")
    summed: ScopeNumbers = Field(description="all platforms summed")
    platforms: dict[Platform, ScopeNumbers]


def _ratio(part: float, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def scope_numbers(by_span: dict[int, WindowSums]) -> ScopeNumbers:
    """One scope's numbers from its sums over each span."""
    counts = {n: by_span[n].count for n in SPANS_MINUTES}
    return ScopeNumbers(
        velocity=Velocity(last_1m=counts[1], per_minute_5m=round(counts[5] / 5, 3),
                          per_minute_60m=round(counts[60] / 60, 3)),
        mentions=SpanCounts(**{f"{n}m": counts[n] for n in SPANS_MINUTES}),
        sentiment_mean=SpanRatios(**{f"{n}m": _ratio(by_span[n].sentiment_sum, counts[n])
                                              for n in SPANS_MINUTES}),
        credible_share=SpanRatios(**{f"{n}m": _ratio(by_span[n].credible, counts[n])
                                              for n in SPANS_MINUTES}),
    )


def realtime_numbers(view: Any, campaign_id: str, now: float | None = None,
                     platforms: Iterable[str] = PLATFORMS) -> dict[str, Any]:
    """The realtime numbers of ``campaign_id`` (``*``: every mention) from ``view``, a
    ``tables.windows.WindowView``, as JSON-ready ``RealtimeNumbers``."""
    now = time.time() if now is None else now
    minute = int(now) // MINUTE * MINUTE
    longest = max(SPANS_MINUTES)
    summed = {n: WindowSums() for n in SPANS_MINUTES}
    per_platform: dict[str, ScopeNumbers] = {}
    for platform in platforms:
        buckets = view.minutes(window_key(campaign_id, platform), minute, longest)
        by_span = {}
        for n in SPANS_MINUTES:
            first = minute - (n - 1) * MINUTE
            total = WindowSums()
            for m, sums in buckets.items():
                if m >= first:
                    total = total + sums
            by_span[n] = total
            summed[n] = summed[n] + total
        per_platform[platform] = scope_numbers(by_span)
    numbers = RealtimeNumbers(campaign_id=campaign_id, minute=minute, as_of=round(now, 3),
                              summed=scope_numbers(summed), platforms=per_platform)
    return numbers.model_dump(mode="json", by_alias=True)
