"""A causal streaming detector of volume spikes in a count series (mentions per bucket).

One ``VolumeDetector`` per series (per campaign, per campaign x platform); ``update(timestamp,
count)`` once per bucket, in time order, empty buckets included (as 0). It returns
``(anomaly_score, alert)`` from this row and earlier ones only.

The model, per row (``x = sqrt(count)``: a Poisson count has a standard deviation of about 0.5 on
that scale whatever its rate, so low and high counts share one scale):

* expected ``x`` = a level (exponentially weighted, half-life ``level_hours``) plus the offset of
  this hour of the day (24 slots, each learnt over the days with half-life ``season_days``);
* spread = exponentially weighted mean absolute residual (half-life ``spread_hours``), never below
  ``poisson_floor`` (0.5: the Poisson spread; this is what keeps a bump of 3 on a flat zero history
  from being a spike);
* ``z`` = the residual, smoothed over ``smooth`` buckets (an exponential average of that span),
  divided by the spread. Residuals beyond ``clip`` spreads update the level, the hour offsets and
  the spread as if they were ``clip`` spreads, so a spike barely moves the baseline;
* ``anomaly_score = min(1, z / max(M, z_floor))`` where ``M`` is the highest ``z`` of the previous
  ``memory_days`` whole days: the score is relative to the series' own recent surprises (one
  threshold serves a noisy series and a quiet one), and ``z`` must also reach
  ``threshold * z_floor`` to score ``threshold``;
* ``alert`` = ``anomaly_score >= threshold``, at most once per ``refractory_hours`` (a spike is
  reported once, when it starts), never in the first ``warmup_hours``, and never for a count
  below ``min_count``.

Hours and days are converted to buckets with the bucket width: ``bucket_seconds``, or else the
median of the first gaps between timestamps (so 1-minute and 5-minute series work alike). The
state is a few floats, 24 hour offsets and ``memory_days`` daily maxima: bounded per series; see
``to_state``/``from_state``. The defaults were chosen on the Numenta Anomaly Benchmark's Twitter
volume series (``bench/nab.py``, README).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from statistics import median
from typing import Any

THRESHOLD_GRID = (0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 1.0)  # what bench/nab.py's leave-one-out chooses from

_GAPS = 9  # gaps between the first timestamps that fix the bucket width when it is not given
_STATE = ("bucket", "gaps", "first", "last", "level", "spread", "smoothed", "season", "maxima", "day",
          "day_max", "last_alert", "rows")


def _epoch(timestamp: datetime | float) -> float:
    """Epoch seconds; a naive datetime is UTC (hours of the day are UTC hours)."""
    if isinstance(timestamp, datetime):
        return (timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=timezone.utc)).timestamp()
    return float(timestamp)


@dataclass(frozen=True)
class SpikeParams:
    """The detector's parameters (see the module); the defaults are the shipped ones."""

    threshold: float = 0.8
    z_floor: float = 5.0
    memory_days: int = 5
    refractory_hours: float = 36.0
    level_hours: float = 12.0
    season_days: float = 7.0
    spread_hours: float = 168.0
    smooth: float = 2.0
    clip: float = 3.0
    poisson_floor: float = 0.5
    min_count: float = 0.0
    warmup_hours: float = 24.0
    bucket_seconds: float | None = None


