"""The stream's spike detector: ``scoring.anomaly.VolumeDetector`` over 1-minute buckets, per
campaign summed over all platforms and per campaign x platform, on mention counts (velocity) and
on negative-mention counts (negative shift).

The same detector class and update code as ``truevoice spikes FILE`` (``scoring.anomaly``), with
stream parameters (``stream_params``): 1-minute buckets, a baseline of about an hour, no smoothing
(a minute is judged on its own), no warm-up or refractory (the history is seeded, and
``tables.incidents`` merges what belongs together), and the campaign's own limits: a minute
alerts when its z reaches ``MINUTE_Z_FACTOR`` times the campaign's ``spike_threshold`` and it
holds at least ``min_mentions``.

Time. Deltas for a minute keep arriving while the minute is open (every ~0.5 s) and, when a file
is replayed, out of order across series. A series keeps the minutes it has not fed yet
(``pending``). ``tick(now)`` feeds the *closed* ones into the detectors, in order, empty minutes
as 0: a minute is closed once it ended ``grace_seconds`` ago by the wall clock and nothing
arrived for it for ``settle_seconds`` (``replay_settle_seconds`` for a minute older than
``recent_minutes``: a replay or backfill, whose deltas come out of order across the table's
partitions), or the series received nothing at all for ``settle_seconds``. The minutes still
open are then *looked at* on a copy of the detectors (``VolumeDetector.copy``), so a burst
alerts while its minute grows, but only closed minutes enter the baseline.

History. The first time a campaign is seen, each of its series is seeded with the
``history_minutes`` before its first pending minute from the window table (missing minutes are
0, which is the Poisson floor of a campaign without history). Everything here is derived
state in memory; a restarted worker seeds again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

from schemas.records import PLATFORMS, WindowSums
from scoring.anomaly import VolumeDetector

ALL = "*"  # the platform of a campaign's series over all platforms (and the all-campaigns campaign)
MINUTE = 60


NEGATIVE_SHIFT = 0.2
"""The negative detector alerts on a spike of negative mentions only when their share of the
minute is also at least twice the expected share, and at least NEGATIVE_SHIFT above it."""


@dataclass(frozen=True)
class Thresholds:
    """A campaign's alerting limits (``Campaign.spike_threshold`` / ``min_mentions``)."""

    zscore: float = 3.0
    min_mentions: int = 20
    negative_share: float = 0.6  # kept for callers of the old detector; the negative series is judged like velocity


@dataclass(frozen=True)
class StreamParams:
    grace_seconds: float = 5.0
    settle_seconds: float = 2.0
    recent_minutes: int = 5
    replay_settle_seconds: float = 20.0
    history_minutes: int = 60
    level_hours: float = 1.0
    spread_hours: float = 6.0
    threshold: float = 0.8
    idle_minutes: int = 180  # a series with nothing for this long is forgotten (seeded again if it returns)


MINUTE_Z_FACTOR = 1.5
"""A campaign's ``spike_threshold`` is a z over its hour; one minute is judged at 1.5 times that
(3 -> 4.5): on the sqrt scale a Poisson minute is about standard normal, and z >= 3 would happen
by chance about twice a day per series with 1,440 minutes a day."""


def stream_params(limits: Thresholds, p: StreamParams = StreamParams()) -> dict:
    """VolumeDetector parameters for 1-minute buckets and a campaign's limits (alert at
    z >= MINUTE_Z_FACTOR * zscore and count >= min_mentions)."""
    z = max(limits.zscore, 0.1) * MINUTE_Z_FACTOR
    return dict(bucket_seconds=60.0, threshold=p.threshold, z_floor=z / p.threshold,
                memory_days=1, refractory_hours=0.0, warmup_hours=0.0, level_hours=p.level_hours,
                season_days=7.0, spread_hours=p.spread_hours, smooth=1.0, clip=3.0,
                min_count=float(limits.min_mentions))


@dataclass
class Observation:
    """What the detectors made of one minute of one series."""

    campaign_id: str
    platform: str  # ALL: the campaign over all platforms
    minute: int  # epoch seconds
    closed: bool  # False: the minute is still open (looked at on a copy)
    count: int
    negative: int
    sentiment_sum: float
    expected: float
    low: float
    high: float
    z: float
    score: float
    velocity: bool  # the velocity detector alerted
    negative_alert: bool  # the negative-count detector alerted

    @property
    def alert(self) -> bool:
        return self.velocity or self.negative_alert

    @property
    def above_band(self) -> bool:
        return self.count > self.high


