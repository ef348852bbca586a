"""ClickHouse storage for TrueVoice: embedded chdb or a ClickHouse server, one code path.

``ClickHouseStore("chdb:///abs/path")`` runs the ClickHouse engine in this process (chdb through
clickhouse-connect); ``ClickHouseStore("http://user:pass@host:8123")`` talks to a server. Only the
URL differs.

* ``migrate()`` applies ``clickhouse/*.sql`` (repo root) in file-name order, once each, and records
  them in ``<db>.schema_migrations``. ``{{db}}`` in the files is replaced by the database name.
* ``insert_*`` write records column-oriented in batches (one INSERT per ``batch_size`` rows).
* ``query()`` runs user SQL, read-only by default, and returns ``QueryResult``; ClickHouse errors
  become ``QueryError`` (message = ClickHouse's), rejected writes ``ReadOnlyQueryError``.
* every blocking method has an ``a``-prefixed coroutine twin (``await store.ainsert_mentions(rows)``)
  that runs it on one dedicated worker thread, so the event loop never stalls and calls stay in
  order. ``AsyncClickHouseStore`` offers the same coroutines under the plain names.

chdb allows one engine (data path) per process and a second process on the same path fails to
open it; inside one process it is thread-safe.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import hashlib
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from operator import itemgetter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence, TypeVar
from urllib.parse import parse_qs, unquote, urlparse

import clickhouse_connect
from clickhouse_connect.driver.exceptions import ClickHouseError, OperationalError

from schemas.records import Alert, Campaign, DeadLetter, Prediction, ScoredMention, WindowDelta
from streams.paths import project_home

log = logging.getLogger(__name__)

MIGRATIONS_DIR = project_home() / "clickhouse"
DEFAULT_DATABASE = "truevoice"
ALL_CAMPAIGNS = "*"  # pseudo-campaign every mention counts under (brand-wide velocity)

_T = TypeVar("_T")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_DB_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CODE_RE = re.compile(r"Code:\s*(\d+)")
_READ_KEYWORDS = frozenset({"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "EXISTS"})


# --------------------------------------------------------------------------- errors and results


class QueryError(Exception):
    """A query ClickHouse refused (syntax, unknown table, type error …). ``str()`` is ClickHouse's message."""

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code


class ReadOnlyQueryError(QueryError):
    """A read-only query that is not one single SELECT/WITH/SHOW/DESCRIBE/EXPLAIN/EXISTS statement."""


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple]
    types: list[str] = field(default_factory=list)

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row)) for row in self.rows]

    def __len__(self) -> int:
        return len(self.rows)


class ClickHouseUnavailableError(ConnectionError):
    """ClickHouse could not be reached (server down, network); retry later (an HTTP layer: 503)."""


def _query_error(exc: Exception) -> Exception:
    """QueryError for errors ClickHouse reported; ClickHouseUnavailableError when it was not reached."""
    message = str(exc).strip()
    idx = message.find("Code: ")
    if idx > 0:
        message = message[idx:]
    m = _CODE_RE.search(message)
    if m is None and isinstance(exc, OperationalError):
        return ClickHouseUnavailableError(message)
    return QueryError(message, int(m.group(1)) if m else getattr(exc, "code", None))


# --------------------------------------------------------------------------- SQL splitting


def _quote_close(sql: str, i: int) -> int:
    """Index of the quote closing the one at ``i`` (\\-escapes and doubled quotes skipped), or len(sql)."""
    quote, j, n = sql[i], i + 1, len(sql)
    while j < n:
        c = sql[j]
        if c == "\\":
            j += 2
            continue
        if c == quote:
            if j + 1 < n and sql[j + 1] == quote:  # doubled quote
                j += 2
                continue
            return j
        j += 1
    return n


def split_statements(sql: str) -> list[str]:
    """Split a script on top-level ``;``, ignoring ``;`` inside quotes and comments.

    Handles '…' strings (with \\' and '' escapes), "…" and `…` identifiers, ``--`` line comments
    and ``/* … */`` block comments. Comments are kept inside the statement they belong to;
    statements that hold nothing but comments and whitespace are dropped.
    """
    out: list[str] = []
    buf: list[str] = []
    has_code = False
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        nxt = sql[i + 1] if i + 1 < n else ""
        if ch == "-" and nxt == "-":
            j = sql.find("\n", i)
            j = n if j < 0 else j
            buf.append(sql[i:j])
            i = j
            continue
        if ch == "/" and nxt == "*":
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            buf.append(sql[i:j])
            i = j
            continue
        if ch in ("'", '"', "`"):
            j = min(_quote_close(sql, i) + 1, n)
            buf.append(sql[i:j])
            has_code = True
            i = j
            continue
        if ch == ";":
            if has_code:
                out.append("".join(buf).strip())
            buf, has_code = [], False
            i += 1
            continue
        if not ch.isspace():
            has_code = True
        buf.append(ch)
        i += 1
    if has_code:
        out.append("".join(buf).strip())
    return out


