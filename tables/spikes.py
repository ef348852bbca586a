"""Spike detection over 1-minute buckets: velocity z-score and negative-sentiment surges.

The detector keeps the last hour of per-minute counts per key in memory (derived state: it is
seeded from the RocksDB window table the first time a key is seen) so a check costs no table reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from schemas import Alert
from schemas.records import WindowSums

BASELINE_MINUTES = 60


@dataclass(frozen=True)
class Thresholds:
    zscore: float = 3.0
    min_mentions: int = 20
    negative_share: float = 0.6


@dataclass
class _KeyHistory:
    counts: dict[int, WindowSums] = field(default_factory=dict)  # minute -> sums
    alerted: set[tuple[int, str]] = field(default_factory=set)


class SpikeDetector:
    def __init__(self, thresholds_for: Callable[[str], Thresholds], seed: Callable[[str, int], dict[int, WindowSums]] | None = None) -> None:
        self._thresholds_for = thresholds_for
        self._seed = seed
        self._keys: dict[str, _KeyHistory] = {}

    def observe(self, key: str, minute: int, sums: WindowSums) -> list[Alert]:
        """Record the bucket's new totals; return the alerts this update raises (each at most once)."""
        sums = WindowSums.of(sums)
        history = self._keys.get(key)
        if history is None:
            history = _KeyHistory(counts=dict(self._seed(key, minute)) if self._seed else {})
            self._keys[key] = history
        history.counts[minute] = sums
        oldest = minute - BASELINE_MINUTES * 60
        for m in [m for m in history.counts if m < oldest]:
            del history.counts[m]
        campaign_id, _, platform = key.partition("|")
        limits = self._thresholds_for(campaign_id)
        count = sums.count
        if count < limits.min_mentions:
            return []
        baseline = [float(history.counts[m].count) if m in history.counts else 0.0 for m in range(oldest, minute, 60)]
        mean = sum(baseline) / len(baseline)
        std = math.sqrt(sum((c - mean) ** 2 for c in baseline) / len(baseline))
        # Poisson floor: a flat, quiet history must not make every small bump a spike.
        z = (count - mean) / max(std, math.sqrt(mean), 1.0)
        negative_share = sums.negative / count
        alerts = []
        if z >= limits.zscore:
            alerts.append(self._alert(history, key, campaign_id, platform, minute, "velocity", sums, mean, std, z))
        if negative_share >= limits.negative_share and z >= limits.zscore / 2:
            alerts.append(self._alert(history, key, campaign_id, platform, minute, "negative_sentiment", sums, mean, std, z))
        return [a for a in alerts if a is not None]

    @staticmethod
    def _alert(history: _KeyHistory, key: str, campaign_id: str, platform: str, minute: int, kind: str,
               sums: WindowSums, mean: float, std: float, z: float) -> Alert | None:
        if (minute, kind) in history.alerted:
            return None
        history.alerted.add((minute, kind))
        count = int(sums.count)
        scope = "all campaigns" if campaign_id == "*" else f"campaign {campaign_id}"
        what = "mention velocity" if kind == "velocity" else "negative sentiment"
        return Alert(
            alert_id=f"{key}|{minute}|{kind}",
            campaign_id=campaign_id,
            platform=platform,
            kind=kind,  # type: ignore[arg-type]
            minute=datetime.fromtimestamp(minute, tz=timezone.utc),
            count=count,
            baseline_mean=round(mean, 3),
            baseline_std=round(std, 3),
            zscore=round(z, 2),
            sentiment_mean=round(sums.sentiment_sum / count, 4),
            negative_share=round(sums.negative / count, 4),
            raised_at=datetime.now(timezone.utc),
            message=f"{what} spike on {platform} for {scope}: {count} mentions this minute "
                    f"vs {mean:.1f}±{std:.1f} over the last hour (z={z:.1f})",
        )
