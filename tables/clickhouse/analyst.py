"""Analyst SQL: checked by the guard, run on a read-only handle in a pool of its own, with limits
the caller cannot lift, cancelled when the caller goes away or the process stops.

The sink and the analysts never share a thread: one slow query must not stall storage, and a
query that never ends must not hold up a shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Mapping

from schemas.errors import RetriableError
from tables.clickhouse.connection import ClickHouseUnavailableError, Connection, QueryError, QueryResult
from tables.clickhouse.tenants import TenantViews

log = logging.getLogger(__name__)

# Per-query limits, applied by ClickHouse on every analyst query. The guard refuses a SETTINGS
# clause and the handle runs with readonly=2, so a caller can lower none of them.
DEFAULT_LIMITS: dict[str, Any] = {
    "max_execution_time": 30,
    "max_memory_usage": 2 * 1024 ** 3,
    "max_result_rows": 100_000,
    "max_result_bytes": 256 * 1024 ** 2,
    "result_overflow_mode": "throw",
}
_TAG = "/* truevoice-analyst:{} */ "


class TooManyQueriesError(RetriableError):
    """Every analyst slot is busy and the waiting line is full; try again shortly."""


class QueryCancelledError(QueryError):
    """The query was cancelled (its caller went away, or the process is stopping)."""


class QueryLimitError(QueryError):
    """The query ran into one of the analyst limits (time, memory, result size): narrow it."""


# ClickHouse codes of the per-query limits: the analyst's query is too big, not the store down
_LIMIT_CODES = {159: "max_execution_time", 241: "max_memory_usage", 396: "max_result_rows"}


class AnalystQueries:
    """A bounded pool for analyst SQL. Each worker thread has its own read-only handle (a chdb or
    HTTP client runs one query at a time), and the guard runs in the worker too, so neither a
    slow query nor the guard's EXPLAIN ever waits on another query or on the event loop.

    ``check(sql, conn, database)`` is the guard: it returns the statement to run, reading only
    tables of ``database``. A query with a ``tenant`` runs against that tenant's database
    (``tables.clickhouse.tenants``: views that hold its rows only), which is also the session's
    current database while it runs; without one (admins) against ``database``, the whole store."""

    def __init__(self, connect_readonly: Callable[[], Connection], admin: Connection,
                 check: Callable[[str, Connection, str], str], *, database: str, workers: int = 2,
                 waiting: int = 8, limits: Mapping[str, Any] | None = None) -> None:
        self.connect_readonly = connect_readonly
        self.admin = admin  # kills queries and makes the tenants' views; the read-only handles may not
        self.check = check
        self.database = database
        self.tenants = TenantViews(admin, database)
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        self.capacity = workers + waiting
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="analyst-sql")
        self._lock = threading.Lock()
        self._local = threading.local()
        self._connections: list[Connection] = []
        self._running: dict[str, Future] = {}
        self._closed = False

    def submit(self, sql: str, tenant: str | None = None) -> tuple[str, Future]:
        """Queue ``sql`` (of ``tenant``; None: an admin's); returns (tag, future). The future raises
        the guard's error for a refused query."""
        with self._lock:
            if self._closed:
                raise TooManyQueriesError("analyst SQL is shutting down")
            if len(self._running) >= self.capacity:
                raise TooManyQueriesError(
                    f"{len(self._running)} analyst queries are running or waiting; try again shortly")
            tag = uuid.uuid4().hex
            future = self._executor.submit(self._run, tag, sql, tenant)
            self._running[tag] = future
            future.add_done_callback(lambda _f, t=tag: self._forget(t))
        return tag, future

    def _forget(self, tag: str) -> None:
        with self._lock:
            self._running.pop(tag, None)

    def _connection(self) -> Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self.connect_readonly()
            with self._lock:
                self._connections.append(conn)
        return conn

    def _run(self, tag: str, sql: str, tenant: str | None) -> QueryResult:
        conn = self._connection()
        database = self.database if tenant is None else self.tenants.ensure(tenant)
        # unqualified names resolve in the tenant's database, whatever the guard made of them
        conn.client.database = database
        try:
            return self._run_checked(tag, sql, conn, database)
        finally:
            conn.client.database = self.database

    def _run_checked(self, tag: str, sql: str, conn: Connection, database: str) -> QueryResult:
        statement = self.check(sql, conn, database)
        try:
            result = conn.select(_TAG.format(tag) + statement, settings=self.limits)
        except (QueryError, ClickHouseUnavailableError) as exc:
            if exc.code == 394:  # QUERY_WAS_CANCELLED
                raise QueryCancelledError("the query was cancelled", exc.code) from exc
            if exc.code in _LIMIT_CODES:
                limit = _LIMIT_CODES[exc.code]
                raise QueryLimitError(f"the query went past the analyst limit {limit} = {self.limits[limit]}: "
                                      f"narrow it (a shorter time range, fewer rows, LIMIT). {exc}", exc.code) from exc
            raise
        if not result.columns and not result.rows:  # an analyst sees the columns of an empty result
            result.columns, result.types = conn.describe(statement, self.limits)
        return result

    def query(self, sql: str, tenant: str | None = None) -> QueryResult:
        """Blocking form (the CLI)."""
        return self.submit(sql, tenant)[1].result()

    async def aquery(self, sql: str, tenant: str | None = None) -> QueryResult:
        """The query's result (over ``tenant``'s rows only, when given); cancelling the awaiting
        task (client gone) kills the query."""
        tag, future = self.submit(sql, tenant)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            self.kill(tag)
            raise

    def kill(self, tag: str) -> None:
        try:
            self.admin.command(f"KILL QUERY WHERE startsWith(query, '{_TAG.format(tag)}') ASYNC")
        except Exception:  # noqa: BLE001 - the limits end it anyway
            log.warning("could not kill analyst query %s", tag, exc_info=True)

    @property
    def running(self) -> int:
        with self._lock:
            return len(self._running)

    def close(self) -> None:
        """Kill what runs and never wait for it: a stop must not hang on an analyst's query."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            tags = list(self._running)
        for tag in tags:
            self.kill(tag)
        self._executor.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
