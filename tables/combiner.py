"""The combiner: sums a batch of scored mentions per (campaign, platform, minute) and per source
partition of mentions.scored.

Faust spends about a millisecond on each table write, so the window agent never writes once
per mention: it writes one delta per key, minute and source partition per batch. Each delta
carries the batch's offset range in its source partition, which makes applying it idempotent
(``tables.windows.Bucket``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from schemas import WindowDelta
from schemas.records import WINDOW_SUM_FIELDS, WindowSums

ALL_CAMPAIGNS = "*"
"""Every mention also counts under this pseudo-campaign, so brand-wide velocity exists."""

SUM_FIELDS = WINDOW_SUM_FIELDS
"""The names of the sums, in the order of the old positional form (read only for old table values)."""

_N = len(WINDOW_SUM_FIELDS)


def window_key(campaign_id: str, platform: str) -> str:
    return f"{campaign_id}|{platform}"


def split_key(key: str) -> tuple[str, str]:
    campaign_id, _, platform = key.partition("|")
    return campaign_id, platform


def add_sums(a: WindowSums | None, b: WindowSums) -> WindowSums:
    return WindowSums.of(b) if a is None else WindowSums.of(a) + WindowSums.of(b)


def delta_sums(delta: WindowDelta) -> WindowSums:
    return delta.sums


WindowRow = tuple[int, str, tuple[str, ...], tuple[float, ...]]  # minute, platform, campaigns, sums


def window_row(mention: dict) -> WindowRow:
    """(minute, platform, campaigns, sums in WINDOW_SUM_FIELDS order) of one decoded ScoredMention.

    Raises (KeyError, TypeError, ValueError) on a record that is not a scored mention: the
    caller dead-letters it. Nothing is accumulated before the whole row is known.
    """
    minute = int(_epoch(mention["posted_at"])) // 60 * 60
    platform = mention["platform"]
    if not isinstance(platform, str):
        raise TypeError(f"platform must be a string, got {type(platform).__name__}")
    campaigns = mention.get("campaigns") or ()
    if not isinstance(campaigns, (list, tuple)) or not all(isinstance(c, str) for c in campaigns):
        raise TypeError("campaigns must be a list of strings")
    label = mention.get("sentiment_label")
    row = (
        1.0,
        float(mention.get("sentiment", 0.0)),
        1.0 if label == "negative" else 0.0,
        1.0 if label == "positive" else 0.0,
        1.0 if mention.get("credible") else 0.0,
        1.0 if mention.get("toxic") else 0.0,
        float(mention.get("purchase_intent", 0.0)),
    )
    return minute, platform, tuple(dict.fromkeys(campaigns)), row


@dataclass
class Combiner:
    """Accumulates sums until ``drain`` hands them out as deltas.

    Keys are (campaign, platform, minute, source partition); ``ranges`` holds, per source
    partition, the batch's [first offset, last offset + 1) — every record of the batch counts,
    also one that was dead-lettered (``note``), so consecutive batches' ranges tile the partition.
    """

    sums: dict[tuple[str, str, int, int], list[float]] = field(default_factory=dict)
    ranges: dict[int, list[int]] = field(default_factory=dict)
    mentions: int = 0

    def add(self, mention: dict, partition: int = -1, offset: int | None = None) -> None:
        """``mention`` is a decoded ScoredMention (a dict, to skip re-validation on the hot path)."""
        self.add_row(window_row(mention), partition, offset)

    def add_row(self, window: WindowRow, partition: int = -1, offset: int | None = None) -> None:
        """A mention's ``window_row``, computed once where the record was decoded."""
        minute, platform, campaigns, row = window
        self.mentions += 1
        if offset is not None:
            self.note(partition, offset)
        for campaign_id in (ALL_CAMPAIGNS, *campaigns):
            key = (campaign_id, platform, minute, partition)
            acc = self.sums.get(key)
            if acc is None:
                acc = self.sums[key] = [0.0] * _N
            for i, v in enumerate(row):
                acc[i] += v

    def note(self, partition: int, offset: int) -> None:
        """Count ``offset`` in the batch's range of ``partition`` (a record that adds no sums)."""
        r = self.ranges.get(partition)
        if r is None:
            self.ranges[partition] = [offset, offset + 1]
        else:
            r[0] = min(r[0], offset)
            r[1] = max(r[1], offset + 1)

    def __len__(self) -> int:
        return len(self.sums)

    def drain(self) -> list[WindowDelta]:
        deltas = []
        for (c, p, m, part), s in self.sums.items():
            start, end = self.ranges.get(part, (-1, -1))
            sums = WindowSums(**{f: (int(round(v)) if f in _COUNTS else v) for f, v in zip(WINDOW_SUM_FIELDS, s)})
            deltas.append(WindowDelta(campaign_id=c, platform=p, minute=m, sums=sums, source_partition=part,
                                      offset_start=start, offset_end=end))
        self.sums.clear()
        self.ranges.clear()
        self.mentions = 0
        return deltas


_COUNTS = frozenset(("count", "negative", "positive", "credible", "toxic"))

_EPOCH_CACHE: dict[str, float] = {}


def _epoch(value: str) -> float:
    # posted_at arrives as the ISO text ScoredMention.dumps wrote ("...Z"); parsing is the
    # combiner's hottest line, and one minute's mentions share a prefix, so cache per minute.
    prefix = value[:16]
    base = _EPOCH_CACHE.get(prefix)
    if base is None:
        if len(_EPOCH_CACHE) > 100_000:
            _EPOCH_CACHE.clear()
        base = datetime.fromisoformat(prefix + ":00+00:00").timestamp()
        _EPOCH_CACHE[prefix] = base
    return base