class VolumeDetector:
    """``VolumeDetector(**params).update(timestamp, count) -> (anomaly_score, alert)``; see the module."""

    def __init__(self, **params: Any) -> None:
        p = self.params = SpikeParams(**params)
        if not 0.0 < p.threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        if p.memory_days < 1 or p.smooth < 1 or p.poisson_floor <= 0 or p.z_floor <= 0:
            raise ValueError("memory_days and smooth must be >= 1, poisson_floor and z_floor > 0")
        self.memory_days = int(p.memory_days)
        self.bucket: float | None = p.bucket_seconds
        self.gaps: list[float] = []
        self.first: float | None = None        # epoch seconds of the first row
        self.last: float | None = None         # of the latest row
        self.level: float | None = None
        self.spread = p.poisson_floor
        self.smoothed = 0.0
        self.season = [0.0] * 24
        self.maxima = [0.0] * self.memory_days  # highest z of each of the previous days, oldest first
        self.day: int | None = None
        self.day_max = 0.0
        self.last_alert: float | None = None
        self.rows = 0
        self._rates()

    def _rates(self) -> None:
        per_hour = 3600.0 / self.bucket if self.bucket else 12.0
        self._a_level = 1.0 - 0.5 ** (1.0 / (self.params.level_hours * per_hour))
        self._a_spread = 1.0 - 0.5 ** (1.0 / (self.params.spread_hours * per_hour))
        # a slot is visited per_hour buckets a day: its half-life in visits is season_days * per_hour
        self._a_season = 1.0 - 0.5 ** (1.0 / (self.params.season_days * per_hour))
        self._a_smooth = 2.0 / (self.params.smooth + 1.0)

    def update(self, timestamp: datetime | float, value: float) -> tuple[float, bool]:
        """Feed the next bucket (timestamps strictly increasing): ``(anomaly_score in [0, 1], alert)``."""
        t = _epoch(timestamp)
        if self.last is not None:
            if t <= self.last:
                raise ValueError(f"timestamps must increase: {t} after {self.last}")
            if len(self.gaps) < _GAPS:
                self.gaps.append(t - self.last)
                self.bucket = median(self.gaps)
                self._rates()
        else:
            self.first = t
        self.last = t
        self.rows += 1

        day = int(t // 86400)
        if self.day is None:
            self.day = day
        elif day != self.day:  # the day's maximum joins the memory (days without rows count as 0)
            for _ in range(min(day - self.day, self.memory_days)):
                self.maxima.pop(0)
                self.maxima.append(self.day_max)
                self.day_max = 0.0
            self.day = day

        x = math.sqrt(max(value, 0.0))
        slot = int(t // 3600) % 24
        if self.level is None:
            self.level = x
        residual = x - self.level - self.season[slot]
        spread = max(self.spread, self.params.poisson_floor)
        self.smoothed += self._a_smooth * (residual - self.smoothed)
        z = self.smoothed / spread
        bounded = max(-self.params.clip * spread, min(self.params.clip * spread, residual))
        self.spread += self._a_spread * (abs(bounded) - self.spread)
        self.level += self._a_level * bounded
        self.season[slot] += self._a_season * bounded

        score = min(1.0, max(0.0, z / max(max(self.maxima), self.params.z_floor)))
        self.day_max = max(self.day_max, z)
        alert = (score >= self.params.threshold and value >= self.params.min_count
                 and t - self.first >= 3600.0 * self.params.warmup_hours
                 and (self.last_alert is None or t - self.last_alert >= 3600.0 * self.params.refractory_hours))
        if alert:
            self.last_alert = t
        return score, alert

    def expected(self, timestamp: datetime | float) -> tuple[float, float, float]:
        """What the next row at ``timestamp`` is expected to count, before it is fed:
        ``(expected, low, high)`` in counts, the band being two spreads either side on the sqrt
        scale (a fresh detector expects 0 within the Poisson band)."""
        slot = int(_epoch(timestamp) // 3600) % 24
        x = max((self.level or 0.0) + self.season[slot], 0.0)
        spread = max(self.spread, self.params.poisson_floor)
        return x * x, max(x - 2.0 * spread, 0.0) ** 2, (x + 2.0 * spread) ** 2

    def copy(self) -> VolumeDetector:
        """An independent detector in the same state: ``copy().update(...)`` looks at a row
        (e.g. a minute still growing) without changing this one."""
        twin = object.__new__(VolumeDetector)
        twin.__dict__.update(self.__dict__)
        for k in ("gaps", "season", "maxima"):
            setattr(twin, k, list(getattr(self, k)))
        return twin

    def to_state(self) -> dict[str, Any]:
        """The learnt state (JSON-able); ``from_state(params, state)`` resumes it."""
        return {k: (list(v) if isinstance(v, list) else v) for k, v in ((k, getattr(self, k)) for k in _STATE)}

    @classmethod
    def from_state(cls, state: dict[str, Any], **params: Any) -> VolumeDetector:
        detector = cls(**params)
        for k in _STATE:
            setattr(detector, k, list(state[k]) if isinstance(state[k], list) else state[k])
        if len(detector.maxima) != detector.memory_days:  # memory_days changed: keep the latest days
            detector.maxima = ([0.0] * detector.memory_days + detector.maxima)[-detector.memory_days:]
        detector._rates()
        return detector