# Functions (table or scalar) that reach outside the database: local files, URLs, other servers,
# processes, the caller's Python objects (chdb). ClickHouse's readonly setting does not stop them,
# and in embedded chdb there are no grants, so read-only user SQL may not call them.
_DENIED_FUNCTIONS = frozenset(name.lower() for name in (
    "file", "fileCluster", "url", "urlCluster", "s3", "s3Cluster", "gcs", "oss", "cosn", "hdfs", "hdfsCluster",
    "azureBlobStorage", "azureBlobStorageCluster", "remote", "remoteSecure", "cluster", "clusterAllReplicas",
    "mysql", "postgresql", "sqlite", "mongodb", "redis", "jdbc", "odbc", "executable", "executablePool",
    "input", "python", "arrowStream", "iceberg", "icebergS3", "icebergAzure", "icebergHDFS", "icebergLocal",
    "icebergS3Cluster", "icebergAzureCluster", "deltaLake", "deltaLakeS3", "deltaLakeAzure", "deltaLakeLocal",
    "deltaLakeCluster", "hudi", "hudiCluster", "paimon", "paimonS3", "paimonAzure", "paimonHDFS", "paimonLocal",
    "ytsaurus", "loop", "fuzzJSON", "fuzzQuery",
    "filesystem", "prometheusQuery", "prometheusQueryRange", "timeSeriesData", "timeSeriesMetrics",
    "timeSeriesTags", "timeSeriesSelector", "mergeTreeIndex", "mergeTreeAnalyzeIndexes", "mergeTreeProjection",
    "mergeTreeParts", "arrowFlight", "arrowflight", "kafka", "nats", "rabbitmq", "sleep", "sleepEachRow",
))


def _tokens(sql: str) -> list[tuple[str, str]]:
    """(kind, text) tokens: 'word' (bare or quoted identifier, quotes removed), 'str', 'punct'.

    Comments and whitespace are dropped.
    """
    out: list[tuple[str, str]] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        nxt = sql[i + 1] if i + 1 < n else ""
        if ch.isspace():
            i += 1
        elif ch == "-" and nxt == "-":
            j = sql.find("\n", i)
            i = n if j < 0 else j
        elif ch == "/" and nxt == "*":
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif ch in ("'", '"', "`"):
            j = _quote_close(sql, i)
            out.append(("str" if ch == "'" else "word", sql[i + 1:j]))
            i = j + 1
        elif ch.isalnum() or ch == "_" or ch == "$" or ord(ch) > 127:
            j = i
            while j < n and (sql[j].isalnum() or sql[j] in "_$" or ord(sql[j]) > 127):
                j += 1
            out.append(("word", sql[i:j]))
            i = j
        else:
            out.append(("punct", ch))
            i += 1
    return out


def check_read_only(sql: str) -> str:
    """Return the single statement in ``sql`` (trailing ``;`` removed) or raise ReadOnlyQueryError.

    Accepted: one SELECT/WITH/SHOW/DESCRIBE/EXPLAIN/EXISTS statement that neither calls a function
    reaching outside the database (file, url, s3, remote, executable, …) nor has INTO OUTFILE.
    """
    statements = split_statements(sql)
    if not statements:
        raise ReadOnlyQueryError("empty query")
    if len(statements) > 1:
        raise ReadOnlyQueryError(f"read-only queries take exactly one statement, got {len(statements)}")
    statement = statements[0]
    tokens = _tokens(statement)
    first = next((text for kind, text in tokens if not (kind == "punct" and text == "(")), "")
    keyword = first.upper()
    if keyword not in _READ_KEYWORDS:
        raise ReadOnlyQueryError(
            f"read-only: only SELECT, WITH, SHOW, DESCRIBE, EXPLAIN or EXISTS statements are allowed, got {keyword or '?'}"
        )
    for k, (kind, text) in enumerate(tokens):
        if kind != "word":
            continue
        following = tokens[k + 1] if k + 1 < len(tokens) else ("", "")
        if text.lower() in _DENIED_FUNCTIONS and following == ("punct", "("):
            raise ReadOnlyQueryError(f"read-only: function {text}() is not allowed in user queries")
        if text.upper() == "INTO" and following[0] == "word" and following[1].upper() == "OUTFILE":
            raise ReadOnlyQueryError("read-only: INTO OUTFILE is not allowed")
    return statement


# --------------------------------------------------------------------------- value conversion


def _ms(value: datetime | None) -> int | None:
    """Epoch milliseconds (exact integer arithmetic); naive datetimes are taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return (value - _EPOCH) // timedelta(milliseconds=1)


def _us(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return (value - _EPOCH) // timedelta(microseconds=1)


def _aware(value: Any) -> Any:
    """Datetimes read back from ClickHouse as UTC-aware (chdb may drop the zone)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    return value


def _now_us() -> int:
    return _us(datetime.now(timezone.utc))


