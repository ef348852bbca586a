"""scoring.anomaly.VolumeDetector: causal, bounded, Poisson-aware spike detection."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from scoring.anomaly import VolumeDetector

START = datetime(2026, 5, 1, tzinfo=timezone.utc)


def feed(detector: VolumeDetector, counts, minutes: int = 5, start: datetime = START):
    return [detector.update(start + timedelta(minutes=minutes * i), c) for i, c in enumerate(counts)]


def poisson_day_cycle(days: int, per_day: int, base: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    hours = (np.arange(days * per_day) % per_day) * 24 / per_day
    return rng.poisson(base * (1.5 + np.sin(2 * np.pi * hours / 24))).astype(float)


def test_scores_in_range_and_a_spike_alerts_once_at_its_start():
    counts = poisson_day_cycle(4, 288, 40)
    counts[900:930] *= 8  # a 2.5-hour spike on day 4
    out = feed(VolumeDetector(), counts)
    scores = [s for s, _ in out]
    assert all(0.0 <= s <= 1.0 for s in scores)
    # from day 3 on (the hour-of-day profile learnt): one alert, at the spike's start
    assert [i for i, (_, a) in enumerate(out) if a and i >= 576] in ([900], [901], [902])
    assert max(scores[576:890]) < 0.8


def test_no_alert_in_warmup_or_after_within_refractory():
    counts = poisson_day_cycle(3, 288, 40)
    counts[100:110] *= 10  # inside the first 24 hours
    counts[400:410] *= 10
    counts[500:510] *= 10  # 8 hours after the one before: refractory (36 h)
    alerts = [i for i, (_, a) in enumerate(feed(VolumeDetector(), counts)) if a]
    assert alerts == [400] or alerts == [401]


def test_low_counts_a_bump_of_three_on_zeros_is_not_a_spike():
    counts = [0.0] * (3 * 1440)  # three days of empty minutes
    counts[2000] = 3
    counts[3000:3003] = [3, 2, 3]
    out = feed(VolumeDetector(), counts, minutes=1)
    assert not any(a for _, a in out)
    counts[3500:3505] = [30, 40, 35, 30, 30]  # but dozens are
    out = feed(VolumeDetector(), counts, minutes=1)
    assert [i for i, (_, a) in enumerate(out) if a] in ([3500], [3501])


def test_min_count_floor():
    counts = [0.0] * 2000 + [12.0] * 3 + [0.0] * 100
    assert any(a for _, a in feed(VolumeDetector(), counts, minutes=1))
    assert not any(a for _, a in feed(VolumeDetector(min_count=20), counts, minutes=1))


def test_bucket_width_inferred_from_timestamps():
    d1 = VolumeDetector()
    feed(d1, [5.0] * 20, minutes=1)
    assert d1.bucket == 60.0
    d5 = VolumeDetector()
    feed(d5, [5.0] * 20, minutes=5)
    assert d5.bucket == 300.0
    assert d5._a_level > d1._a_level * 4.9  # the same half-life in hours: 5x as many 1-minute buckets
    assert VolumeDetector(bucket_seconds=60).bucket == 60


def test_state_round_trip_continues_identically_and_is_bounded():
    counts = poisson_day_cycle(8, 288, 20)
    counts[2000:2010] *= 6
    whole = feed(VolumeDetector(), counts)
    first = VolumeDetector()
    feed(first, counts[:1500])
    state = json.loads(json.dumps(first.to_state()))
    resumed = VolumeDetector.from_state(state)
    rest = [resumed.update(START + timedelta(minutes=5 * i), c) for i, c in enumerate(counts) if i >= 1500]
    assert rest == whole[1500:]
    assert len(state["season"]) == 24 and len(state["maxima"]) == 5 and len(state["gaps"]) <= 9


def test_epoch_floats_and_naive_datetimes_are_utc():
    counts = poisson_day_cycle(2, 288, 30)
    a = feed(VolumeDetector(), counts)
    b = feed(VolumeDetector(), counts, start=START.replace(tzinfo=None))
    c = [VolumeDetector().update(0, 0)]  # smoke: floats work
    d = VolumeDetector()
    e = [d.update(START.timestamp() + 300 * i, x) for i, x in enumerate(counts)]
    assert a == b == e and c == [(0.0, False)]


def test_bad_input():
    d = VolumeDetector()
    d.update(START, 1)
    with pytest.raises(ValueError, match="increase"):
        d.update(START, 2)
    with pytest.raises(ValueError):
        VolumeDetector(threshold=0)
