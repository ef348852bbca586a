"""The combiner: sums a batch of scored mentions per (campaign, platform, minute).

Faust spends about a millisecond on each table write, so the window agent never writes once
per mention: it writes one delta per key and minute per batch.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from schemas import WindowDelta

ALL_CAMPAIGNS = "*"
"""Every mention also counts under this pseudo-campaign, so brand-wide velocity exists."""

SUM_FIELDS = ("count", "sentiment_sum", "negative", "positive", "credible", "toxic", "purchase_intent_sum")


def window_key(campaign_id: str, platform: str) -> str:
    return f"{campaign_id}|{platform}"


def split_key(key: str) -> tuple[str, str]:
    campaign_id, _, platform = key.partition("|")
    return campaign_id, platform


def add_sums(a: list[float] | None, b: list[float]) -> list[float]:
    if not a:
        return list(b)
    return [x + y for x, y in zip(a, b)]


@dataclass
class Combiner:
    """Accumulates sums until ``drain`` hands them out as deltas."""

    sums: dict[tuple[str, str, int], list[float]] = field(default_factory=lambda: defaultdict(lambda: [0.0] * 7))
    mentions: int = 0

    def add(self, mention: dict) -> None:
        """``mention`` is a decoded ScoredMention (a dict, to skip re-validation on the hot path)."""
        minute = int(_epoch(mention["posted_at"])) // 60 * 60
        platform = mention["platform"]
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
        self.mentions += 1
        for campaign_id in (ALL_CAMPAIGNS, *mention.get("campaigns", ())):
            acc = self.sums[(campaign_id, platform, minute)]
            for i, v in enumerate(row):
                acc[i] += v

    def __len__(self) -> int:
        return len(self.sums)

    def drain(self) -> list[WindowDelta]:
        deltas = [
            WindowDelta(campaign_id=c, platform=p, minute=m, count=int(s[0]), sentiment_sum=s[1],
                        negative=int(s[2]), positive=int(s[3]), credible=int(s[4]), toxic=int(s[5]),
                        purchase_intent_sum=s[6])
            for (c, p, m), s in self.sums.items()
        ]
        self.sums.clear()
        self.mentions = 0
        return deltas


def delta_sums(delta: WindowDelta) -> list[float]:
    return [float(delta.count), delta.sentiment_sum, float(delta.negative), float(delta.positive),
            float(delta.credible), float(delta.toxic), delta.purchase_intent_sum]


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
