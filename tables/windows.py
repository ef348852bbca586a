"""The windowed state: ONE tumbling 1-minute Faust table on RocksDB holding every sum.

A hopping table costs one write per window it spans (60 for 1 hour / 1 minute), so the hopping
1-hour views are computed at read time from the 1-minute buckets instead.

A bucket's value is ``Bucket.to_json()``: the named sums and, per source partition of
mentions.scored, the highest ``offset_end`` applied (the mark). A delta at or below its
partition's mark is a duplicate and is skipped; sums and marks change in one table write.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import faust

from schemas import WindowDelta
from schemas.records import WindowSums

MINUTE = 60
HOUR = 3600


def define_windows_table(app: faust.App, retention_hours: int) -> Any:
    return app.Table(
        "windows",
        default=None,
        partitions=app.conf.topic_partitions,
    ).tumbling(MINUTE, expires=timedelta(hours=retention_hours))


@dataclass
class Bucket:
    """One (key, minute) value of the window table."""

    sums: WindowSums = field(default_factory=WindowSums)
    marks: dict[int, int] = field(default_factory=dict)  # source partition -> highest offset_end applied

    def apply(self, delta: WindowDelta) -> bool:
        """Add the delta unless it was applied before; True when it was added."""
        if not delta.rebuild and delta.source_partition >= 0 and delta.offset_end >= 0:
            if delta.offset_end <= self.marks.get(delta.source_partition, -1):
                return False
            self.marks[delta.source_partition] = delta.offset_end
        self.sums = self.sums + delta.sums
        return True

    def to_json(self) -> dict[str, Any]:
        return {"sums": self.sums.model_dump(), "marks": {str(p): o for p, o in self.marks.items()}}

    @classmethod
    def from_json(cls, value: Any) -> "Bucket | None":
        if value is None:
            return None
        if isinstance(value, dict) and "sums" in value:
            return cls(WindowSums.model_validate(value["sums"]),
                       {int(p): int(o) for p, o in (value.get("marks") or {}).items()})
        return cls(WindowSums.of(value))  # a value written before marks existed (positional list)


class WindowView:
    """Read side of the window table (API, predictor, spike seeding), and the one writer."""

    def __init__(self, wrapper: Any) -> None:
        self.wrapper = wrapper  # faust WindowWrapper: writes go through it (changelog, key index)
        self.table = wrapper.table
        self.window = wrapper.table.window
        self.duplicates = 0

    def stored(self, key: str, minute: int) -> Bucket | None:
        return Bucket.from_json(self.table.get((key, self.window.current(minute))))

    def bucket(self, key: str, minute: int) -> WindowSums | None:
        b = self.stored(key, minute)
        return None if b is None else b.sums

    def apply(self, key: str, delta: WindowDelta) -> WindowSums | None:
        """Apply ``delta`` to its bucket; the new sums, or None when it was a duplicate.

        Call only from inside the agent's stream iteration.
        """
        window_range = self.window.current(delta.minute)
        bucket = Bucket.from_json(self.table.get((key, window_range))) or Bucket()
        if not bucket.apply(delta):
            self.duplicates += 1
            return None
        self.wrapper[key][window_range] = bucket.to_json()
        return bucket.sums

    def minutes(self, key: str, end_minute: int, count: int) -> dict[int, WindowSums]:
        out: dict[int, WindowSums] = {}
        for m in range(end_minute - (count - 1) * MINUTE, end_minute + MINUTE, MINUTE):
            value = self.bucket(key, m)
            if value is not None:
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
            total = WindowSums()
            for m in range(start, end + MINUTE, MINUTE):
                if m in buckets:
                    total = total + buckets[m]
            row: dict[str, Any] = total.model_dump()
            row["window_start"] = start
            row["window_end"] = end + MINUTE
            out.append(row)
        return out
