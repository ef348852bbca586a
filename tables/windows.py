"""The windowed state: ONE tumbling 1-minute Faust table on RocksDB holding every sum.

A hopping table costs one write per window it spans (60 for 1 hour / 1 minute), so the hopping
1-hour views are computed at read time from the 1-minute buckets instead.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import faust

from tables.combiner import SUM_FIELDS, add_sums

MINUTE = 60
HOUR = 3600


def define_windows_table(app: faust.App, retention_hours: int) -> Any:
    return app.Table(
        "windows",
        default=None,
        partitions=app.conf.topic_partitions,
    ).tumbling(MINUTE, expires=timedelta(hours=retention_hours))


class WindowView:
    """Read side of the window table (API, predictor, spike seeding)."""

    def __init__(self, wrapper: Any) -> None:
        self.wrapper = wrapper  # faust WindowWrapper: writes go through it (changelog, key index)
        self.table = wrapper.table
        self.window = wrapper.table.window

    def bucket(self, key: str, minute: int) -> list[float] | None:
        return self.table.get((key, self.window.current(minute)))

    def apply(self, key: str, minute: int, sums: list[float]) -> list[float]:
        """Add ``sums`` to the bucket; call only from inside the agent's stream iteration."""
        window_range = self.window.current(minute)
        total = add_sums(self.table.get((key, window_range)), sums)
        self.wrapper[key][window_range] = total
        return total

    def minutes(self, key: str, end_minute: int, count: int) -> dict[int, list[float]]:
        out: dict[int, list[float]] = {}
        for m in range(end_minute - (count - 1) * MINUTE, end_minute + MINUTE, MINUTE):
            value = self.bucket(key, m)
            if value:
                out[m] = value
        return out

    def hopping(self, key: str, now: float | None = None, size: int = HOUR, step: int = MINUTE,
                windows: int = 60) -> list[dict[str, float]]:
        """The last ``windows`` hopping windows of ``size`` seconds advancing by ``step``."""
        now = time.time() if now is None else now
        last_minute = int(now) // MINUTE * MINUTE
        span = size // MINUTE + (windows - 1) * step // MINUTE
        buckets = self.minutes(key, last_minute, span)
        out = []
        for w in range(windows):
            end = last_minute - (windows - 1 - w) * step
            start = end - size + MINUTE
            total: list[float] | None = None
            for m in range(start, end + MINUTE, MINUTE):
                if m in buckets:
                    total = add_sums(total, buckets[m])
            row = dict(zip(SUM_FIELDS, total or [0.0] * len(SUM_FIELDS)))
            row["window_start"] = start
            row["window_end"] = end + MINUTE
            out.append(row)
        return out
