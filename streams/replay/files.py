"""File replay: read recorded mentions from JSONL (optionally gzip) or CSV without validating them.

* ``.jsonl``, ``.ndjson``, ``.json`` (one object per line) and the same with ``.gz``: every
  non-blank line that parses (orjson) to a JSON object is yielded as a ``dict``; any other line
  (bad JSON, a list, a number, …) is yielded as its raw ``bytes`` (line ending stripped) so the
  pipeline dead-letters it with a reason. Nothing is validated here.
* ``.csv`` / ``.csv.gz`` (UTF-8, an optional BOM, a header row): each row becomes a
  Mention-shaped dict. Flattened columns ``author_id, author_handle, author_created_at,
  author_followers, author_following, author_verified`` become ``author``; ``likes, comments,
  shares, views`` become ``engagement`` (``author.id``/``engagement.likes`` dotted headers work
  too); ``hashtags`` is split on spaces and commas (a leading ``#`` is dropped) and
  ``media_urls`` on whitespace, commas and ``|``. Whole-number cells in the numeric columns
  become ints (``1,234`` too); anything else is passed through as text for validation to judge.
  Empty cells are left out so the record defaults apply; unknown columns are kept as they are.
  A row whose cell count differs from the header is yielded as raw CSV ``bytes``.
* ``count_records(path)`` returns exactly how many items ``iter_records(path)`` yields (for a
  progress-bar total).

A missing file, a directory, or an unknown extension raises :class:`ReplayFileError`; so does a
corrupt or truncated gzip stream (after the records read before the damage were yielded).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from collections.abc import Iterator
from pathlib import Path

import orjson

__all__ = ["ReplayFileError", "iter_records", "count_records", "file_kind"]

_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
_CSV_SUFFIXES = (".csv",)

_AUTHOR_FIELDS = ("id", "handle", "created_at", "followers", "following", "verified")
_ENGAGEMENT_FIELDS = ("likes", "comments", "shares", "views")
_INT_FIELDS = frozenset(("followers", "following", "likes", "comments", "shares", "views"))
_INT_RE = re.compile(r"\d+|\d{1,3}(?:,\d{3})+")
_HASHTAG_SPLIT = re.compile(r"[\s,]+")
_MEDIA_SPLIT = re.compile(r"[\s,|]+")


class ReplayFileError(Exception):
    """The replay file cannot be read: missing, not a file, unknown format, or corrupt."""


def file_kind(path: Path) -> tuple[str, bool]:
    """(``"jsonl"`` or ``"csv"``, gzipped?) from the file name; raises ReplayFileError."""
    path = Path(path)
    name = path.name.lower()
    gz = name.endswith(".gz")
    if gz:
        name = name[:-3]
    if name.endswith(_JSONL_SUFFIXES):
        return "jsonl", gz
    if name.endswith(_CSV_SUFFIXES):
        return "csv", gz
    raise ReplayFileError(
        f"{path}: unknown replay format (expected .jsonl, .ndjson, .json or .csv, optionally .gz)"
    )


def _open_binary(path: Path, gz: bool):
    if not path.exists():
        raise ReplayFileError(f"{path}: no such file")
    if not path.is_file():
        raise ReplayFileError(f"{path}: not a regular file")
    try:
        return gzip.open(path, "rb") if gz else open(path, "rb")
    except OSError as e:  # pragma: no cover - permissions
        raise ReplayFileError(f"{path}: cannot open: {e}") from e


def _guard(path: Path, it: Iterator) -> Iterator:
    try:
        yield from it
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise ReplayFileError(f"{path}: corrupt or truncated gzip data: {e}") from e


def _jsonl(path: Path, gz: bool) -> Iterator[dict | bytes]:
    with _open_binary(path, gz) as fh:
        for line in fh:
            line = line.rstrip(b"\r\n")
            if not line.strip():
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                yield line
                continue
            yield obj if isinstance(obj, dict) else line


def _to_int(value: str):
    v = value.strip()
    if _INT_RE.fullmatch(v):
        return int(v.replace(",", ""))
    return value


def _to_bool(value: str):
    v = value.strip().lower()
    if v in ("true", "1", "yes", "y", "t"):
        return True
    if v in ("false", "0", "no", "n", "f"):
        return False
    return value


def _row_to_mention(header: list[str], row: list[str]) -> dict:
    out: dict = {}
    author: dict = {}
    engagement: dict = {}
    for key, value in zip(header, row):
        if value == "" or not key:
            continue
        k = key.strip()
        low = k.lower()
        if low.startswith(("author_", "author.")):
            sub = low[7:]
            if sub in _INT_FIELDS:
                author[sub] = _to_int(value)
            elif sub == "verified":
                author[sub] = _to_bool(value)
            else:
                author[sub] = value
        elif low in _ENGAGEMENT_FIELDS or (low.startswith("engagement.") and low[11:] in _ENGAGEMENT_FIELDS):
            engagement[low.rsplit(".", 1)[-1]] = _to_int(value)
        elif low == "hashtags":
            out["hashtags"] = [t.lstrip("#") for t in _HASHTAG_SPLIT.split(value) if t.lstrip("#")]
        elif low == "media_urls":
            out["media_urls"] = [u for u in _MEDIA_SPLIT.split(value) if u]
        else:
            out[k] = value
    if author:
        out["author"] = author
    if engagement:
        out["engagement"] = engagement
    return out


def _raw_csv(row: list[str]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(row)
    return buf.getvalue().encode()


def _csv_rows(path: Path, gz: bool) -> Iterator[list[str]]:
    with _open_binary(path, gz) as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="replace", newline="")
        yield from csv.reader(text)


def _csv(path: Path, gz: bool) -> Iterator[dict | bytes]:
    rows = _csv_rows(path, gz)
    header = next(rows, None)
    if header is None:
        return
    width = len(header)
    for row in rows:
        if not row:
            continue
        if len(row) != width:
            yield _raw_csv(row)
        else:
            yield _row_to_mention(header, row)


def iter_records(path: Path) -> Iterator[dict | bytes]:
    """Dicts for records that parse, raw bytes for those that do not (see the module docstring)."""
    path = Path(path)
    kind, gz = file_kind(path)
    _open_binary(path, gz).close()  # fail now, not at the first next()
    return _guard(path, _jsonl(path, gz) if kind == "jsonl" else _csv(path, gz))


def count_records(path: Path) -> int:
    """How many items :func:`iter_records` yields for ``path`` (reads the file once)."""
    path = Path(path)
    kind, gz = file_kind(path)
    if kind == "jsonl":
        n = 0
        with _open_binary(path, gz) as fh:
            try:
                for line in fh:
                    if line.strip():
                        n += 1
            except (gzip.BadGzipFile, EOFError, zlib.error) as e:
                raise ReplayFileError(f"{path}: corrupt or truncated gzip data: {e}") from e
        return n
    rows = _guard(path, _csv_rows(path, gz))
    if next(rows, None) is None:
        return 0
    return sum(1 for row in rows if row)