MENTION_COLUMNS: tuple[str, ...] = (
    "event_id", "platform", "post_id", "url",
    "author_id", "author_handle", "author_created_at", "author_followers", "author_following", "author_verified",
    "text", "text_normalised", "lang", "media_urls", "hashtags",
    "likes", "comments", "shares", "views",
    "posted_at", "collected_at", "brand", "campaigns",
    "sentiment", "sentiment_label", "sentiment_negative", "sentiment_neutral", "sentiment_positive",
    "toxicity", "toxic", "intent", "purchase_intent", "meme_template", "meme_score",
    "credibility", "credible", "slang_terms", "scored_at", "ingested_at",
)


_MENTION_FIELDS = (
    "event_id", "platform", "post_id", "url", "text", "text_normalised", "lang", "media_urls", "hashtags",
    "posted_at", "collected_at", "brand", "campaigns", "sentiment", "sentiment_label", "sentiment_probs",
    "toxicity", "toxic", "intent", "purchase_intent", "meme_template", "meme_score", "credibility", "credible",
    "slang_terms", "scored_at", "author", "engagement",
)
_get_mention = itemgetter(*_MENTION_FIELDS)
_get_author = itemgetter("id", "handle", "created_at", "followers", "following", "verified")
_get_engagement = itemgetter("likes", "comments", "shares", "views")


def mention_columns(rows: Sequence[ScoredMention], ingested_at_us: int | None = None) -> list[list]:
    """Column-oriented data for ``mentions`` in MENTION_COLUMNS order, from models."""
    return mention_columns_from_json([m.model_dump(mode="json") for m in rows], ingested_at_us)


def _iso_ms(value: str | None) -> int | None:
    if value is None:
        return None
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp()) * 1000 + dt.microsecond // 1000


def mention_columns_from_json(rows: Sequence[Mapping[str, Any]], ingested_at_us: int | None = None) -> list[list]:
    """Column-oriented data for ``mentions`` from decoded ``ScoredMention.dumps()`` JSON.

    This is the sink's path: records on mentions.scored were written by the score agent from
    validated models, so they are not validated again. One pass over the records (each record's
    fields are read together while they are in cache), then a C-level transpose: about 3x faster
    than one list comprehension per column.
    """
    gc_was_enabled = gc.isenabled()
    gc.disable()  # building ~40 columns of 100k items would trigger many full collections
    try:
        (event_id, platform, post_id, url, text, text_norm, lang, media_urls, hashtags, posted_at, collected_at,
         brand, campaigns, sentiment, sentiment_label, probs, toxicity, toxic, intent, purchase_intent,
         meme_template, meme_score, credibility, credible, slang_terms, scored_at, authors, engagement,
         ) = zip(*[_get_mention(m) for m in rows])
        a_id, a_handle, a_created, a_followers, a_following, a_verified = zip(*[_get_author(a) for a in authors])
        likes, comments, shares, views = zip(*[_get_engagement(e) for e in engagement])
        neg, neu, pos = zip(*probs)
        created = [None if d is None else date.fromisoformat(d) for d in a_created]
        posted = [_iso_ms(v) for v in posted_at]
        collected = [p if v is None else _iso_ms(v) for v, p in zip(collected_at, posted)]
        scored = [_iso_ms(v) for v in scored_at]
        ingested = _now_us() if ingested_at_us is None else ingested_at_us
        return [
            event_id, platform, post_id, url,
            a_id, a_handle, created, a_followers, a_following, a_verified,
            text, text_norm, lang, media_urls, hashtags,
            likes, comments, shares, views,
            posted, collected, brand, campaigns,
            sentiment, sentiment_label, neg, neu, pos,
            toxicity, toxic, intent, purchase_intent, meme_template, meme_score,
            credibility, credible, slang_terms, scored, [ingested] * len(rows),
        ]
    finally:
        if gc_was_enabled:
            gc.enable()


DEADLETTER_COLUMNS = (
    "event_id", "reason", "error_type", "raw", "raw_size", "source_topic", "source_partition",
    "source_offset", "received_at", "ingested_at",
)
ALERT_COLUMNS = (
    "alert_id", "campaign_id", "platform", "kind", "minute", "count", "baseline_mean", "baseline_std",
    "zscore", "sentiment_mean", "negative_share", "raised_at", "message", "ingested_at",
)
CAMPAIGN_COLUMNS = (
    "campaign_id", "brand", "name", "keywords", "query", "exclude", "platforms", "starts_at", "ends_at",
    "active", "spike_threshold", "min_mentions", "updated_at",
)
PREDICTION_COLUMNS = (
    "prediction_id", "campaign_id", "made_at", "horizon_hours", "purchase_intent", "brand_sentiment",
    "viral_potential", "confidence", "risks", "opportunities", "mentions_used", "updated_at",
)
MEME_COLUMNS = (
    "event_id", "posted_at", "platform", "image_url", "template", "score", "caption", "ocr_text",
    "labels", "model", "analysed_at",
)


# --------------------------------------------------------------------------- the store


