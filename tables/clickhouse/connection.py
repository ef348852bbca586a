"""One clickhouse-connect client, embedded (chdb) or a server, with ClickHouse errors mapped onto
the project's error root: storage trouble is retriable, a refused statement is not.

chdb allows one engine (data path) per process and a second process on the same path fails to
open it; inside one process it is thread-safe.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence
from urllib.parse import parse_qs, unquote, urlparse

import clickhouse_connect
from clickhouse_connect.driver.exceptions import ClickHouseError, OperationalError

from schemas.errors import PermanentError, StorageUnavailableError

log = logging.getLogger(__name__)

_CODE_RE = re.compile(r"Code:\s*(\d+)")

# Error codes that say "the store cannot do it now" rather than "this statement is wrong": a
# full disk, too many parts, memory, timeouts, the network, a file the engine could not write.
RETRIABLE_CODES = frozenset({
    3,    # UNEXPECTED_END_OF_FILE (a write cut short)
    74,   # CANNOT_READ_FROM_FILE_DESCRIPTOR
    75,   # CANNOT_WRITE_TO_FILE_DESCRIPTOR
    76,   # CANNOT_OPEN_FILE
    159,  # TIMEOUT_EXCEEDED
    202,  # TOO_MANY_SIMULTANEOUS_QUERIES
    209,  # SOCKET_TIMEOUT
    210,  # NETWORK_ERROR
    241,  # MEMORY_LIMIT_EXCEEDED
    243,  # NOT_ENOUGH_SPACE
    252,  # TOO_MANY_PARTS
    425,  # SYSTEM_ERROR
    1001,  # STD_EXCEPTION (e.g. filesystem errors)
})
_RETRIABLE_TEXT = ("No space left on device", "Cannot reserve", "Cannot write to file", "Too many parts")


class QueryError(PermanentError):
    """A statement ClickHouse refused (syntax, unknown table, type error …). ``str()`` is ClickHouse's message."""

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code


class ClickHouseUnavailableError(StorageUnavailableError):
    """ClickHouse could not take or answer the request now (down, disk full, too many parts); retry later."""

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple]
    types: list[str] = field(default_factory=list)

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row)) for row in self.rows]

    def __len__(self) -> int:
        return len(self.rows)


def map_error(exc: Exception) -> QueryError | ClickHouseUnavailableError:
    """The project error for a clickhouse-connect exception: retriable when the store is at fault."""
    message = str(exc).strip()
    idx = message.find("Code: ")
    if idx > 0:
        message = message[idx:]
    m = _CODE_RE.search(message)
    code = int(m.group(1)) if m else getattr(exc, "code", None)
    if (m is None and isinstance(exc, OperationalError)) or code in RETRIABLE_CODES \
            or any(t in message for t in _RETRIABLE_TEXT):
        return ClickHouseUnavailableError(message, code)
    return QueryError(message, code)


def http_client_kwargs(url: str) -> dict[str, Any]:
    """clickhouse_connect.get_client keyword arguments for an http(s)://user:pass@host:port URL."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https"):
        raise ValueError(f"unsupported ClickHouse URL {redact(url)!r}: use chdb:///abs/path or http(s)://user:pass@host:8123")
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


def redact(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url


def _aware(value: Any) -> Any:
    """Datetimes read back from ClickHouse as UTC-aware (chdb may drop the zone)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    return value


class Connection:
    """A clickhouse-connect client whose calls raise QueryError / ClickHouseUnavailableError."""

    def __init__(self, url: str, database: str | None = None, settings: Mapping[str, Any] | None = None) -> None:
        self.url = url
        self.embedded = url.startswith("chdb:")
        try:
            if self.embedded:
                self.client = clickhouse_connect.get_client(dsn=url, database=database, settings=dict(settings or {}))
            else:
                self.client = clickhouse_connect.get_client(database=database, settings=dict(settings or {}),
                                                            **http_client_kwargs(url))
        except OperationalError as exc:
            raise ClickHouseUnavailableError(f"cannot reach ClickHouse at {redact(url)}: {exc}") from exc
        except ClickHouseError as exc:
            if not self.embedded:
                raise map_error(exc) from exc
            raise ClickHouseUnavailableError(
                f"cannot open chdb at {url}: {exc} (chdb allows one process per data path: is another "
                f"TrueVoice process running on it?)") from exc

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        try:
            return self.client.command(sql, parameters=dict(params) if params else None)
        except ClickHouseError as exc:
            raise map_error(exc) from exc

    def select(self, sql: str, params: Mapping[str, Any] | None = None,
               settings: Mapping[str, Any] | None = None) -> QueryResult:
        try:
            res = self.client.query(sql, parameters=dict(params) if params else None,
                                    settings=dict(settings) if settings else None)
        except ClickHouseError as exc:
            raise map_error(exc) from exc
        names, types = list(res.column_names), [t.name for t in res.column_types]
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
        return QueryResult(names, list(rows), types)

    def describe(self, sql: str, settings: Mapping[str, Any] | None = None) -> tuple[list[str], list[str]]:
        """Names and types of a query's columns without running it (chdb sends an empty result
        without its header). ([], []) for a statement that has none (DESCRIBE of it fails)."""
        try:
            res = self.client.query(f"DESCRIBE TABLE ({sql}\n)", settings=dict(settings) if settings else None)
        except ClickHouseError:
            return [], []
        return [r[0] for r in res.result_rows], [r[1] for r in res.result_rows]

    def insert(self, table: str, columns: list[list], names: Sequence[str]) -> int:
        if not columns or not columns[0]:
            return 0
        try:
            self.client.insert(table, columns, column_names=list(names), column_oriented=True)
        except ClickHouseError as exc:
            raise map_error(exc) from exc
        return len(columns[0])

    def insert_json_rows(self, table: str, rows: Sequence[bytes], settings: Mapping[str, Any]) -> int:
        """Insert JSON objects (one per item, JSONEachRow) as they are: ClickHouse parses them."""
        if not rows:
            return 0
        try:
            self.client.raw_insert(table, None, b"\n".join(rows), settings=dict(settings), fmt="JSONEachRow")
        except ClickHouseError as exc:
            raise map_error(exc) from exc
        return len(rows)

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except Exception:  # noqa: BLE001 - ping answers yes or no
            return False

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:  # pragma: no cover - best effort
            log.debug("closing ClickHouse client failed", exc_info=True)
