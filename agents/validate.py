"""Raw bytes → Mention, or a DeadLetter that says exactly why not."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from typing import Any

import orjson
from pydantic import ValidationError

from schemas import DeadLetter, Mention
from schemas.records import may_hold_controls, mention_without_controls
from scoring.privacy import Anonymiser

RAW_KEEP_BYTES = 64 * 1024
# "id"/"handle" members in a record that is no longer JSON (cut off, a stray comma): their
# values are pseudonymised all the same (a string, possibly unterminated, or a number)
_BROKEN_AUTHOR_MEMBER = re.compile(r'"(id|handle)"(\s*:\s*)("(?:[^"\\]|\\.)*"?|-?\d[\d.eE+-]*)')


def describe_validation_error(exc: ValidationError, limit: int = 5) -> str:
    parts = []
    for err in exc.errors()[:limit]:
        where = ".".join(str(p) for p in err["loc"]) or "record"
        parts.append(f"{where}: {err['msg']}")
    more = exc.error_count() - limit
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def parse_mention(value: bytes | None) -> Mention | tuple[str, str]:
    """The Mention, or (error_type, reason)."""
    if value is None:
        return "empty", "record has no value"
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        try:
            value.decode("utf-8")
        except UnicodeDecodeError as bad:
            return "invalid_utf8", f"not valid UTF-8: byte 0x{value[bad.start]:02x} at position {bad.start}"
        return "not_json", f"not valid JSON: {exc}"
    if not isinstance(data, dict):
        return "not_object", f"expected a JSON object, got {type(data).__name__}"
    try:
        if may_hold_controls(value):
            return Mention.model_validate(data)
        return mention_without_controls(data)  # the same Mention (or errors), without the stripping
    except ValidationError as exc:
        return "invalid", describe_validation_error(exc)


def position_id(topic: str, partition: int, offset: int, what: str) -> str:
    """A dead letter's id by where the record was: two bad records with the same bytes (two
    nulls, two empties) at two places are two dead letters, and a replay keeps each once."""
    return hashlib.blake2b(f"{topic}:{partition}:{offset}:{what}".encode(), digest_size=16).hexdigest()


def dead_letter(value: bytes | None, error_type: str, reason: str, topic: str, partition: int, offset: int,
                timestamp_ms: int | None = None, *, anonymiser: Anonymiser) -> DeadLetter:
    """``timestamp_ms`` is the Kafka record's time, so a replayed bad record keeps its received_at.

    The raw record is stored for whoever fixes the producer, with personal data treated as on
    the scored topic (``anonymiser``): a JSON object gets ``author.id``/``author.handle``
    pseudonymised (whatever their types) and ``text`` anonymised, and is re-serialised;
    anything else is anonymised as text, with the values of ``"id"``/``"handle"`` members
    pseudonymised where a broken JSON record still shows them."""
    raw = value or b""
    return DeadLetter(
        event_id=hashlib.blake2b(raw, digest_size=16).hexdigest(),
        reason=reason[:2000],
        error_type=error_type,
        raw=scrub_raw(raw, anonymiser),
        raw_size=len(raw),
        source_topic=topic,
        source_partition=partition,
        source_offset=offset,
        received_at=datetime.fromtimestamp(timestamp_ms / 1000, timezone.utc) if timestamp_ms else datetime.now(timezone.utc),
    )


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _pseudonym(member: str, value: Any, anonymiser: Anonymiser) -> Any:
    """The pseudonym of an ``author.id`` or ``author.handle`` of any JSON type (null and "" stay)."""
    if value is None or value == "":
        return value
    if member == "id":
        return anonymiser.author_id(_as_text(value))
    if isinstance(value, str):
        return anonymiser.handle(value)
    return "user_" + anonymiser.token("h", _as_text(value))


def _scrub_strings(value: Any, anonymiser: Anonymiser) -> Any:
    """Every string inside ``value`` (a text that came as a list or an object) anonymised."""
    if isinstance(value, str):
        return anonymiser(value)
    if isinstance(value, list):
        return [_scrub_strings(v, anonymiser) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_strings(v, anonymiser) for k, v in value.items()}
    return value


def _scrub_record(data: dict, anonymiser: Anonymiser) -> dict:
    author = data.get("author")
    handle = author.get("handle") if isinstance(author, dict) else None
    if isinstance(handle, str) and isinstance(data.get("url"), str):  # a post's URL often names its author
        data = {**data, "url": anonymiser.url(data["url"], handle)}
    if isinstance(author, dict):
        for member in ("id", "handle"):
            if member in author:
                author[member] = _pseudonym(member, author[member], anonymiser)
    elif author is not None:  # an author that is not an object is the person itself
        data["author"] = _pseudonym("id", author, anonymiser)
    # every other member may carry personal data too (a url with an e-mail, a phone in a hashtag)
    return {k: v if k == "author" else _scrub_strings(v, anonymiser) for k, v in data.items()}


def _scrub_broken_member(m: re.Match, anonymiser: Anonymiser) -> str:
    member, sep, literal = m.groups()
    try:
        value = orjson.loads(literal)
    except orjson.JSONDecodeError:  # cut off inside the string
        value = literal.strip('"')
    out = _pseudonym(member, value, anonymiser)
    return m[0] if out == value else f'"{member}"{sep}"{out}"'


def scrub_raw(raw: bytes, anonymiser: Anonymiser) -> str:
    """The raw record as stored in a dead letter: personal data out, cut to 64 KiB.

    A JSON object (or a list of them: a producer that batched records) keeps its shape with
    ``author.id``/``author.handle`` pseudonymised and ``text`` anonymised; other bytes are
    decoded with replacement characters and anonymised as text, and the values of any
    ``"id"``/``"handle"`` members still visible in them (a cut-off record) are pseudonymised."""
    try:
        data: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, dict) or (isinstance(data, list) and any(isinstance(d, dict) for d in data)):
        try:
            if isinstance(data, dict):
                data = _scrub_record(data, anonymiser)
            else:
                data = [_scrub_record(d, anonymiser) if isinstance(d, dict) else _scrub_strings(d, anonymiser)
                        for d in data]
            return orjson.dumps(data)[:RAW_KEEP_BYTES].decode("utf-8", errors="replace")
        except (RecursionError, orjson.JSONEncodeError):
            pass  # nested deeper than Python or orjson will walk: treated as text below
    text = raw[:RAW_KEEP_BYTES].decode("utf-8", errors="replace")
    if '"id"' in text or '"handle"' in text:
        text = _BROKEN_AUTHOR_MEMBER.sub(lambda m: _scrub_broken_member(m, anonymiser), text)
    return anonymiser(text)
