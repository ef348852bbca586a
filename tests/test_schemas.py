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
