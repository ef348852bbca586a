"""The voice tracker: self-repetition, coordinated campaigns, bounded state, stores (real RocksDB)."""

from __future__ import annotations

import random

from schemas.records import event_id_for
from scoring.voices import (COORDINATION, REPETITION, VoiceConfig, VoicePost, VoiceTracker, fingerprint,
                            fingerprint_text)
from tables.voices import MemoryVoiceStore, RocksVoiceStore
from tests.mentions import CAMPAIGN, ORDINARY

T0 = 1_780_000_000.0


def post(i: int, author: str, text: str, at: float, age_days: int | None = 1000) -> VoicePost:
    return VoicePost(event_id_for("twitter", str(i)), author, at, age_days, fingerprint(text))


def test_fingerprint_strips_what_copy_paste_varies_and_ignores_short_texts():
    a = fingerprint(f"{CAMPAIGN} https://bit.ly/abc @someone #신라면 #광고 123")
    b = fingerprint(f"  {CAMPAIGN}!!! 🔥🔥 https://t.co/xyz 4567 @other")
    assert a is not None and a == b
    assert fingerprint_text("존맛 ㅋㅋ #신라면 https://x.y") == "존맛ㅋㅋ" and fingerprint("존맛 ㅋㅋ") is None
    # one word changed in a long text is still a near-duplicate (a shared band), unrelated texts are not
    edited = fingerprint(CAMPAIGN.replace("강추합니다", "추천해요"))
    assert any(x == y for x, y in zip(a, edited))
    assert not any(x == y for x, y in zip(a, fingerprint(ORDINARY[0])))


def test_copy_paste_from_fresh_accounts_is_one_coordinated_cluster():
    tracker = VoiceTracker(MemoryVoiceStore(), clock=lambda: T0 + 3600)
    posts = [post(i, f"author_{i}", f"{CAMPAIGN} #{i}", T0 + 20 * i, age_days=3) for i in range(20)]
    findings = tracker.observe(posts)
    cfg = tracker.config
    assert all(f is None for f in findings[:cfg.coordination_min_young_accounts - 1])
    marked = findings[cfg.coordination_min_young_accounts - 1:]
    assert all(f is not None and f.coordination for f in marked)
    assert len({f.coordination for f in marked}) == 1
    reason = next(r for r in marked[-1].reasons if r.factor == COORDINATION)
    assert reason.points == cfg.coordination_points and "20 accounts" in reason.evidence
    assert "20 created less than 30 days" in reason.evidence


def test_old_accounts_need_more_of_them_and_the_window_matters():
    tracker = VoiceTracker(MemoryVoiceStore(), clock=lambda: T0 + 86400)
    old = tracker.observe([post(i, f"a{i}", CAMPAIGN, T0 + i, age_days=2000) for i in range(4)])
    assert all(f is None for f in old)
    assert tracker.observe([post(10, "a10", CAMPAIGN, T0 + 30, age_days=2000)])[0].coordination
    # the same text hours later from other accounts is not part of that burst
    late = tracker.observe([post(20 + i, f"b{i}", CAMPAIGN, T0 + 6 * 3600 + i, age_days=2000) for i in range(4)])
    assert all(f is None for f in late)


def test_one_author_posting_the_same_text_ten_times_gets_repetition():
    tracker = VoiceTracker(MemoryVoiceStore(), VoiceConfig(cadence_points=-10), clock=lambda: T0 + 86400)
    findings = tracker.observe([post(i, "author_x", CAMPAIGN, T0 + 300 * i) for i in range(10)])
    assert findings[0] is None
    for n, f in enumerate(findings[1:], start=1):
        (reason,) = [r for r in f.reasons if r.factor == REPETITION]
        assert reason.points == -30.0 and f"near-duplicate of {n} other post" in reason.evidence
        assert not f.coordination  # one account is not a campaign
    # a machine-regular cadence is measured too (every 300 s)
    act = tracker.activity("author_x")
    assert act.posts == 10 and abs(act.per_hour - 12.0) < 1e-6 and act.gap_cv == 0.0
    assert any(r.factor == "cadence" for r in findings[-1].reasons)