def http_client_kwargs(url: str) -> dict[str, Any]:
    """clickhouse_connect.get_client keyword arguments for an http(s)://user:pass@host:port URL."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https"):
        raise ValueError(f"unsupported ClickHouse URL {url!r}: use chdb:///abs/path or http(s)://user:pass@host:8123")
    query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
    secure = parsed.scheme == "https"
    return {
        "host": parsed.hostname or "localhost",
        "port": parsed.port or (8443 if secure else 8123),
        "username": unquote(parsed.username) if parsed.username else query.get("user", "default"),
        "password": unquote(parsed.password) if parsed.password else query.get("password", ""),
        "secure": secure,
        # one session per client would make concurrent calls fail with "session is locked"
        "autogenerate_session_id": False,
        "compress": query.get("compress", "lz4"),
    }


def _redact(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url


def _connect(url: str, database: str | None, settings: Mapping[str, Any] | None = None):
    settings = dict(settings or {})
    if url.startswith("chdb:"):
        return clickhouse_connect.get_client(dsn=url, database=database, settings=settings)
    return clickhouse_connect.get_client(database=database, settings=settings, **http_client_kwargs(url))


class ClickHouseStore:
    """Everything TrueVoice stores in ClickHouse. See the module docstring."""

    def __init__(self, url: str, database: str = DEFAULT_DATABASE, *, batch_size: int = 50_000,
                 query_settings: Mapping[str, Any] | None = None, readonly_url: str | None = None):
        """``url``: ``chdb:///abs/path`` or ``http(s)://user:pass@host:8123``.

        ``readonly_url``: for a server, the URL of a ClickHouse user that may only SELECT (the
        safest home for analyst SQL); default: the same user with ``readonly=2`` per query.
        ``query_settings``: settings for read-only user queries, e.g. ``{"max_execution_time": 30}``.
        """
        if not _DB_NAME_RE.match(database):
            raise ValueError(f"invalid database name {database!r}")
        self.url = url
        self.readonly_url = readonly_url or url
        self.database = database
        self.batch_size = batch_size
        self.embedded = url.startswith("chdb:")
        #: settings applied to read-only user queries (e.g. max_execution_time, max_result_rows)
        self.query_settings = dict(query_settings or {})
        try:
            self._client = _connect(url, None)
        except OperationalError as exc:
            raise ClickHouseUnavailableError(f"cannot reach ClickHouse at {_redact(url)}: {exc}") from exc
        except ClickHouseError as exc:
            if not self.embedded:
                raise
            raise ClickHouseUnavailableError(
                f"cannot open chdb at {url}: {exc} (chdb allows one process per data path: is another "
                f"TrueVoice process running on it?)") from exc
        self._client.command(f"CREATE DATABASE IF NOT EXISTS {database}")
        self._client.database = database
        self._ro_client = None
        self._ro_lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()
        self._closed = False

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        for client in (self._ro_client, self._client):
            if client is not None:
                try:
                    client.close()
                except Exception:  # pragma: no cover - best effort
                    log.debug("closing ClickHouse client failed", exc_info=True)

    def __enter__(self) -> "ClickHouseStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def client(self):
        """The underlying clickhouse-connect client (read-write)."""
        return self._client

    def _readonly_client(self):
        # A second handle whose every statement runs with readonly=2: reads and SETTINGS clauses
        # only, no writes, no DDL, and readonly itself cannot be lowered.
        with self._ro_lock:
            if self._ro_client is None:
                settings = {"readonly": 2, **self.query_settings}
                self._ro_client = _connect(self.readonly_url, self.database, settings)
            return self._ro_client

    # ------------------------------------------------------------------ migrations

    def migrate(self, directory: Path | str | None = None) -> list[str]:
        """Apply the not yet applied ``*.sql`` files in name order; return the names applied now."""
        directory = Path(directory) if directory is not None else MIGRATIONS_DIR
        db = self.database
        self._command(f"CREATE DATABASE IF NOT EXISTS {db}")
        self._command(
            f"CREATE TABLE IF NOT EXISTS {db}.schema_migrations (name String, checksum String, "
            f"applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = ReplacingMergeTree(applied_at) ORDER BY name"
        )
        applied = {name: checksum for name, checksum in
                   self._select(f"SELECT name, argMax(checksum, applied_at) FROM {db}.schema_migrations GROUP BY name").rows}
        done: list[str] = []
        for path in sorted(directory.glob("*.sql")):
            text = path.read_text(encoding="utf-8")
            checksum = hashlib.sha256(text.encode()).hexdigest()
            if path.name in applied:
                if applied[path.name] != checksum:
                    log.warning("migration %s changed after it was applied; not re-applied", path.name)
                continue
            for statement in split_statements(text.replace("{{db}}", db)):
                self._command(statement)
            self._insert(f"{db}.schema_migrations", [[path.name], [checksum]], ("name", "checksum"))
            done.append(path.name)
            log.info("applied ClickHouse migration %s", path.name)
        return done

    def applied_migrations(self) -> list[str]:
        return [r[0] for r in self._select(
            f"SELECT DISTINCT name FROM {self.database}.schema_migrations ORDER BY name").rows]

    # ------------------------------------------------------------------ low level

    def _command(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        try:
            return self._client.command(sql, parameters=dict(params) if params else None)
        except ClickHouseError as exc:
            raise _query_error(exc) from exc

    def _select(self, sql: str, params: Mapping[str, Any] | None = None, client=None) -> QueryResult:
        client = client or self._client
        try:
            res = client.query(sql, parameters=dict(params) if params else None)
        except ClickHouseError as exc:
            raise _query_error(exc) from exc
        types = [t.name for t in res.column_types]
        rows = res.result_rows
        # chdb returns DateTime64('UTC') values naive (UTC wall time) and DateTime('UTC') values in
        # the host's zone; make every top-level datetime UTC-aware so callers see one convention.
        dt_cols = [i for i, name in enumerate(types) if name.startswith(("DateTime", "Nullable(DateTime"))]
        if dt_cols and rows:
            fixed = []
            for row in rows:
                row = list(row)
                for i in dt_cols:
                    row[i] = _aware(row[i])
                fixed.append(tuple(row))
            rows = fixed
        return QueryResult(list(res.column_names), list(rows), types)

    def _insert(self, table: str, columns: list[list], names: Sequence[str]) -> int:
        if not columns or not columns[0]:
            return 0
        try:
            self._client.insert(table, columns, column_names=list(names), column_oriented=True)
        except ClickHouseError as exc:
            raise _query_error(exc) from exc
        return len(columns[0])

    def _batched(self, rows: Sequence[_T]) -> Iterable[Sequence[_T]]:
        size = max(1, self.batch_size)
        for start in range(0, len(rows), size):
            yield rows[start:start + size]

    # ------------------------------------------------------------------ writes

    def insert_mentions(self, rows: Sequence[ScoredMention]) -> int:
        """Insert scored mentions; replays are harmless (ReplacingMergeTree by event id).

        One column-oriented INSERT per ``batch_size`` rows, in order. Returns once every row is
        acknowledged; raises QueryError on the first failed batch (earlier batches stay stored:
        retrying the whole call is safe, duplicates collapse).
        """
        table = f"{self.database}.mentions"
        return sum(self._insert(table, mention_columns(b), MENTION_COLUMNS) for b in self._batched(rows))

    def insert_mention_json(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Insert decoded ScoredMention JSON objects (see ``mention_columns_from_json``)."""
        total = 0
        table = f"{self.database}.mentions"
        for batch in self._batched(rows):
            total += self._insert(table, mention_columns_from_json(batch), MENTION_COLUMNS)
        return total

    def insert_deadletters(self, rows: Sequence[DeadLetter]) -> int:
        total = 0
        for b in self._batched(rows):
            now = _now_us()
            cols = [
                [r.event_id for r in b], [r.reason for r in b], [r.error_type for r in b], [r.raw for r in b],
                [r.raw_size for r in b], [r.source_topic for r in b], [r.source_partition for r in b],
                [r.source_offset for r in b], [_ms(r.received_at) for r in b], [now] * len(b),
            ]
            total += self._insert(f"{self.database}.deadletter", cols, DEADLETTER_COLUMNS)
        return total

    def insert_alerts(self, rows: Sequence[Alert]) -> int:
        total = 0
        for b in self._batched(rows):
            now = _now_us()
            cols = [
                [r.alert_id for r in b], [r.campaign_id for r in b], [r.platform for r in b], [r.kind for r in b],
                [_ms(r.minute) for r in b], [r.count for r in b], [r.baseline_mean for r in b],
                [r.baseline_std for r in b], [r.zscore for r in b], [r.sentiment_mean for r in b],
                [r.negative_share for r in b], [_ms(r.raised_at) for r in b], [r.message for r in b], [now] * len(b),
            ]
            total += self._insert(f"{self.database}.alerts", cols, ALERT_COLUMNS)
        return total

    def upsert_campaigns(self, rows: Sequence[Campaign], updated_at: datetime | None = None) -> int:
        """Insert new versions of campaigns; the newest ``updated_at`` (default: now) wins."""
        if not rows:
            return 0
        version = _us(updated_at) if updated_at is not None else _now_us()
        b = rows
        cols = [
            [r.campaign_id for r in b], [r.brand for r in b], [r.name for r in b], [r.keywords for r in b],
            [r.query for r in b], [r.exclude for r in b], [r.platforms for r in b], [_ms(r.starts_at) for r in b],
            [_ms(r.ends_at) for r in b], [r.active for r in b], [r.spike_threshold for r in b],
            [r.min_mentions for r in b], [version] * len(b),
        ]
        return self._insert(f"{self.database}.campaigns", cols, CAMPAIGN_COLUMNS)

    def insert_predictions(self, rows: Sequence[Prediction]) -> int:
        total = 0
        for b in self._batched(rows):
            now = _now_us()
            cols = [
                [r.prediction_id for r in b], [r.campaign_id for r in b], [_ms(r.made_at) for r in b],
                [r.horizon_hours for r in b], [r.purchase_intent for r in b], [r.brand_sentiment for r in b],
                [r.viral_potential for r in b], [r.confidence for r in b], [r.risks for r in b],
                [r.opportunities for r in b], [r.mentions_used for r in b], [now] * len(b),
            ]
            total += self._insert(f"{self.database}.predictions", cols, PREDICTION_COLUMNS)
        return total

    def record_outcome(self, prediction_id: str, *, purchase_intent: float | None = None,
                       brand_sentiment: float | None = None, viral_potential: float | None = None,
                       observed_at: datetime | None = None, source: str = "") -> bool:
        """Post the actual outcome of a prediction back; False when the prediction is unknown.

        Re-inserts the latest version of the row with the actual_* columns set and a newer
        updated_at (ReplacingMergeTree keeps it). Values left None keep what was stored.
        """
        db = self.database
        found = self._select(
            f"SELECT count() FROM {db}.predictions FINAL WHERE prediction_id = {{pid:String}}", {"pid": prediction_id}
        ).rows[0][0]
        if not found:
            return False
        observed = observed_at or datetime.now(timezone.utc)
        params = {
            "pid": prediction_id,
            "pi": purchase_intent, "bs": brand_sentiment, "vp": viral_potential,
            "obs": _ms(observed) / 1000.0, "src": source,
        }
        self._command(
            f"""INSERT INTO {db}.predictions
            SELECT prediction_id, campaign_id, made_at, horizon_hours, purchase_intent, brand_sentiment,
                   viral_potential, confidence, risks, opportunities, mentions_used,
                   coalesce({{pi:Nullable(Float64)}}, actual_purchase_intent),
                   coalesce({{bs:Nullable(Float64)}}, actual_brand_sentiment),
                   coalesce({{vp:Nullable(Float64)}}, actual_viral_potential),
                   toDateTime64({{obs:Float64}}, 3, 'UTC'),
                   {{src:String}},
                   greatest(now64(6), updated_at + toIntervalMicrosecond(1))
            FROM {db}.predictions FINAL WHERE prediction_id = {{pid:String}}""",
            params,
        )
        return True

    def insert_meme_analysis(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Insert meme/image analysis rows (dicts with MEME_COLUMNS keys; missing keys get defaults)."""
        if not rows:
            return 0
        now = _now_us()
        defaults: dict[str, Any] = {"platform": "other", "image_url": "", "template": "", "score": 0.0,
                                    "caption": "", "ocr_text": "", "labels": [], "model": ""}
        cols: list[list] = []
        for name in MEME_COLUMNS:
            if name == "posted_at":
                cols.append([_ms(r["posted_at"]) for r in rows])
            elif name == "analysed_at":
                cols.append([_us(r["analysed_at"]) if r.get("analysed_at") else now for r in rows])
            elif name == "event_id":
                cols.append([r["event_id"] for r in rows])
            else:
                cols.append([r.get(name, defaults[name]) for r in rows])
        return self._insert(f"{self.database}.meme_analysis", cols, MEME_COLUMNS)

    # ------------------------------------------------------------------ reads

    def query(self, sql: str, params: Mapping[str, Any] | None = None, *, read_only: bool = True) -> QueryResult:
        """Run one statement and return its result.

        Parameters bind as ClickHouse ``{name:Type}`` placeholders (or client-side ``%(name)s``).
        With ``read_only`` (the default) the SQL must be a single SELECT/WITH/SHOW/DESCRIBE/
        EXPLAIN/EXISTS statement (else ReadOnlyQueryError) and it runs on a handle with
        ``readonly=2``, so ClickHouse itself refuses writes too. Errors raise QueryError.
        """
        if read_only:
            statement = check_read_only(sql)
            try:
                return self._select(statement, params, client=self._readonly_client())
            except QueryError as exc:
                if exc.code == 164:  # READONLY
                    raise ReadOnlyQueryError(exc.message, exc.code) from exc
                raise
        statements = split_statements(sql)
        if len(statements) != 1:
            raise QueryError(f"expected exactly one statement, got {len(statements)}")
        return self._select(statements[0], params)

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns no result (DDL, INSERT … SELECT, OPTIMIZE); trusted SQL only."""
        self._command(sql, params)

    def count_mentions(self, since: datetime | None = None, until: datetime | None = None) -> int:
        """Exact number of distinct mentions (by event id), optionally in [since, until)."""
        where, params = self._time_filter("posted_at", since, until)
        return int(self._select(f"SELECT uniqExact(event_id) FROM {self.database}.mentions{where}", params).rows[0][0])

    def count_deadletters(self) -> int:
        return int(self._select(f"SELECT uniqExact(event_id) FROM {self.database}.deadletter").rows[0][0])

    @staticmethod
    def _time_filter(column: str, since: datetime | None, until: datetime | None) -> tuple[str, dict]:
        conds, params = [], {}
        if since is not None:
            conds.append(f"{column} >= fromUnixTimestamp64Milli({{since:Int64}}, 'UTC')")
            params["since"] = _ms(since)
        if until is not None:
            conds.append(f"{column} < fromUnixTimestamp64Milli({{until:Int64}}, 'UTC')")
            params["until"] = _ms(until)
        return (" WHERE " + " AND ".join(conds)) if conds else "", params

    def window_rows(self, since: datetime, until: datetime | None = None, *, rebuild: bool = True) -> list[WindowDelta]:
        """Per (campaign_id, platform, minute) sums rebuilt exactly from ``mentions FINAL``.

        The deltas carry ``rebuild=True`` (re-seeded windows never raise alerts) unless told otherwise.

        ``since`` is floored to its minute, so every minute returned is complete (up to ``until``,
        exclusive, when given). Every mention counts under each of its campaigns and under
        ALL_CAMPAIGNS ("*"). Ordered by minute, campaign_id, platform.
        """
        since_ms = _ms(since)
        since_ms -= since_ms % 60_000
        params: dict[str, Any] = {"since": since_ms}
        cond = "posted_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')"
        if until is not None:
            params["until"] = _ms(until)
            cond += " AND posted_at < fromUnixTimestamp64Milli({until:Int64}, 'UTC')"
        res = self._select(
            f"""
            SELECT campaign_id, platform,
                   toUInt32(toUnixTimestamp(toStartOfMinute(toDateTime(posted_at, 'UTC')))) AS minute,
                   count() AS count,
                   sum(toFloat64(sentiment)) AS sentiment_sum,
                   countIf(sentiment_label = 'negative') AS negative,
                   countIf(sentiment_label = 'positive') AS positive,
                   countIf(credible) AS credible,
                   countIf(toxic) AS toxic,
                   sum(toFloat64(purchase_intent)) AS purchase_intent_sum
            FROM {self.database}.mentions FINAL
            ARRAY JOIN arrayDistinct(arrayConcat(['{ALL_CAMPAIGNS}'], CAST(campaigns, 'Array(String)'))) AS campaign_id
            WHERE {cond}
            GROUP BY campaign_id, platform, minute
            ORDER BY minute, campaign_id, platform
            """,
            params,
        )
        return [
            WindowDelta(campaign_id=c, platform=p, minute=int(m), count=int(n), sentiment_sum=float(s),
                        negative=int(neg), positive=int(pos), credible=int(cred), toxic=int(tox),
                        purchase_intent_sum=float(pi), rebuild=rebuild)
            for c, p, m, n, s, neg, pos, cred, tox, pi in res.rows
        ]

    def campaigns(self, *, active_only: bool = False) -> list[Campaign]:
        """The latest version of every campaign."""
        where = " WHERE active" if active_only else ""
        res = self._select(
            f"SELECT campaign_id, brand, name, keywords, query, exclude, platforms, starts_at, ends_at, active, "
            f"spike_threshold, min_mentions FROM {self.database}.campaigns FINAL{where} ORDER BY campaign_id"
        )
        out = []
        for row in res.rows:
            d = dict(zip(res.columns, row))
            d["starts_at"] = _aware(d["starts_at"])
            d["ends_at"] = _aware(d["ends_at"])
            out.append(Campaign.model_validate(d))
        return out

    def predictions(self, campaign_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Latest predictions (newest first) with their outcome columns, as dicts."""
        where = " WHERE campaign_id = {cid:String}" if campaign_id else ""
        res = self._select(
            f"SELECT * EXCEPT updated_at FROM {self.database}.predictions FINAL{where} "
            f"ORDER BY made_at DESC LIMIT {int(limit)}",
            {"cid": campaign_id} if campaign_id else None,
        )
        return [{k: _aware(v) for k, v in d.items()} for d in res.dicts()]

    def ping(self) -> bool:
        try:
            return self._client.ping()
        except Exception:
            return False

    # ------------------------------------------------------------------ async twins

    def _pool(self) -> ThreadPoolExecutor:
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clickhouse")
            return self._executor

    async def _in_thread(self, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool(), functools.partial(fn, *args, **kwargs))

    async def amigrate(self, directory: Path | str | None = None) -> list[str]:
        return await self._in_thread(self.migrate, directory)

    async def ainsert_mentions(self, rows: Sequence[ScoredMention]) -> int:
        return await self._in_thread(self.insert_mentions, rows)

    async def ainsert_deadletters(self, rows: Sequence[DeadLetter]) -> int:
        return await self._in_thread(self.insert_deadletters, rows)

    async def ainsert_alerts(self, rows: Sequence[Alert]) -> int:
        return await self._in_thread(self.insert_alerts, rows)

    async def aupsert_campaigns(self, rows: Sequence[Campaign], updated_at: datetime | None = None) -> int:
        return await self._in_thread(self.upsert_campaigns, rows, updated_at)

    async def ainsert_predictions(self, rows: Sequence[Prediction]) -> int:
        return await self._in_thread(self.insert_predictions, rows)

    async def arecord_outcome(self, prediction_id: str, **kwargs: Any) -> bool:
        return await self._in_thread(self.record_outcome, prediction_id, **kwargs)

    async def aquery(self, sql: str, params: Mapping[str, Any] | None = None, *, read_only: bool = True) -> QueryResult:
        return await self._in_thread(self.query, sql, params, read_only=read_only)

    async def acount_mentions(self, since: datetime | None = None, until: datetime | None = None) -> int:
        return await self._in_thread(self.count_mentions, since, until)

    async def awindow_rows(self, since: datetime, until: datetime | None = None, *,
                           rebuild: bool = True) -> list[WindowDelta]:
        return await self._in_thread(self.window_rows, since, until, rebuild=rebuild)

    async def acampaigns(self, *, active_only: bool = False) -> list[Campaign]:
        return await self._in_thread(self.campaigns, active_only=active_only)

    async def apredictions(self, campaign_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        return await self._in_thread(self.predictions, campaign_id, limit)

    async def aping(self) -> bool:
        return await self._in_thread(self.ping)

    async def aclose(self) -> None:
        # close() joins the worker thread, so it must not run on it
        await asyncio.get_running_loop().run_in_executor(None, self.close)


class AsyncClickHouseStore:
    """The store with coroutine methods under the plain names: ``await s.insert_mentions(rows)``.

    Blocking work runs on the wrapped store's single worker thread, in call order.
    """

    def __init__(self, url: str, database: str = DEFAULT_DATABASE, **kwargs: Any):
        self.sync = ClickHouseStore(url, database, **kwargs)

    @classmethod
    def wrap(cls, store: ClickHouseStore) -> "AsyncClickHouseStore":
        self = cls.__new__(cls)
        self.sync = store
        return self

    async def __aenter__(self) -> "AsyncClickHouseStore":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def migrate(self, directory: Path | str | None = None) -> list[str]:
        return await self.sync.amigrate(directory)

    async def insert_mentions(self, rows: Sequence[ScoredMention]) -> int:
        return await self.sync.ainsert_mentions(rows)

    async def insert_deadletters(self, rows: Sequence[DeadLetter]) -> int:
        return await self.sync.ainsert_deadletters(rows)

    async def insert_alerts(self, rows: Sequence[Alert]) -> int:
        return await self.sync.ainsert_alerts(rows)

    async def upsert_campaigns(self, rows: Sequence[Campaign], updated_at: datetime | None = None) -> int:
        return await self.sync.aupsert_campaigns(rows, updated_at)

    async def insert_predictions(self, rows: Sequence[Prediction]) -> int:
        return await self.sync.ainsert_predictions(rows)

    async def record_outcome(self, prediction_id: str, **kwargs: Any) -> bool:
        return await self.sync.arecord_outcome(prediction_id, **kwargs)

    async def query(self, sql: str, params: Mapping[str, Any] | None = None, *, read_only: bool = True) -> QueryResult:
        return await self.sync.aquery(sql, params, read_only=read_only)

    async def count_mentions(self, since: datetime | None = None, until: datetime | None = None) -> int:
        return await self.sync.acount_mentions(since, until)

    async def window_rows(self, since: datetime, until: datetime | None = None, *,
                          rebuild: bool = True) -> list[WindowDelta]:
        return await self.sync.awindow_rows(since, until, rebuild=rebuild)

    async def campaigns(self, *, active_only: bool = False) -> list[Campaign]:
        return await self.sync.acampaigns(active_only=active_only)

    async def predictions(self, campaign_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        return await self.sync.apredictions(campaign_id, limit)

    async def ping(self) -> bool:
        return await self.sync.aping()

    async def close(self) -> None:
        await self.sync.aclose()


# --------------------------------------------------------------------------- text table


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    text = str(value)
    return text.replace("\n", "\\n").replace("\t", "\\t")


def _width(text: str) -> int:
    # East Asian wide characters (Hangul, CJK) take two terminal columns.
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def format_table(result: QueryResult, *, max_width: int = 60, max_rows: int | None = None) -> str:
    """An aligned text table of a query result (numbers right-aligned), plus a row count line."""
    rows = result.rows if max_rows is None else result.rows[:max_rows]
    cells = [[_cell(v) for v in row] for row in rows]

    def clip(text: str) -> str:
        if _width(text) <= max_width:
            return text
        out, w = [], 0
        for ch in text:
            cw = _width(ch)
            if w + cw > max_width - 1:
                break
            out.append(ch)
            w += cw
        return "".join(out) + "…"

    header = [clip(c) for c in result.columns]
    cells = [[clip(c) for c in row] for row in cells]
    widths = [_width(h) for h in header]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], _width(c))
    numeric = [bool(rows) and all(isinstance(r[i], (int, float)) and not isinstance(r[i], bool) or r[i] is None
                                  for r in rows) for i in range(len(header))]

    def fmt(row: list[str]) -> str:
        parts = []
        for i, c in enumerate(row):
            pad = " " * (widths[i] - _width(c))
            parts.append(pad + c if numeric[i] else c + pad)
        return "| " + " | ".join(parts) + " |"

    sep = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    lines = [sep, fmt(header), sep, *(fmt(r) for r in cells), sep]
    total = len(result.rows)
    more = f" (showing {len(rows)})" if len(rows) < total else ""
    lines.append(f"{total} row{'s' if total != 1 else ''}{more}")
    return "\n".join(lines)