@dataclass
class _Series:
    campaign_id: str
    platform: str
    volume: VolumeDetector
    negative: VolumeDetector
    fed: int  # the last minute fed into the detectors
    pending: dict[int, list[float]] = field(default_factory=dict)  # minute -> [count, negative, sentiment_sum]
    max_minute: int = 0
    last_arrival: float = 0.0
    dirty: bool = True

    def feed(self, minute: int, closed: bool, volume: VolumeDetector, negative: VolumeDetector) -> Observation:
        count, neg, sentiment = self.pending.get(minute, (0.0, 0.0, 0.0, 0.0))[:3]
        expected, low, high = volume.expected(minute)
        x_expected, spread = expected ** 0.5, max(volume.spread, volume.params.poisson_floor)
        z = (count ** 0.5 - x_expected) / spread
        neg_expected = negative.expected(minute)[0]
        score, velocity = volume.update(minute, count)
        _, negative_alert = negative.update(minute, neg)
        if negative_alert:  # more negative mentions, and a shift: a larger share of them than expected
            share = neg_expected / max(expected, 1.0)
            negative_alert = neg / max(count, 1.0) >= max(2.0 * share, share + NEGATIVE_SHIFT)
        return Observation(self.campaign_id, self.platform, minute, closed, int(count), int(neg), sentiment,
                           expected, low, high, z, score, velocity, negative_alert)


def _walk(fed: int, pending: dict[int, list[float]], limit: int, gap: int) -> Iterable[int]:
    """The minutes after ``fed`` up to ``limit`` to feed, in order: every pending one, and the empty
    ones between, but at most ``gap`` seconds of empty minutes before each (a long silence or a
    stray old timestamp must not cost a loop over years of minutes)."""
    m = fed + MINUTE
    for target in sorted(x for x in pending if m <= x <= limit) + [limit + MINUTE]:
        m = max(m, target - gap)
        yield from range(m, min(target, limit + MINUTE), MINUTE)
        if target <= limit:
            yield target
        m = target + MINUTE


