"""The combiner and the spike detector, on their own."""

from __future__ import annotations

from tables.combiner import Combiner, add_sums, delta_sums
from tables.spikes import SpikeDetector, Thresholds


def scored(platform: str, posted_at: str, label: str, campaigns=(), sentiment=0.0, credible=True) -> dict:
    return {"platform": platform, "posted_at": posted_at, "sentiment_label": label, "sentiment": sentiment,
            "campaigns": list(campaigns), "credible": credible, "toxic": False, "purchase_intent": 0.5}


def test_combiner_sums_per_campaign_platform_minute_and_counts_brand_wide():
    c = Combiner()
    c.add(scored("twitter", "2026-01-01T10:00:05Z", "positive", ["a"], 0.9))
    c.add(scored("twitter", "2026-01-01T10:00:59.999Z", "negative", ["a", "b"], -0.8, credible=False))
    c.add(scored("twitter", "2026-01-01T10:01:00Z", "neutral", []))
    deltas = {(d.campaign_id, d.platform, d.minute): d for d in c.drain()}
    minute = 1767261600  # 2026-01-01T10:00:00Z
    assert set(deltas) == {("*", "twitter", minute), ("a", "twitter", minute), ("b", "twitter", minute),
                           ("*", "twitter", minute + 60)}
    a = deltas[("a", "twitter", minute)]
    assert (a.sums.count, a.sums.positive, a.sums.negative, a.sums.credible) == (2, 1, 1, 1)
    assert abs(a.sums.sentiment_sum - 0.1) < 1e-9
    assert deltas[("*", "twitter", minute)].sums.count == 2
    assert len(c) == 0 and c.drain() == []


def test_add_sums_and_delta_sums_agree():
    c = Combiner()
    c.add(scored("clien", "2026-01-01T10:00:00Z", "positive", sentiment=1.0))
    (d,) = [d for d in c.drain() if d.campaign_id == "*"]
    assert add_sums(None, delta_sums(d)) == delta_sums(d)
    assert add_sums(delta_sums(d), delta_sums(d)).count == 2


def detector(z=3.0, min_mentions=20):
    return SpikeDetector(lambda campaign: Thresholds(zscore=z, min_mentions=min_mentions))


def sums(count: int, negative: int = 0) -> list[float]:
    return [float(count), 0.0, float(negative), 0.0, float(count), 0.0, 0.0]


def test_a_burst_over_a_steady_hour_raises_one_velocity_alert():
    d = detector()
    for i in range(60):
        assert d.observe("c|twitter", i * 60, sums(10 + i % 3)) == []
    alerts = d.observe("c|twitter", 60 * 60, sums(80))
    assert [a.kind for a in alerts] == ["velocity"]
    assert alerts[0].campaign_id == "c" and alerts[0].platform == "twitter" and alerts[0].count == 80
    assert d.observe("c|twitter", 60 * 60, sums(90)) == []  # once per minute and kind


def test_small_counts_and_normal_noise_do_not_alert():
    d = detector()
    assert d.observe("c|x", 0, sums(19)) == []  # below min_mentions
    for i in range(60):
        d.observe("c|y", i * 60, sums(40 if i % 2 else 20))
    assert d.observe("c|y", 3600, sums(45)) == []


def test_negative_surge_is_its_own_alert():
    d = detector()
    for i in range(60):
        d.observe("c|blind", i * 60, sums(10, negative=2))
    kinds = {a.kind for a in d.observe("c|blind", 3600, sums(60, negative=50))}
    assert kinds == {"velocity", "negative_sentiment"}
