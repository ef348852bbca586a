"""The records on every topic: validation rules and the exported JSON Schema."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from schemas import Campaign, Mention, ScoredMention, TOPIC_MODELS
from schemas.export import stale
from schemas.records import event_id_for


def mention(**overrides):
    data = {"platform": "dcinside", "post_id": "123", "author": {"id": "a1"}, "text": "신라면 존맛",
            "posted_at": "2026-03-01T12:00:00+09:00"}
    data.update(overrides)
    return Mention.model_validate(data)


def test_json_schema_files_are_current():
    assert stale() == []


def test_every_topic_has_a_model():
    assert set(TOPIC_MODELS) >= {"mentions.raw", "mentions.scored", "alerts.spikes", "mentions.deadletter",
                                 "campaigns", "predictions"}


def test_event_id_is_stable_and_times_are_utc():
    m = mention()
    assert m.event_id == event_id_for("dcinside", "123") == mention(text="다른 글").event_id
    assert m.posted_at.utcoffset().total_seconds() == 0 and m.posted_at.hour == 3
    assert m.collected_at == m.posted_at


def test_round_trip_through_orjson():
    m = mention(hashtags=["신라면"], engagement={"likes": 3})
    assert Mention.loads(m.dumps()) == m
    s = ScoredMention.model_validate({**m.model_dump(), "campaigns": ["c1"], "sentiment": 0.8})
    assert ScoredMention.loads(s.dumps()).campaigns == ["c1"]


@pytest.mark.parametrize("bad, where", [
    ({"platform": "myspace"}, "platform"),
    ({"text": ""}, "text"),
    ({"text": "x" * 20_001}, "text"),
    ({"author": {"id": "a", "followers": -1}}, "author.followers"),
    ({"posted_at": "yesterday"}, "posted_at"),
])
def test_invalid_mentions_name_the_field(bad, where):
    with pytest.raises(ValidationError) as info:
        mention(**bad)
    assert where in {".".join(map(str, e["loc"])) for e in info.value.errors()}


def test_campaign_needs_a_matcher():
    with pytest.raises(ValidationError, match="keywords or a query"):
        Campaign(campaign_id="c", brand="b")


def test_caller_chosen_event_id_is_ignored():
    victim = mention(post_id="victim-1")
    attacker = mention(post_id="attacker-9", event_id=victim.event_id, text="덮어쓰기")
    assert attacker.event_id == event_id_for("dcinside", "attacker-9") != victim.event_id
    assert mention(event_id="anything").event_id == event_id_for("dcinside", "123")
    assert "ignored" in Mention.model_fields["event_id"].description
    # a scored mention loaded back from its topic keeps the derived id, whatever the JSON says
    s = ScoredMention.model_validate({**victim.model_dump(), "campaigns": ["c1"]})
    assert s.event_id == victim.event_id
    assert ScoredMention.loads(s.dumps()).event_id == victim.event_id
    forged = {**s.model_dump(mode="json"), "event_id": "f" * 32}
    assert ScoredMention.model_validate(forged).event_id == victim.event_id


def test_control_characters_are_stripped():
    m = mention(text="a\x00b\x01c\x7fd\x85e\x9f\tf\ng\rh 한글 \uffff 😀", url="https://x.y/\x00a",
                brand="Nova\x00", lang="ko\x1b", post_id="12\x003", hashtags=["#\x00tag", "ok"],
                media_urls=["https://m/\x07a.jpg"], author={"id": "u\x001", "handle": "@ji\x0bmin\x9b"})
    assert m.text == "abcde\tf\ng\rh 한글 \uffff 😀"  # tab, LF, CR and non-control code points stay
    assert (m.url, m.brand, m.lang, m.post_id) == ("https://x.y/a", "Nova", "ko", "123")
    assert m.hashtags == ["#tag", "ok"] and m.media_urls == ["https://m/a.jpg"]
    assert (m.author.id, m.author.handle) == ("u1", "@jimin")
    assert m.event_id == event_id_for("dcinside", "123")
    assert Mention.loads(m.dumps()) == m
    plain = mention(text="평범한 글")
    assert plain.text == "평범한 글"


@pytest.mark.parametrize("bad, where", [
    ({"text": "\x00"}, "text"),
    ({"text": "\x00\x01\x7f\x80\x9f"}, "text"),
    ({"post_id": "\x00"}, "post_id"),
    ({"author": {"id": "\x1f\x7f"}}, "author.id"),
])
def test_nothing_but_control_characters_fails_with_a_reason(bad, where):
    from agents.validate import describe_validation_error

    with pytest.raises(ValidationError) as info:
        mention(**bad)
    assert f"{where}: holds nothing but control characters" in describe_validation_error(info.value)


def test_lone_surrogates_are_refused():
    with pytest.raises(ValidationError) as info:
        mention(text="ok \ud800")
    assert "text" in {".".join(map(str, e["loc"])) for e in info.value.errors()}


def test_control_character_check_is_cheap():
    import time

    data = {"platform": "dcinside", "post_id": "123", "author": {"id": "a1", "handle": "h"},
            "text": "신라면 블랙 먹어봤는데 ㄹㅇ 존맛 ㅋㅋㅋ " * 3, "posted_at": "2026-03-01T12:00:00+09:00",
            "hashtags": ["#a", "#b"], "url": "https://example.com/1"}
    n = 20_000
    t0 = time.perf_counter()
    for _ in range(n):
        Mention.model_validate(data)
    per = (time.perf_counter() - t0) / n
    assert per < 100e-6, per  # ~8 us measured on the 2-core dev box
