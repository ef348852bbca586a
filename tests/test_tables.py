"""The combiner on its own (the spike detector and incidents: tests/test_incidents.py)."""

from __future__ import annotations

from tables.combiner import Combiner, add_sums, delta_sums


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