class SpikeWatch:
    """Every series' detectors; ``add`` per applied window delta (O(1)), ``tick`` a few times a second."""

    def __init__(self, thresholds_for: Callable[[str], Thresholds],
                 seed: Callable[[str, str, int, int], dict[int, WindowSums]] | None = None,
                 params: StreamParams = StreamParams(), platforms: Iterable[str] = PLATFORMS) -> None:
        """``seed(campaign_id, platform, end_minute, count)``: the stored minutes of that series up to
        ``end_minute`` (``WindowView.minutes``); None: no history (zeros)."""
        self.thresholds_for = thresholds_for
        self.seed = seed
        self.params = params
        self.platforms = tuple(platforms)
        self.series: dict[tuple[str, str], _Series] = {}
        self._new: dict[tuple[str, str], dict[int, list[float]]] = {}  # not yet seeded
        self.late = 0  # deltas for minutes already fed (counted in the windows, not in the baseline)

    # -- per delta ---------------------------------------------------------------------------
    def add(self, campaign_id: str, platform: str, minute: int, sums: WindowSums, now: float | None = None) -> None:
        now = time.time() if now is None else now
        for key in ((campaign_id, platform), (campaign_id, ALL)):
            s = self.series.get(key)
            if s is None:
                bucket = self._new.setdefault(key, {}).setdefault(minute, [0.0, 0.0, 0.0, now])
            else:
                if minute <= s.fed:
                    self.late += 1
                    continue
                bucket = s.pending.setdefault(minute, [0.0, 0.0, 0.0, now])
                s.max_minute = max(s.max_minute, minute)
                s.last_arrival = now
                s.dirty = True
            bucket[0] += sums.count
            bucket[1] += sums.negative
            bucket[2] += sums.sentiment_sum
            bucket[3] = now

    def follow(self, campaign_id: str, now: float | None = None) -> None:
        """Observe ``campaign_id`` over all platforms from ``now``'s minute on even when nothing
        arrives for it (an incident restored after a restart must see its quiet minutes to resolve)."""
        now = time.time() if now is None else now
        if (campaign_id, ALL) not in self.series:
            self._new.setdefault((campaign_id, ALL), {}).setdefault(int(now) // MINUTE * MINUTE, [0.0, 0.0, 0.0, now])

    # -- per tick ----------------------------------------------------------------------------
    def tick(self, now: float | None = None) -> list[Observation]:
        """Feed closed minutes, look at open ones; every alerting observation, plus every observation
        of a campaign's all-platforms series and every platform minute above its band, in minute order."""
        now = time.time() if now is None else now
        self._seed_new(now)
        out: list[Observation] = []
        p = self.params
        wall_closed = int(now - p.grace_seconds) // MINUTE * MINUTE - MINUTE  # the newest minute that ended grace ago
        now_minute = int(now) // MINUTE * MINUTE
        gap = p.history_minutes * MINUTE
        idle = []
        for key, s in self.series.items():
            if not s.dirty and s.fed >= wall_closed:
                if not s.pending and now - s.last_arrival > p.idle_minutes * MINUTE:
                    idle.append(key)
                continue
            limit = wall_closed
            if now - s.last_arrival < p.settle_seconds:  # still receiving: a minute still arriving stays open
                recent = now - p.recent_minutes * MINUTE
                for m, bucket in s.pending.items():
                    wait = p.settle_seconds if m >= recent else p.replay_settle_seconds
                    if m <= limit and now - bucket[3] < wait:
                        limit = m - MINUTE
            if s.fed < limit:
                for minute in _walk(s.fed, s.pending, limit, gap):
                    obs = s.feed(minute, True, s.volume, s.negative)
                    s.pending.pop(minute, None)
                    self._keep(obs, out)
                s.fed = limit
            if s.pending and s.dirty and s.platform == ALL or (
                    s.pending and s.dirty and max(b[0] for b in s.pending.values()) >= s.volume.params.min_count):
                # an open minute below the campaign's minimum cannot alert: a platform series then
                # skips the look (the campaign's own series is looked at: it tracks the incident)
                last = min(max(s.pending), now_minute + MINUTE)
                if last > s.fed:
                    volume, negative = s.volume.copy(), s.negative.copy()
                    for minute in _walk(s.fed, s.pending, last, gap):
                        self._keep(s.feed(minute, False, volume, negative), out)
            s.dirty = False
        for key in idle:
            del self.series[key]
        out.sort(key=lambda o: (o.minute, o.platform != ALL))
        return out

    @staticmethod
    def _keep(obs: Observation, out: list[Observation]) -> None:
        if obs.alert or obs.platform == ALL or obs.above_band:
            out.append(obs)

    def _seed_new(self, now: float) -> None:
        if not self._new:
            return
        new, self._new = self._new, {}
        by_campaign: dict[str, dict[tuple[str, str], dict[int, list[float]]]] = {}
        for key, pending in new.items():
            by_campaign.setdefault(key[0], {})[key] = pending
        for campaign_id, groups in by_campaign.items():
            first = min(min(p) for p in groups.values())
            limits = self.thresholds_for(campaign_id)
            params = stream_params(limits, self.params)
            n = self.params.history_minutes
            start = first - n * MINUTE
            history: dict[str, dict[int, WindowSums]] = {}
            wanted = {k[1] for k in groups}
            if self.seed is not None:
                for platform in (self.platforms if ALL in wanted else wanted):
                    history[platform] = self.seed(campaign_id, platform, first - MINUTE, n)
            total: dict[int, list[float]] = {}
            for rows in history.values():
                for m, sums in rows.items():
                    t = total.setdefault(m, [0.0, 0.0])
                    t[0] += sums.count
                    t[1] += sums.negative
            for key, pending in groups.items():
                if key in self.series:  # pragma: no cover - seeded by an earlier tick
                    continue
                rows = total if key[1] == ALL else {m: [v.count, v.negative] for m, v in history.get(key[1], {}).items()}
                volume, negative = VolumeDetector(**params), VolumeDetector(**params)
                for m in range(start, first, MINUTE):
                    c, neg = rows.get(m, (0.0, 0.0))
                    volume.update(m, c)
                    negative.update(m, neg)
                self.series[key] = _Series(campaign_id, key[1], volume, negative, fed=first - MINUTE, pending=pending,
                                           max_minute=max(pending), last_arrival=now)
