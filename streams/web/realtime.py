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
from typing import Any, Iterable

from schemas.records import PLATFORMS, WindowSums
from tables.combiner import window_key
from tables.windows import MINUTE

SPANS_MINUTES = (1, 5, 60)


def _ratio(part: float, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def scope_numbers(by_span: dict[int, WindowSums]) -> dict[str, Any]:
    """One scope's numbers from its sums over each span."""
    return {
        "velocity": {"last_1m": by_span[1].count,
                     **{f"per_minute_{n}m": round(by_span[n].count / n, 3) for n in SPANS_MINUTES if n > 1}},
        "mentions": {f"{n}m": by_span[n].count for n in SPANS_MINUTES},
        "sentiment_mean": {f"{n}m": _ratio(by_span[n].sentiment_sum, by_span[n].count) for n in SPANS_MINUTES},
        "credible_share": {f"{n}m": _ratio(by_span[n].credible, by_span[n].count) for n in SPANS_MINUTES},
    }


def realtime_numbers(view: Any, campaign_id: str, now: float | None = None,
                     platforms: Iterable[str] = PLATFORMS) -> dict[str, Any]:
    """The realtime numbers of ``campaign_id`` (``*``: every mention) from ``view``, a
    ``tables.windows.WindowView``. ``minute`` is the epoch second the minute in progress began."""
    now = time.time() if now is None else now
    minute = int(now) // MINUTE * MINUTE
    longest = max(SPANS_MINUTES)
    summed = {n: WindowSums() for n in SPANS_MINUTES}
    per_platform: dict[str, Any] = {}
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
    return {"campaign_id": campaign_id, "minute": minute, "as_of": round(now, 3),
            "summed": scope_numbers(summed), "platforms": per_platform}
