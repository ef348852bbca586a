"""Window deltas without a broker: named sums, the combiner per source partition, idempotent application."""

from __future__ import annotations

import pytest

from schemas import WindowDelta
from schemas.records import WINDOW_SUM_FIELDS, WindowSums
from tables.combiner import Combiner
from tables.windows import Bucket

MINUTE = 1767261600  # 2026-01-01T10:00:00Z


def scored(platform="twitter", posted_at="2026-01-01T10:00:05Z", label="positive", campaigns=(), sentiment=0.5,
           purchase_intent=0.25) -> dict:
    return {"platform": platform, "posted_at": posted_at, "sentiment_label": label, "sentiment": sentiment,
            "campaigns": list(campaigns), "credible": True, "toxic": False, "purchase_intent": purchase_intent}


def delta(partition: int, start: int, end: int, count: int = 1, **kw) -> WindowDelta:
    return WindowDelta(campaign_id="*", platform="twitter", minute=MINUTE, sums=WindowSums(count=count, **kw),
                       source_partition=partition, offset_start=start, offset_end=end)


def test_combiner_splits_per_source_partition_with_the_batch_range():
    c = Combiner()
    c.add(scored(campaigns=["a"]), partition=0, offset=10)
    c.add(scored(label="negative", sentiment=-1.0), partition=0, offset=11)
    c.note(0, 12)  # a record of the batch that counts nothing (dead-lettered)
    c.add(scored(), partition=1, offset=500)
    deltas = {(d.campaign_id, d.source_partition): d for d in c.drain()}
    assert set(deltas) == {("*", 0), ("a", 0), ("*", 1)}
    p0 = deltas[("*", 0)]
    assert (p0.offset_start, p0.offset_end) == (10, 13)
    assert p0.sums == WindowSums(count=2, sentiment_sum=-0.5, negative=1, positive=1, credible=2, toxic=0,
                                 purchase_intent_sum=0.5)
    assert (deltas[("a", 0)].offset_start, deltas[("a", 0)].offset_end) == (10, 13)
    assert (deltas[("*", 1)].offset_start, deltas[("*", 1)].offset_end, deltas[("*", 1)].sums.count) == (500, 501, 1)
    assert c.drain() == [] and c.ranges == {}


def test_a_bad_record_adds_nothing():
    c = Combiner()
    with pytest.raises((KeyError, TypeError, ValueError)):
        c.add({"platform": "x", "posted_at": 12}, partition=0, offset=1)
    with pytest.raises(TypeError):
        c.add(scored(campaigns=[1]), partition=0, offset=2)
    assert c.drain() == []


def test_the_same_delta_twice_counts_once():
    b = Bucket()
    d = delta(0, 0, 100, count=5, sentiment_sum=2.0, purchase_intent_sum=1.5)
    assert b.apply(d) is True
    assert b.apply(d) is False
    assert b.apply(WindowDelta.loads(d.dumps())) is False
    assert b.sums.count == 5 and b.sums.purchase_intent_sum == 1.5 and b.marks == {0: 100}


def test_ranges_at_or_below_the_mark_are_duplicates():
    b = Bucket()
    assert b.apply(delta(0, 0, 100, count=5))
    assert not b.apply(delta(0, 0, 60, count=3))    # a re-read prefix of an applied batch
    assert not b.apply(delta(0, 60, 100, count=2))  # and its rest, ending at the mark
    assert b.apply(delta(0, 100, 150, count=4))     # the next batch
    assert b.sums.count == 9 and b.marks == {0: 150}


def test_partitions_have_their_own_marks():
    b = Bucket()
    assert b.apply(delta(0, 0, 100, count=1))
    assert b.apply(delta(1, 0, 50, count=2))  # same offsets, other partition: not a duplicate
    assert not b.apply(delta(1, 10, 50, count=2))
    assert b.apply(delta(0, 100, 120, count=3))
    assert b.sums.count == 6 and b.marks == {0: 120, 1: 50}


def test_rebuilt_deltas_apply_unconditionally_and_leave_marks():
    b = Bucket()
    rebuilt = WindowDelta(campaign_id="*", platform="twitter", minute=MINUTE, count=7, sentiment_sum=1.0, rebuild=True)
    assert rebuilt.sums.count == 7 and rebuilt.source_partition == -1  # flat fields, as window_rows builds them
    assert b.apply(rebuilt) and b.apply(rebuilt)
    assert b.sums.count == 14 and b.marks == {}


def test_bucket_round_trips_through_json_with_every_sum():
    b = Bucket()
    b.apply(delta(3, 0, 9, count=2, sentiment_sum=0.5, negative=1, positive=1, credible=2, toxic=1,
                  purchase_intent_sum=0.75))
    import orjson
    back = Bucket.from_json(orjson.loads(orjson.dumps(b.to_json())))
    assert back == b
    assert set(b.to_json()["sums"]) == set(WINDOW_SUM_FIELDS)
    # a value written before marks existed (the positional list) still reads
    old = Bucket.from_json([2.0, 0.5, 1.0, 1.0, 2.0, 1.0, 0.75])
    assert old.sums == b.sums and old.marks == {}
    with pytest.raises(ValueError):
        WindowSums.of([1.0, 2.0])


def test_window_sums_add_by_name():
    a = WindowSums(count=1, sentiment_sum=0.5, purchase_intent_sum=0.25)
    total = a + a
    assert total.count == 2 and total.sentiment_sum == 1.0 and total.purchase_intent_sum == 0.5
