"""The scoring path's fast paths give exactly what the general paths give.

* ``schemas.records.mention_without_controls`` (used by ``agents.validate.parse_mention`` when
  ``may_hold_controls`` of the raw bytes is False) vs ``Mention.model_validate``;
* ``Record.dumps`` handing the fields to orjson as they are vs ``model_dump(mode="json")``;
* ``schemas.records.copy_with`` vs ``model_copy(update=...)``.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import numpy as np
import orjson
import pytest
from pydantic import ValidationError

from agents.validate import parse_mention
from schemas import Author, Mention, ScoredMention
from schemas.records import CredibilityReason, copy_with, may_hold_controls, mention_without_controls

CONTROLS = [chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]]


def _raw(**over) -> dict:
    data = {
        "platform": "twitter", "post_id": "p1", "url": "https://x.com/a/1",
        "author": {"id": "u1", "handle": "alice", "created_at": "2019-05-01", "followers": 10, "following": 3},
        "text": "신제품 써봤는데 좋아요 \"quoted\"\nnew line", "hashtags": ["a", "b"], "media_urls": ["https://m/1.jpg"],
        "engagement": {"likes": 3}, "posted_at": "2026-06-01T12:00:00+00:00",
    }
    data.update(over)
    return data


def _state(m) -> tuple:
    """Everything that makes two models the same: class, fields in order, values, fields set."""
    out = []
    for name, value in m.__dict__.items():
        out.append((name, _state(value) if hasattr(value, "__pydantic_fields_set__") else
                    [(_state(v) if hasattr(v, "__pydantic_fields_set__") else v) for v in value]
                    if isinstance(value, list) else (value, type(value).__name__,
                                                      getattr(getattr(value, "tzinfo", None), "__class__", None))))
    return (type(m), tuple(out), frozenset(m.__pydantic_fields_set__), m.__pydantic_extra__)


VALID = [
    _raw(),
    _raw(collected_at="2026-06-01T12:05:00+09:00", lang="ko", brand="acme"),
    _raw(posted_at="2026-06-01T12:00:00"),  # naive: taken as UTC
    _raw(posted_at="2026-06-01T12:00:00.123456Z", event_id="client-chosen"),
    _raw(author={"id": 42 if False else "42", "username": "bob", "public_metrics": {"followers_count": 5,
              "following_count": 7, "tweet_count": 9, "listed_count": 1},
              "profile_image_url": "https://pbs/default_profile_images/x.png", "created_at": "2020-01-02T03:04:05Z"}),
    _raw(author={"id": "u2", "screen_name": "carol", "friends_count": 4, "followers_count": 8,
                 "created_at": "Wed Oct 10 20:19:24 +0000 2018", "description": "bio", "name": "C", "url": "u"}),
    _raw(text="tab\tand\rreturn", hashtags=[], media_urls=[], engagement={}),
    _raw(text="back\\slash \\b not an escape", url="a/b"),
    _raw(text="Latin-1 © · é", hashtags=["ü"]),
    _raw(platform="naver_cafe", author={"id": "x", "created_at": None}),
]

INVALID = [
    _raw(text=""),
    _raw(platform="myspace"),
    _raw(post_id=""),
    _raw(author={"id": ""}),
    _raw(author={"handle": "no id"}),
    _raw(author="not an object"),
    _raw(text=1),
    _raw(text="x" * 20_001),
    _raw(posted_at="yesterday"),
    _raw(hashtags=["x"] * 129, lang="far too long a language"),
    _raw(engagement={"likes": -1}, author={"id": "u", "followers": -3, "created_at": "garbage date"}),
    {},
]


@pytest.mark.parametrize("data", VALID)
def test_mention_without_controls_is_mention(data):
    fast = mention_without_controls(json.loads(json.dumps(data)))
    general = Mention.model_validate(json.loads(json.dumps(data)))
    assert type(fast) is Mention and type(fast.author) is Author
    assert _state(fast) == _state(general)
    assert fast.dumps() == general.dumps()
    assert fast == general


@pytest.mark.parametrize("data", INVALID)
def test_mention_without_controls_fails_as_mention(data):
    with pytest.raises(ValidationError) as general:
        Mention.model_validate(data)
    with pytest.raises(ValidationError) as fast:
        mention_without_controls(data)
    assert fast.value.errors() == general.value.errors()
    raw = orjson.dumps(data)
    assert not may_hold_controls(raw)
    assert parse_mention(raw) == ("invalid", parse_mention.__globals__["describe_validation_error"](general.value))


@pytest.mark.parametrize("c", CONTROLS)
@pytest.mark.parametrize("where", ["text", "post_id", "url", "lang", "brand", "hashtags", "media_urls",
                                   "author.id", "author.handle", "author.name", "author.description", "author.url"])
def test_every_control_is_seen_in_the_bytes(c, where):
    data = _raw()
    value = "ab" + c + "cd"
    if where.startswith("author."):
        data["author"] = dict(data["author"], **{where[7:]: value})
    elif where in ("hashtags", "media_urls"):
        data[where] = ["x", value]
    else:
        data[where] = value if where != "lang" else "k" + c
    encodings = [orjson.dumps(data), json.dumps(data).encode(), json.dumps(data, ensure_ascii=False).encode()]
    for raw in encodings:
        assert may_hold_controls(raw), raw
        parsed = parse_mention(raw)
        general = Mention.model_validate(orjson.loads(raw))
        assert _state(parsed) == _state(general)


def test_escaped_controls_are_seen():
    for esc in [b"\\b", b"\\f", b"\\u0000", b"\\u001F", b"\\u001f", b"\\u007F", b"\\u007f", b"\\u0080", b"\\u009f",
                b"\\u009F"]:
        assert may_hold_controls(b'{"text": "a' + esc + b'b"}')
    for clean in [b'{"text": "plain"}', '{"text": "한국어 ©"}'.encode()[:0] + b'{"text": "\xea\xb0\x80"}']:
        assert not may_hold_controls(clean)


def test_parse_mention_uses_the_fast_path_with_the_same_result():
    for data in VALID:
        raw = orjson.dumps(data)
        parsed = parse_mention(raw)
        assert _state(parsed) == _state(Mention.model_validate(orjson.loads(raw)))


def _scored(**over) -> ScoredMention:
    m = Mention.model_validate(_raw())
    data = dict(m.__dict__, text_normalised="n", campaigns=["c1"], sentiment=-0.25, sentiment_label="negative",
                sentiment_probs=(0.5, 0.25, 0.25), toxicity=0.1, toxic=False, intent="question",
                purchase_intent=0.333333333333, credibility=47.5, credible=False, bot_likelihood=0.1234,
                credibility_reasons=[CredibilityReason(factor="bot_likelihood", points=-6.17, evidence="bot 0.12"),
                                     CredibilityReason(factor="media", points=15.0, evidence="1 photo")],
                slang_terms=["ㅋㅋ"], scored_at=datetime(2026, 6, 1, 12, 0, 0, 120, tzinfo=timezone.utc))
    data.update(over)
    blank = ScoredMention.model_construct(**{n: None for n, f in ScoredMention.model_fields.items() if f.is_required()})
    return blank.model_copy(update=data)


@pytest.mark.parametrize("over", [
    {}, {"scored_at": None}, {"scored_at": datetime(2026, 1, 1)},
    {"scored_at": datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=9)))},
    {"sentiment": 1e-7, "credibility": 100.0, "purchase_intent": 0.1 + 0.2},
    {"text": "\u2028 \"q\" \\ </script> 😀", "campaigns": []},
    {"sentiment": np.float32(0.5)},  # not a type orjson takes as it is: the general path (fails)
    {"sentiment": np.float64(0.5), "toxicity": True},
    {"credibility_reasons": []},
])
def test_native_dumps_is_model_dump(over):
    s = _scored(**over)

    def outcome(f):
        try:
            return f()
        except Exception as exc:  # noqa: BLE001 - the general path's failure must be the fast path's
            return type(exc)

    assert outcome(s.dumps) == outcome(lambda: orjson.dumps(s.model_dump(mode="json")))
    if "sentiment" in over and type(over["sentiment"]) is not float:
        return
    assert ScoredMention.loads(s.dumps()).dumps() == orjson.dumps(ScoredMention.loads(s.dumps()).model_dump(mode="json"))


def test_dumps_falls_back_when_fields_are_not_in_order():
    s = ScoredMention.model_construct(text="t", platform="web")  # fields set out of declared order
    assert s.dumps() == orjson.dumps(s.model_dump(mode="json"))
    a = Author.model_validate({"id": "u"})
    a.__dict__["extra"] = 1  # a stray attribute: not serialised by pydantic either
    assert a.dumps() == orjson.dumps(a.model_dump(mode="json"))


def test_copy_with_is_model_copy():
    m = Mention.model_validate(_raw())
    for model, update in [(m, {"text": "x", "lang": "ko"}), (m.author, {"id": "a", "handle": "h"}), (m, {})]:
        a, b = copy_with(model, update), model.model_copy(update=update)
        assert _state(a) == _state(b)
        assert a.__pydantic_private__ == b.__pydantic_private__
        assert a.__dict__ is not model.__dict__ and a.__pydantic_fields_set__ is not model.__pydantic_fields_set__
    assert m.text != "x"
    assert Author.model_validate({"id": "u", "created_at": date(2020, 1, 1)}).created_at == date(2020, 1, 1)


@pytest.mark.parametrize("args", [("bot_likelihood", -6.1749, "bot likelihood 0.12: x"), ("media", 15, "1 photo"),
                                  ("account_age", 10.0, ""), ("x", float("inf"), "e")])
def test_reason_without_validation_is_the_validated_reason(args):
    from scoring.credibility import _reason

    factor, points, evidence = args
    fast = _reason(factor, points, evidence)
    general = CredibilityReason(factor=factor, points=round(points, 2), evidence=evidence)
    assert _state(fast) == _state(general) and fast == general and fast.dumps() == general.dumps()
    assert hash(fast) == hash(general)  # frozen: hashable, and equal reasons hash alike
