"""Raw bytes → Mention, or a DeadLetter that says exactly why not."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import orjson
from pydantic import ValidationError

from schemas import DeadLetter, Mention
from scoring.privacy import anonymise

RAW_KEEP_BYTES = 64 * 1024


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
        return Mention.model_validate(data)
    except ValidationError as exc:
        return "invalid", describe_validation_error(exc)


def dead_letter(value: bytes | None, error_type: str, reason: str, topic: str, partition: int, offset: int,
                timestamp_ms: int | None = None) -> DeadLetter:
    """``timestamp_ms`` is the Kafka record's time, so a replayed bad record keeps its received_at."""
    raw = value or b""
    return DeadLetter(
        event_id=hashlib.blake2b(raw, digest_size=16).hexdigest(),
        reason=reason[:2000],
        error_type=error_type,
        # stored for whoever fixes the producer: personal data goes here no more than anywhere else
        raw=anonymise(raw[:RAW_KEEP_BYTES].decode("utf-8", errors="replace")),
        raw_size=len(raw),
        source_topic=topic,
        source_partition=partition,
        source_offset=offset,
        received_at=datetime.fromtimestamp(timestamp_ms / 1000, timezone.utc) if timestamp_ms else datetime.now(timezone.utc),
    )