def test_ordinary_distinct_posts_get_nothing():
    rng = random.Random(3)
    tracker = VoiceTracker(MemoryVoiceStore(), clock=lambda: T0 + 86400)
    posts = [post(i, f"author_{i % 4}", ORDINARY[i % len(ORDINARY)] + f" {rng.random()}", T0 + rng.randint(0, 7200))
             for i in range(len(ORDINARY))]
    posts += [post(100 + i, f"author_{i}", t, T0 + 100 * i) for i, t in enumerate(["좋아요", "ㅋㅋㅋ 존맛", "별로"] * 4)]
    assert tracker.observe(posts) == [None] * len(posts)


def test_reading_a_batch_again_never_counts_a_post_against_itself():
    tracker = VoiceTracker(MemoryVoiceStore(), clock=lambda: T0 + 86400)
    batch = [post(1, "author_x", CAMPAIGN, T0)]
    assert tracker.observe(batch) == [None]
    assert tracker.observe(batch) == [None]  # the same event again: no repetition, no cluster growth
    assert tracker.remember(batch) == 1 and tracker.observe(batch) == [None]
    assert tracker.observe([post(2, "author_x", CAMPAIGN, T0 + 60)])[0].reasons[0].factor == REPETITION


def test_ttl_sweep_forgets_authors_and_clusters():
    store = MemoryVoiceStore()
    cfg = VoiceConfig(ttl_minutes=60, sweep_every_minutes=1, sweep_chunk=7)
    tracker = VoiceTracker(store, cfg, clock=lambda: T0 + 10 * 86400)
    tracker.observe([post(i, f"author_{i}", f"{CAMPAIGN} {i}", T0 + i, age_days=1) for i in range(50)])
    assert len(store) == 50 and tracker.clusters == 1 and tracker.indexed_bands > 0
    # two hours later: one post moves the clock; the sweep runs in chunks over the next calls
    tracker.observe([post(1000, "someone", ORDINARY[0], T0 + 7200)])
    for i in range(10):
        tracker.observe([post(2000 + i, "someone", ORDINARY[1], T0 + 7200 + i)])
    assert len(store) == 1 and tracker.swept_posts == 50
    # the campaign cluster is gone; what is left is "someone"'s two texts (one repeated: a cluster)
    assert tracker.clusters == 1 and tracker.indexed_bands == 8
    # the same text from the old authors is not a repetition any more (forgotten)
    assert tracker.observe([post(3000, "author_1", f"{CAMPAIGN} 1", T0 + 7300, age_days=1)]) == [None]


def test_per_author_cap_keeps_the_newest_posts():
    store = MemoryVoiceStore()
    cfg = VoiceConfig(max_posts_per_author=5)
    tracker = VoiceTracker(store, cfg, clock=lambda: T0 + 86400)
    tracker.observe([post(i, "busy", f"{ORDINARY[i % 6]} {i}", T0 + i) for i in range(40)])
    assert len(store) == 1 and len(next(iter(store.data.values()))) == 5 * 48
    assert tracker.activity("busy", T0 + 40).posts == 5


def test_author_state_survives_reopening_rocksdb(tmp_path):
    store = RocksVoiceStore(tmp_path / "voices")
    tracker = VoiceTracker(store, clock=lambda: T0 + 86400)
    assert tracker.observe([post(1, "author_x", CAMPAIGN, T0)]) == [None]
    store.close()
    reopened = RocksVoiceStore(tmp_path / "voices")
    assert not reopened.empty()
    again = VoiceTracker(reopened, clock=lambda: T0 + 86400)
    (f,) = again.observe([post(2, "author_x", CAMPAIGN, T0 + 600)])
    assert f is not None and f.reasons[0].factor == REPETITION
    reopened.close()


def test_a_batch_is_fingerprinted_as_each_text_alone():
    from scoring.normalise import normalise
    from scoring.voices import fingerprints

    texts = [CAMPAIGN, *ORDINARY, "존맛 ㅋㅋ", "", f"{CAMPAIGN} 😂😂 ㅋㅋ", f"{CAMPAIGN} https://x.y/z @a #b 12"]
    assert fingerprints(texts, [normalise(t) for t in texts]) == [fingerprint(t) for t in texts]
    assert fingerprints([], []) == []
    # emoji, and the words normalise writes in their place, are not compared; a placeholder URL neither
    assert fingerprint_text(f"{CAMPAIGN} 😂 ㅋㅋ") == fingerprint_text(CAMPAIGN) == fingerprint_text(f"{CAMPAIGN} http://u.rl")
    assert fingerprint_text("존맛 ㅋㅋ 🔥").endswith("존맛") and fingerprint_text("정말 url 좋아 ㅋㅋ") == "정말좋아ㅋㅋ"
