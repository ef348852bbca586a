"""Raw bytes -> Mention or a dead letter; the dead letter's raw record holds no personal data."""

from __future__ import annotations

import re

import orjson
import pytest

from agents.validate import RAW_KEEP_BYTES, dead_letter, parse_mention
from schemas import DeadLetter, Mention
from schemas.records import event_id_for
from scoring.privacy import TOKEN_HEX, Anonymiser

A = Anonymiser(salt=b"validate-test-salt-0123456789abcdef")
HEX = "[0-9a-f]{%d}" % TOKEN_HEX


def raw(**overrides) -> dict:
    data = {"platform": "twitter", "post_id": "p1", "author": {"id": "1234567", "handle": "@Jimin_0312"},
            "text": "@jimin_0312 김민수씨 010-1234-5678 문의", "posted_at": "2026-03-01T12:00:00Z"}
    data.update(overrides)
    return data


def letter(value: bytes | None, **kw) -> DeadLetter:
    return dead_letter(value, "invalid", "because", "mentions.raw", 2, 42, 1_700_000_000_000, anonymiser=A, **kw)


def test_parse_mention_ignores_a_caller_chosen_event_id():
    first = parse_mention(orjson.dumps(raw()))
    second = parse_mention(orjson.dumps(raw(post_id="p2", event_id=first.event_id)))
    assert isinstance(first, Mention) and isinstance(second, Mention)
    assert first.event_id == event_id_for("twitter", "p1")
    assert second.event_id == event_id_for("twitter", "p2") != first.event_id


def test_parse_mention_strips_control_characters_and_names_empty_texts():
    m = parse_mention(orjson.dumps(raw(text="좋아요\u0000\u0007 ㅋㅋ")))
    assert isinstance(m, Mention) and m.text == "좋아요 ㅋㅋ"
    assert parse_mention(orjson.dumps(raw(text="\u0000\u0001\u009f"))) == (
        "invalid", "text: holds nothing but control characters")


def test_dead_letter_json_object_is_pseudonymised_and_reserialised():
    value = orjson.dumps(raw(platform="myspace", extra={"kept": True}))
    d = letter(value)
    assert d.raw_size == len(value) and d.source_offset == 42 and d.received_at.year == 2023
    stored = orjson.loads(d.raw)
    assert stored["author"]["id"] == A.author_id("1234567")
    assert stored["author"]["handle"] == A.handle("@Jimin_0312") == "user_" + A.token("h", "jimin_0312")
    assert stored["text"] == A(raw()["text"])
    assert stored["platform"] == "myspace" and stored["extra"] == {"kept": True}  # the rest as it came
    for secret in ("1234567", "jimin", "Jimin", "김민수", "010-1234"):
        assert secret not in d.raw
    # the same pseudonyms as on mentions.scored, so a fixed record can be found again
    assert re.search("@user_" + HEX, stored["text"])


def test_dead_letter_url_loses_the_authors_handle():
    d = letter(orjson.dumps(raw(platform="myspace", url="https://twitter.com/Jimin_0312/status/1")))
    assert "jimin" not in d.raw.lower()
    assert orjson.loads(d.raw)["url"] == f"https://twitter.com/{A.handle('Jimin_0312')}/status/1"


@pytest.mark.parametrize("author", [
    {"id": 1234567, "handle": 42}, {"id": ["1234567"], "handle": {"name": "jimin"}}, {"id": 12.5, "handle": True},
    {"id": "1234567"}, {"handle": "jimin"},
])
def test_dead_letter_author_members_of_any_type(author):
    d = letter(orjson.dumps(raw(author=author)))
    stored = orjson.loads(d.raw)["author"]
    assert set(stored) == set(author)
    if "id" in author:
        assert re.fullmatch("author_" + HEX, stored["id"])
    if "handle" in author:
        assert re.fullmatch("user_" + HEX, stored["handle"])
    assert "1234567" not in d.raw and "jimin" not in d.raw


def test_dead_letter_odd_shapes():
    stored = orjson.loads(letter(orjson.dumps(raw(author="jimin_0312", text=["@jimin_0312", {"a": "김민수씨"}, 3]))).raw)
    assert re.fullmatch("author_" + HEX, stored["author"])
    assert stored["text"][0].startswith("@user_") and stored["text"][1]["a"].startswith("name_") and stored["text"][2] == 3
    kept = orjson.loads(letter(orjson.dumps(raw(author=None, text=None))).raw)
    assert kept["author"] is None and kept["text"] is None
    # a producer that batched its records: every object in the list is scrubbed
    batched = letter(orjson.dumps([raw(), raw(post_id="p2"), "x"]))
    assert "1234567" not in batched.raw and "jimin" not in batched.raw.lower()


@pytest.mark.parametrize("value", [
    orjson.dumps(raw())[:-20],  # cut off
    orjson.dumps(raw())[:70],  # cut inside the handle's string
    b'{"author": {"id": 1234567 , "handle": "jimin_0312"}, oops}',
    b"\xff\xfe" + orjson.dumps(raw()),  # not UTF-8
])
def test_dead_letter_broken_json_still_hides_the_author(value):
    d = letter(value)
    assert "1234567" not in d.raw and "jimin" not in d.raw.lower() and "010-1234" not in d.raw, d.raw
    assert re.search('"id": ?"author_' + HEX, d.raw)


def test_dead_letter_plain_text_and_empty():
    d = letter(b"@jimin_0312 call 010-1234-5678")
    assert d.raw.startswith("@user_") and "[phone]" in d.raw
    assert letter(None).raw == "" and letter(None).raw_size == 0
    assert letter(b"\x00\x01").raw == "\x00\x01"  # stored as received (the column is a String)


def test_dead_letter_hostile_sizes_and_depths():
    nested = b'{"a":' + b"[" * 300 + b"]" * 300 + b',"author":{"id":"1234567"},"text":"@jimin_0312"}'
    d = letter(nested)  # parses, but orjson will not write it back this deep: kept as scrubbed text
    assert "1234567" not in d.raw and "jimin" not in d.raw
    deep_text = b'{"author":{"id":"1234567"},"text":' + b"[" * 1000 + b'"@jimin_0312"' + b"]" * 1000 + b"}"
    d = letter(deep_text)
    assert "1234567" not in d.raw and "jimin" not in d.raw
    big = orjson.dumps(raw(text="@jimin_0312 " + "가" * 200_000))
    d = letter(big)
    assert d.raw_size == len(big) and len(d.raw.encode()) <= RAW_KEEP_BYTES + 3
    assert "1234567" not in d.raw and "jimin" not in d.raw
    assert letter(b"[" * 5000).raw == "[" * 5000


def test_dead_letter_needs_the_anonymiser():
    with pytest.raises(TypeError):
        dead_letter(b"x", "invalid", "r", "t", 0, 0)  # type: ignore[call-arg]
