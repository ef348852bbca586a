"""The analyst SQL pool (tables/clickhouse/analyst.py) against real chdb, no mocks.

Limits are enforced by ClickHouse, the pool never stalls the sink's writes, a cancelled caller
kills its query, ``close()`` never waits for a query, and a full pool says so at once.

A "never-ending" query is ``count()`` over ``numbers(1e15)`` under a store whose time limit is
far beyond the test's run; whether it ended because we killed it is told by the error
(QueryCancelledError, code 394) rather than by timing. chdb hosts one data path per process:
the module shares one directory, stores differ by database name, and all are closed at the end.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import pytest

from schemas.errors import RetriableError, is_retriable
from tables.clickhouse.analyst import QueryCancelledError, TooManyQueriesError
from tables.clickhouse.connection import ClickHouseUnavailableError, QueryError
from tables.clickhouse.guard import UnsafeQueryError
from tables.clickhouse.store import ClickHouseStore

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_clickhouse_store import make_mentions  # noqa: E402

ENDLESS = "SELECT count() FROM numbers(1e15)"
LONG = {"max_execution_time": 900}  # far beyond the test's run: only a kill ends ENDLESS
WAIT = 60  # upper bound for "it happened", never a measure of speed


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    return f"chdb://{tmp_path_factory.mktemp('chdb_analyst')}"


@pytest.fixture
def make_store(url):
    made: list[ClickHouseStore] = []

    def make(database: str, **kwargs) -> ClickHouseStore:
        s = ClickHouseStore(url, database, **kwargs)
        s.migrate()
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def running_tags(store: ClickHouseStore) -> set[str]:
    rows = store.select("SELECT query FROM system.processes WHERE query LIKE '/* truevoice-analyst:%'").rows
    return {q.split(":", 1)[1].split(" ", 1)[0] for (q,) in rows}


def wait_running(store: ClickHouseStore, tag: str, future: Future) -> None:
    """Until ClickHouse lists the query as running (its future must not have ended)."""
    deadline = time.monotonic() + WAIT
    while tag not in running_tags(store):
        if future.done():
            future.result()  # raises what ended it
            raise AssertionError("the query ended at once")
        assert time.monotonic() < deadline, "the analyst query never started"
        time.sleep(0.01)


def test_time_limit_stops_a_query(make_store):
    s = make_store("tv_an_time", analyst_limits={"max_execution_time": 1})
    with pytest.raises((QueryError, ClickHouseUnavailableError)) as info:
        s.query("SELECT count() FROM numbers(1e12)")
    assert info.value.code == 159 and "Timeout exceeded" in str(info.value)
    assert s.analyst.running == 0
    assert s.query("SELECT 1 AS one").rows == [(1,)]  # the pool is usable afterwards


def test_result_rows_limit_refuses_a_huge_result(make_store):
    s = make_store("tv_an_rows", analyst_limits={"max_result_rows": 1000})
    with pytest.raises(QueryError) as info:
        s.query("SELECT number FROM numbers(1000000)")
    assert info.value.code == 396 and not is_retriable(info.value)
    assert len(s.query("SELECT number FROM numbers(1000)").rows) == 1000
    # the limits cannot be lifted from the query text
    with pytest.raises(UnsafeQueryError):
        s.query("SELECT number FROM numbers(1000000) SETTINGS max_result_rows = 0")


def test_insert_completes_while_an_endless_query_runs(make_store):
    s = make_store("tv_an_insert", analyst_limits=LONG)
    rows = [m.dumps() for m in make_mentions(500)]
    tag, future = s.analyst.submit(ENDLESS)
    try:
        wait_running(s, tag, future)
        inserted: Future = Future()

        def sink() -> None:
            try:
                inserted.set_result(s.insert_scored(rows))
            except BaseException as exc:  # noqa: BLE001 - handed to the test thread
                inserted.set_exception(exc)

        threading.Thread(target=sink, daemon=True).start()
        assert inserted.result(timeout=WAIT) == 500
        # the insert finished while the query was still running
        assert not future.done() and tag in running_tags(s)
        assert s.count_mentions() == 500
    finally:
        s.analyst.kill(tag)
    with pytest.raises(QueryCancelledError):
        future.result(timeout=WAIT)
    assert s.analyst.running == 0


async def test_cancelled_aquery_kills_the_query(make_store, monkeypatch):
    s = make_store("tv_an_cancel", analyst_limits=LONG)
    submitted: list[tuple[str, Future]] = []
    real_submit = s.analyst.submit

    def spy(sql: str, tenant: str | None = None):
        out = real_submit(sql, tenant)
        submitted.append(out)
        return out

    monkeypatch.setattr(s.analyst, "submit", spy)
    task = asyncio.create_task(s.analyst.aquery(ENDLESS))
    while not submitted:
        await asyncio.sleep(0)
    tag, future = submitted[0]
    await asyncio.to_thread(wait_running, s, tag, future)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # ended by the kill, not by its (far away) time limit
    with pytest.raises(QueryCancelledError) as info:
        await asyncio.wait_for(asyncio.wrap_future(future), WAIT)
    assert info.value.code == 394
    assert s.analyst.running == 0
    assert tag not in running_tags(s)
    res = await s.analyst.aquery("SELECT 2 AS two")
    assert res.rows == [(2,)]


def test_close_returns_at_once_with_a_query_running(make_store):
    s = make_store("tv_an_close", analyst_limits=LONG)
    observer = make_store("tv_an_close_observer")
    tag, future = s.analyst.submit(ENDLESS)
    wait_running(observer, tag, future)
    closed = threading.Event()
    threading.Thread(target=lambda: (s.close(), closed.set()), daemon=True).start()
    assert closed.wait(WAIT), "close() waited for the analyst query"
    # close() did not wait for the query; the query was killed, not left running
    with pytest.raises(QueryCancelledError):
        future.result(timeout=WAIT)
    assert tag not in running_tags(observer)
    assert s.analyst.running == 0


def test_too_many_concurrent_queries(make_store):
    s = make_store("tv_an_full", analyst_limits=LONG, analyst_workers=1)
    capacity = s.analyst.capacity  # one running + the waiting line
    assert capacity >= 2
    held: list[tuple[str, Future]] = []
    stop = threading.Event()
    outcome: Future = Future()

    def fill() -> None:
        try:
            for _ in range(capacity):
                if stop.is_set():
                    return
                held.append(s.analyst.submit(ENDLESS))
            if not stop.is_set():
                s.query("SELECT 1")
            outcome.set_result(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.set_exception(exc)

    filler = threading.Thread(target=fill, daemon=True)
    filler.start()
    try:
        try:
            outcome.result(timeout=10)  # only the submits: no query result is awaited
        except TimeoutError:
            raise AssertionError("submitting analyst queries blocked while one was running") from None
        except TooManyQueriesError as exc:
            assert isinstance(exc, RetriableError) and is_retriable(exc)
        else:
            raise AssertionError("a full pool took one more query")
        assert len(held) == capacity and s.analyst.running == capacity
    finally:
        stop.set()
        for _tag, f in held[1:]:
            f.cancel()  # still waiting: never started
        if held:
            wait_running(s, *held[0])  # the one that runs: kill it once ClickHouse lists it
        while filler.is_alive() or running_tags(s):
            for tag in running_tags(s):
                s.analyst.kill(tag)
            filler.join(0.05)
    with pytest.raises(QueryCancelledError):
        held[0][1].result(timeout=WAIT)
    assert s.analyst.running == 0
    assert s.query("SELECT 3 AS three").rows == [(3,)]  # room again


def test_an_empty_result_keeps_its_columns_whatever_makes_it_empty(make_store):
    """LIMIT 0 (clickhouse-connect's own column probe), a filter that matches nothing, an empty
    aggregate: the analyst sees the columns and no rows, never an internal error."""
    s = make_store("tv_an_empty")
    for sql in ("SELECT platform, text FROM mentions LIMIT 0",
                "SELECT platform, text FROM mentions WHERE 1 = 0",
                "SELECT platform, count() AS n FROM mentions GROUP BY platform",
                "SELECT platform, text FROM mentions WHERE 1 = 0 LIMIT 0"):
        result = s.query(sql)
        assert result.rows == [], sql
        assert result.columns[:2] in (["platform", "text"], ["platform", "n"]), (sql, result.columns)
