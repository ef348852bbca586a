"""ClickHouseStore (tables.clickhouse) against a real embedded chdb engine (no mocks).

chdb hosts one engine path per process, so the whole module shares one data directory and
isolates tests by database name instead; every store is closed at the end of the module so the
next module may open a path of its own.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import orjson
import pytest

from schemas.errors import PermanentError, RetriableError, StorageUnavailableError, is_retriable
from schemas.records import PLATFORMS, Alert, Campaign, DeadLetter, Prediction, ScoredMention
from tables.clickhouse.connection import (
    ClickHouseUnavailableError,
    QueryError,
    QueryResult,
    http_client_kwargs,
    map_error,
)
from tables.clickhouse.guard import UnsafeQueryError
from tables.clickhouse.migrations import migrations_dir, split_statements
from tables.clickhouse.store import ALL_CAMPAIGNS, ClickHouseStore

REPO = Path(__file__).resolve().parent.parent
MIGRATIONS = sorted(p.name for p in migrations_dir().glob("*.sql"))

# Straddles a month boundary (and a day boundary), so day views and time filters see two of each.
BASE = datetime(2026, 1, 31, 23, 55, 0, 250_000, tzinfo=timezone.utc)
N = 3000
LABELS = ("negative", "neutral", "positive")


def make_mentions(n: int = N, base: datetime = BASE, prefix: str = "post") -> list[ScoredMention]:
    rows = []
    for i in range(n):
        label = LABELS[(i * 7) % 3]
        sentiment = ((i * 37) % 200 - 100) / 100.0
        campaigns = [[], ["c1"], ["c1", "c2"], ["c2", "c2"], ["c3"]][i % 5]
        rows.append(ScoredMention(
            platform=PLATFORMS[i % 5],
            post_id=f"{prefix}-{i}",
            url=f"https://example.com/{i}",
            author={"id": f"u{i % 97}", "handle": f"@h{i % 97}", "followers": i * 3,
                    "created_at": date(2020, 1, 1) if i % 2 else None, "verified": i % 11 == 0},
            text=f"존맛 ㅋㅋ 내돈내산 {i}; it's 'quoted'",
            lang="ko",
            media_urls=[f"https://img.example.com/{i}.jpg"] if i % 4 == 0 else [],
            hashtags=["신상", "ad"][: i % 3],
            engagement={"likes": i % 50, "comments": i % 7, "shares": i % 3, "views": i},
            posted_at=base + timedelta(milliseconds=2_345 * i),  # ~2 hours, ~26 per minute
            brand="acme",
            text_normalised=f"존맛 웃음 {i}",
            campaigns=campaigns,
            sentiment=sentiment,
            sentiment_label=label,
            sentiment_probs=(0.2, 0.3, 0.5),
            toxicity=(i % 10) / 10.0,
            toxic=i % 10 >= 8,
            intent="statement" if i % 2 else "question",
            purchase_intent=(i % 4) / 4.0,
            meme_template="drake" if i % 13 == 0 else "",
            meme_score=0.9 if i % 13 == 0 else 0.0,
            credibility=0.3 if i % 6 == 0 else 0.8,
            credible=i % 6 != 0,
            slang_terms=["존맛", "내돈내산"] if i % 2 else [],
            scored_at=base if i % 3 else None,
        ))
    return rows


def minute_of(dt: datetime) -> int:
    ts = int(dt.timestamp())
    return ts - ts % 60


def python_windows(rows: list[ScoredMention]) -> dict[tuple[str, str, int], dict[str, float]]:
    """What window_rows / the minute views must say, computed independently of ClickHouse."""
    seen: dict[str, ScoredMention] = {}
    for m in rows:
        seen[m.event_id] = m  # replays collapse to one
    out: dict[tuple[str, str, int], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for m in seen.values():
        for campaign in {ALL_CAMPAIGNS, *m.campaigns}:
            agg = out[(campaign, m.platform, minute_of(m.posted_at))]
            agg["count"] += 1
            # stored as Float32: compare against the float32-rounded values
            agg["sentiment_sum"] += float(np.float32(m.sentiment))
            agg["purchase_intent_sum"] += float(np.float32(m.purchase_intent))
            agg["negative"] += m.sentiment_label == "negative"
            agg["positive"] += m.sentiment_label == "positive"
            agg["neutral"] += m.sentiment_label == "neutral"
            agg["credible"] += m.credible
            agg["toxic"] += m.toxic
    return out


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("chdb")


@pytest.fixture(scope="module")
def url(data_dir):
    return f"chdb://{data_dir}"


@pytest.fixture(scope="module")
def store(url):
    s = ClickHouseStore(url, "tv_test")
    s.migrate()
    yield s
    s.close()


@pytest.fixture(scope="module")
def mentions() -> list[ScoredMention]:
    return make_mentions()


@pytest.fixture(scope="module")
def loaded(store, mentions):
    """All mentions inserted, then two replays of overlapping subsets (separate inserts)."""
    assert store.insert_mentions(mentions) == N
    store.insert_mentions(mentions[: N // 3])
    store.insert_mentions(mentions[N // 4: N // 2] + mentions[-50:])
    return store



def exact_minute_stats(store: ClickHouseStore) -> dict[tuple[str, str, int], tuple]:
    res = store.select(
        f"SELECT campaign_id, platform, toUnixTimestamp(minute), mention_count, negatives, positives, neutrals, "
        f"credible, toxic, sentiment_sum FROM {store.database}.campaign_minute_stats")
    return {(c, p, int(m)): tuple(row) for c, p, m, *row in res.rows}


def assert_minutes_match(got: dict, expected: dict) -> None:
    assert set(got) == set(expected)
    for key, (n, neg, pos, neu, cred, tox, *rest) in got.items():
        e = expected[key]
        assert (n, neg, pos, neu, cred, tox) == (e["count"], e["negative"], e["positive"], e["neutral"],
                                                 e["credible"], e["toxic"]), key
        if rest:
            assert rest[0] == pytest.approx(e["sentiment_sum"], abs=1e-6)


# ------------------------------------------------------------------------------ migrations


def test_migrate_is_idempotent(url):
    s = ClickHouseStore(url, "tv_migrate")
    try:
        assert MIGRATIONS[:3] == ["001_tables.sql", "002_views.sql", "003_mentions_one_row_per_post.sql"]
        assert s.migrate() == MIGRATIONS
        assert s.migrate() == []
        assert s.applied_migrations() == MIGRATIONS
        tables = {r[0] for r in s.query("SHOW TABLES").rows}
        for name in ("brands", "campaigns", "mentions", "deadletter", "alerts", "predictions",
                     "campaign_minute_agg", "campaign_day_agg", "campaign_minute_mv", "campaign_day_mv",
                     "campaign_minute_stats", "campaign_day_stats", "campaign_minute_stats_mv",
                     "campaign_day_stats_mv", "prediction_accuracy", "schema_migrations"):
            assert name in tables, name
        # a fresh store object on the same database sees the applied files and does nothing
        s2 = ClickHouseStore(url, "tv_migrate")
        try:
            assert s2.migrate() == []
        finally:
            s2.close()
        engine, partition_key, sorting_key = s.select(
            "SELECT engine, partition_key, sorting_key FROM system.tables "
            "WHERE database = 'tv_migrate' AND name = 'mentions'").rows[0]
        assert engine == "ReplacingMergeTree"
        # one post = one key: nothing time-dependent in the sorting key or the partition
        assert sorting_key == "platform, event_id" and partition_key == ""
        skip = s.select("SELECT name, type, expr FROM system.data_skipping_indices "
                        "WHERE database = 'tv_migrate' AND table = 'mentions' ORDER BY name").rows
        assert ("idx_posted_at", "minmax", "posted_at") in skip
    finally:
        s.close()


def test_changed_migration_is_not_reapplied(url, tmp_path):
    (tmp_path / "001_a.sql").write_text("CREATE TABLE IF NOT EXISTS {{db}}.a (x UInt8) ENGINE = Memory;\n")
    s = ClickHouseStore(url, "tv_migrate_changed")
    try:
        assert s.migrate(tmp_path) == ["001_a.sql"]
        (tmp_path / "001_a.sql").write_text("DROP TABLE {{db}}.a;\n")
        (tmp_path / "002_b.sql").write_text("INSERT INTO {{db}}.a VALUES (7);\n")
        assert s.migrate(tmp_path) == ["002_b.sql"]  # 001 changed: logged, not run again
        assert s.select("SELECT x FROM tv_migrate_changed.a").rows == [(7,)]
    finally:
        s.close()


def test_split_statements_ignores_semicolons_in_strings_and_comments():
    sql = """
    -- a comment; with a semicolon
    CREATE TABLE a (x String DEFAULT 'a;b') ENGINE = Memory;
    /* block; comment */ SELECT 'it''s; here', "we;ird", `id;x`, 'esc\\';' ;
    ;;
    -- only a comment at the end;
    """
    parts = split_statements(sql)
    assert len(parts) == 2
    assert parts[0].endswith("ENGINE = Memory")
    assert "'a;b'" in parts[0]
    assert "'it''s; here'" in parts[1] and "'esc\\';'" in parts[1]
    assert split_statements("SELECT 1") == ["SELECT 1"]
    assert split_statements("  -- nothing\n ; ") == []


def test_migrations_dir_is_the_checkout_folder_in_a_source_tree():
    # installed, the files are package data (tables/clickhouse/sql, see tests/test_layout.py)
    d = migrations_dir()
    assert (d / "001_tables.sql").is_file()
    if not (Path(sys.modules["tables.clickhouse.migrations"].__file__).parent / "sql").is_dir():
        assert d == REPO / "clickhouse"


# ------------------------------------------------------------------------------ replays are exact


def test_insert_counts_and_exact_once_under_replays(loaded):
    assert loaded.count_mentions() == N
    raw = loaded.select("SELECT count() FROM mentions").rows[0][0]
    assert raw >= N  # duplicates may still sit in unmerged parts
    assert loaded.select("SELECT count() FROM mentions FINAL").rows[0][0] == N
    since = BASE + timedelta(minutes=30)
    expected = sum(1 for m in make_mentions() if m.posted_at >= since)
    assert loaded.count_mentions(since=since) == expected
    until = BASE + timedelta(minutes=60)
    assert loaded.count_mentions(since=since, until=until) == sum(
        1 for m in make_mentions() if since <= m.posted_at < until)


def test_insert_scored_takes_the_topic_json_in_batches(url, mentions):
    s = ClickHouseStore(url, "tv_json", batch_size=70)
    try:
        s.migrate()
        rows = [m.dumps() for m in mentions[:500]]
        assert s.insert_scored(rows) == 500  # eight INSERTs of at most 70 rows
        assert s.insert_scored(rows[:123]) == 123
        assert s.insert_scored([]) == 0
        assert s.count_mentions() == 500
        assert s.select("SELECT count() FROM mentions FINAL").rows == [(500,)]
    finally:
        s.close()


def test_exact_minute_view_matches_python(loaded, mentions):
    expected = python_windows(mentions + mentions[: N // 3])
    got = exact_minute_stats(loaded)
    assert_minutes_match(got, expected)
    # the brand-wide pseudo-campaign holds every mention once
    assert sum(v[0] for k, v in got.items() if k[0] == ALL_CAMPAIGNS) == N


def test_mv_distinct_counts_exact_after_replay(loaded, mentions):
    expected = python_windows(mentions)
    res = loaded.select(
        "SELECT campaign_id, platform, toUnixTimestamp(minute), mention_count, negatives, positives, neutrals, "
        "credible, toxic, rows_inserted FROM campaign_minute_stats_mv"
    )
    got = {(c, p, int(m)): row for c, p, m, *row in res.rows}
    assert_minutes_match({k: v[:6] for k, v in got.items()}, expected)
    replayed_rows = sum(v[6] - v[0] for v in got.values())
    assert replayed_rows > 0  # the replays really reached the MV, and were not counted


def test_day_views_exact_and_agree(loaded, mentions):
    by_day: dict[tuple[str, str, date], int] = defaultdict(int)
    for m in mentions:
        for c in {ALL_CAMPAIGNS, *m.campaigns}:
            by_day[(c, m.platform, m.posted_at.date())] += 1
    exact = {(c, p, d): n for c, p, d, n in
             loaded.select("SELECT campaign_id, platform, day, mention_count FROM campaign_day_stats").rows}
    mv = {(c, p, d): n for c, p, d, n in
          loaded.select("SELECT campaign_id, platform, day, mention_count FROM campaign_day_stats_mv").rows}
    assert exact == dict(by_day)
    assert mv == dict(by_day)
    assert {k[2] for k in exact} == {date(2026, 1, 31), date(2026, 2, 1)}


def test_window_rows_match_python(loaded, mentions):
    since = BASE + timedelta(minutes=17, seconds=31)  # floored to 00:12:00 on Feb 1
    rows = loaded.window_rows(since)
    floor = minute_of(since)
    expected = {k: v for k, v in python_windows(mentions).items() if k[2] >= floor}
    got = {(w.campaign_id, w.platform, w.minute): w for w in rows}
    assert set(got) == set(expected)
    for key, w in got.items():
        e = expected[key]
        assert (w.sums.count, w.sums.negative, w.sums.positive, w.sums.credible, w.sums.toxic) == (
            e["count"], e["negative"], e["positive"], e["credible"], e["toxic"]), key
        assert w.sums.sentiment_sum == pytest.approx(e["sentiment_sum"], abs=1e-6)
        assert w.sums.purchase_intent_sum == pytest.approx(e["purchase_intent_sum"], abs=1e-6)
        assert w.rebuild is True
    assert {w.campaign_id for w in rows} == {ALL_CAMPAIGNS, "c1", "c2", "c3"}
    assert [w.minute for w in rows] == sorted(w.minute for w in rows)
    until = since + timedelta(minutes=5)
    bounded = loaded.window_rows(since, until)
    assert bounded and all(floor <= w.minute < minute_of(until) + 60 for w in bounded)
    assert loaded.window_rows(BASE + timedelta(hours=3)) == []
    assert loaded.window_rows(since, rebuild=False)[0].rebuild is False


def test_stored_values_round_trip(loaded, mentions):
    m = mentions[11]
    res = loaded.select(
        "SELECT platform, post_id, author_id, author_handle, author_created_at, author_followers, author_verified, "
        "text, media_urls, hashtags, likes, views, toUnixTimestamp64Milli(posted_at) AS posted_ms, campaigns, "
        "sentiment_label, sentiment_positive, toxic, slang_terms, isNull(scored_at) AS scored_null "
        "FROM mentions FINAL WHERE event_id = {eid:String}",
        {"eid": m.event_id},
    )
    assert len(res.rows) == 1
    row = res.dicts()[0]
    assert row["platform"] == m.platform and row["post_id"] == m.post_id
    assert row["author_id"] == m.author.id and row["author_handle"] == m.author.handle
    assert row["author_created_at"] == m.author.created_at
    assert row["author_followers"] == m.author.followers and row["author_verified"] == m.author.verified
    assert row["text"] == m.text and row["media_urls"] == m.media_urls and row["hashtags"] == m.hashtags
    assert row["likes"] == m.engagement.likes and row["views"] == m.engagement.views
    assert row["posted_ms"] == int(m.posted_at.timestamp() * 1000)
    assert row["campaigns"] == m.campaigns and row["sentiment_label"] == m.sentiment_label
    assert row["sentiment_positive"] == pytest.approx(0.5)
    assert row["toxic"] == m.toxic and row["slang_terms"] == m.slang_terms
    assert row["scored_null"] == (m.scored_at is None)


# ------------------------------------------------------------------------------ 003: one post, one row


def insert_as_of_002(store: ClickHouseStore, db: str, rows) -> int:
    """Insert as the version that had only migrations 001+002 did: one flat row per mention into
    the columns its table has (the fields it did not have are skipped)."""
    def flat(m) -> bytes:
        d = m.model_dump(mode="json")
        author, engagement, probs = d.pop("author"), d.pop("engagement"), d.pop("sentiment_probs")
        d.update({f"author_{k}": v for k, v in author.items()}, **engagement, sentiment_negative=probs[0],
                 sentiment_neutral=probs[1], sentiment_positive=probs[2])
        return orjson.dumps(d)

    return store.conn.insert_json_rows(f"{db}.mentions", [flat(m) for m in rows],
                                       {"date_time_input_format": "best_effort", "input_format_skip_unknown_fields": 1})


def test_migration_003_collapses_a_redated_post(url, tmp_path, mentions):
    """A data directory migrated with 001+002 only, the bug reproduced, then 003 applied."""
    old = tmp_path / "sql"
    old.mkdir()
    for name in ("001_tables.sql", "002_views.sql"):
        shutil.copy(migrations_dir() / name, old / name)
    db = "tv_mig003"
    s = ClickHouseStore(url, db)
    try:
        assert s.migrate(old) == ["001_tables.sql", "002_views.sql"]
        rows = make_mentions(600)
        assert insert_as_of_002(s, db, rows) == 600
        insert_as_of_002(s, db, rows[:100])  # a plain replay: collapses under 001 already
        # the same posts again, re-dated by an hour and by a month (another partition under 001)
        hour = rows[200].model_copy(update={"posted_at": rows[200].posted_at + timedelta(hours=1)})
        month = rows[201].model_copy(update={"posted_at": rows[201].posted_at + timedelta(days=31)})
        insert_as_of_002(s, db, [hour, month])
        assert hour.event_id == rows[200].event_id and month.event_id == rows[201].event_id
        # the bug: two rows each, even under FINAL and in the distinct-id count's time filters
        assert s.select(f"SELECT count() FROM {db}.mentions FINAL").rows == [(602,)]
        assert s.count_mentions(since=BASE + timedelta(days=1)) == 1
        old_rows = s.select(f"SELECT count() FROM {db}.mentions").rows[0][0]
        assert old_rows >= 602

        assert s.migrate() == [n for n in MIGRATIONS if n not in ("001_tables.sql", "002_views.sql")]
        assert s.migrate() == []

        # one row per post under FINAL and in count_mentions, every post kept, the newest copy wins
        assert s.select(f"SELECT count() FROM {db}.mentions FINAL").rows == [(600,)]
        assert s.count_mentions() == 600
        assert s.count_mentions(since=BASE + timedelta(days=1)) == 1  # only the month-later copy is left
        got = dict(s.select(f"SELECT event_id, toUnixTimestamp64Milli(posted_at) FROM {db}.mentions FINAL").rows)
        assert set(got) == {m.event_id for m in rows}
        assert got[hour.event_id] == int(hour.posted_at.timestamp() * 1000)
        assert got[month.event_id] == int(month.posted_at.timestamp() * 1000)
        # the 001 table is kept, untouched, as the backup
        assert s.select(f"SELECT count() FROM {db}.mentions_by_hour_002 FINAL").rows == [(602,)]
        # copies share key AND partition, so a merge (not only FINAL) collapses them
        s.select(f"OPTIMIZE TABLE {db}.mentions FINAL")
        assert s.select(f"SELECT count() FROM {db}.mentions").rows == [(600,)]

        # the views and window_rows read the new table: exact figures, the re-dated posts once
        final_rows = [m for m in rows if m.event_id not in (hour.event_id, month.event_id)] + [hour, month]
        expected = python_windows(final_rows)
        assert_minutes_match(exact_minute_stats(s), expected)
        windows = {(w.campaign_id, w.platform, w.minute): w.sums.count for w in s.window_rows(BASE)}
        assert windows == {k: v["count"] for k, v in expected.items()}
        days = s.select(f"SELECT sum(mention_count) FROM {db}.campaign_day_stats WHERE campaign_id = '*'").rows
        assert days == [(600,)]

        # the materialized view follows the new table: bound to it, not to the backup
        deps = dict(s.select(f"SELECT name, dependencies_table FROM system.tables WHERE database = '{db}' "
                             f"AND name IN ('mentions', 'mentions_by_hour_002')").rows)
        assert deps == {"mentions": ["campaign_minute_mv"], "mentions_by_hour_002": []}
        later = make_mentions(300, base=BASE + timedelta(days=40), prefix="later")
        s.insert_mentions(later)
        s.insert_mentions(later[:50])
        lo = minute_of(later[0].posted_at)
        mv = s.select(
            f"SELECT campaign_id, platform, toUnixTimestamp(minute), mention_count, negatives, positives, neutrals, "
            f"credible, toxic FROM {db}.campaign_minute_stats_mv WHERE minute >= toDateTime({lo}, 'UTC')").rows
        assert_minutes_match({(c, p, int(m)): tuple(r) for c, p, m, *r in mv}, python_windows(later))
        assert s.count_mentions() == 900
    finally:
        s.close()


# ------------------------------------------------------------------------------ errors


def test_error_classes():
    assert issubclass(QueryError, PermanentError) and not issubclass(QueryError, RetriableError)
    assert issubclass(ClickHouseUnavailableError, StorageUnavailableError)
    assert issubclass(ClickHouseUnavailableError, RetriableError)
    assert not is_retriable(QueryError("Code: 62. Syntax error", 62))
    assert is_retriable(ClickHouseUnavailableError("down"))
    assert issubclass(UnsafeQueryError, PermanentError)
    # classification by ClickHouse's error code / message
    assert isinstance(map_error(Exception("Code: 62. DB::Exception: Syntax error")), QueryError)
    assert isinstance(map_error(Exception("Code: 60. DB::Exception: Unknown table")), QueryError)
    for text in ("Code: 243. DB::Exception: Cannot reserve 1.00 MiB, not enough space",
                 "Code: 252. DB::Exception: Too many parts (300)",
                 "Code: 241. DB::Exception: Memory limit (total) exceeded",
                 "Code: 1001. DB::Exception: std::exception: No space left on device"):
        err = map_error(Exception(text))
        assert isinstance(err, ClickHouseUnavailableError) and err.retriable, text
        assert err.code == int(text.split()[1].rstrip("."))


def test_bad_sql_is_a_permanent_query_error(store):
    with pytest.raises(QueryError) as info:
        store.select("SELEC 1")
    assert info.value.code == 62 and "Syntax error" in str(info.value) and str(info.value).startswith("Code: 62")
    assert not is_retriable(info.value)
    with pytest.raises(QueryError) as info:
        store.select("SELECT * FROM no_such_table")
    assert info.value.code == 60 and "no_such_table" in str(info.value)
    assert isinstance(info.value, PermanentError)


def test_unreachable_or_locked_clickhouse_is_a_retriable_error(store, url):
    with pytest.raises(ClickHouseUnavailableError) as info:
        ClickHouseStore("http://user:secret@127.0.0.1:1")
    assert "secret" not in str(info.value)
    assert is_retriable(info.value)
    # a second process on the data path this process holds cannot open it
    code = ("import sys\nfrom tables.clickhouse.store import ClickHouseStore\n"
            "from tables.clickhouse.connection import ClickHouseUnavailableError\n"
            f"try:\n    ClickHouseStore({url!r})\nexcept ClickHouseUnavailableError as e:\n"
            "    print('UNAVAILABLE', e.retriable, e); sys.exit(3)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "UNAVAILABLE True" in proc.stdout and "one process per data path" in proc.stdout


def test_http_url_parsing():
    kw = http_client_kwargs("https://ana%40lyst:p%3Ass@ch.example.com:9443")
    assert kw["host"] == "ch.example.com" and kw["port"] == 9443 and kw["secure"] is True
    assert kw["username"] == "ana@lyst" and kw["password"] == "p:ss"
    assert kw["autogenerate_session_id"] is False
    kw = http_client_kwargs("http://clickhouse")
    assert (kw["port"], kw["username"], kw["password"], kw["secure"]) == (8123, "default", "", False)
    kw = http_client_kwargs("https://ch.example.com?user=ro&password=x")
    assert (kw["port"], kw["username"], kw["password"]) == (8443, "ro", "x")
    with pytest.raises(ValueError) as info:
        http_client_kwargs("tcp://u:hidden@clickhouse:9000")
    assert "hidden" not in str(info.value)


def test_invalid_database_name_refused(url):
    with pytest.raises(ValueError):
        ClickHouseStore(url, "tv; DROP DATABASE x")


# ------------------------------------------------------------------------------ analyst SQL through the store


def test_query_goes_through_the_guard(store):
    for sql in ("INSERT INTO mentions (event_id) VALUES ('x')", "DROP TABLE mentions", "SELECT 1; DROP TABLE mentions",
                "SELECT * FROM file('/etc/hostname', 'LineAsString')", ""):
        with pytest.raises(UnsafeQueryError):
            store.query(sql)
    assert store.query("EXISTS TABLE mentions").rows == [(1,)]
    assert store.query("SELECT 1 AS one").rows == [(1,)]
    assert store.query("WITH 2 AS x SELECT x * 3 AS y").columns == ["y"]
    assert store.query("DESCRIBE TABLE mentions").rows
    assert store.query("SHOW TABLES").rows
    res = store.query("SELECT count() AS n FROM mentions FINAL")
    assert isinstance(res, QueryResult) and res.columns == ["n"]


def test_read_only_enforced_by_clickhouse_too(store):
    # the guard is input validation; the analysts' handle itself (readonly=2) refuses writes
    readonly = store.analyst.connect_readonly()  # what each analyst worker thread gets
    with pytest.raises(QueryError) as info:
        readonly.command(f"INSERT INTO {store.database}.brands (brand) VALUES ('x')")
    readonly.close()
    assert "readonly" in str(info.value).lower()
    assert store.select("SELECT count() FROM brands").rows == [(0,)]


def test_query_datetimes_are_utc_aware(store):
    res = store.query("SELECT toDateTime64('2026-02-01 00:00:01.5', 3, 'UTC') AS a, "
                      "toDateTime('2026-02-01 00:00:01', 'UTC') AS b")
    a, b = res.rows[0]
    assert a == datetime(2026, 2, 1, 0, 0, 1, 500_000, tzinfo=timezone.utc) and a.tzinfo is not None
    assert b == datetime(2026, 2, 1, 0, 0, 1, tzinfo=timezone.utc)
    c = store.select("SELECT CAST(NULL, 'Nullable(DateTime64(3, \\'UTC\\'))') AS c").rows[0][0]
    assert c is None


def test_analyst_queries_run(url):
    s = ClickHouseStore(url, "tv_queries")
    try:
        s.migrate()
        shift = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=50) - BASE
        rows = [m.model_copy(update={"posted_at": m.posted_at + shift}) for m in make_mentions(600)]
        s.insert_mentions(rows)
        s.insert_mentions(rows[:100])
        now = datetime.now(timezone.utc)
        s.insert_deadletters([DeadLetter(event_id="d1", reason="bad json", error_type="JSONDecodeError", raw="{",
                                         raw_size=1, source_topic="mentions.raw", source_partition=0,
                                         source_offset=1, received_at=now)])
        files = sorted((migrations_dir() / "queries").glob("*.sql"))
        assert len(files) >= 5
        results = {}
        for path in files:
            text = path.read_text(encoding="utf-8")
            assert text.startswith("--"), f"{path.name} needs a comment header"
            results[path.stem] = s.query(text)  # every shipped analyst query must pass the guard
        top = results["top_campaigns_last_hour"]
        assert top.rows and top.columns[0] == "campaign_id"
        expected_c1 = sum(1 for m in rows if "c1" in m.campaigns and m.posted_at >= now - timedelta(hours=1)
                          - timedelta(seconds=now.second, microseconds=now.microsecond))
        assert dict((r[0], r[1]) for r in top.rows)["c1"] == expected_c1
        assert sum(r[1] for r in results["platform_breakdown"].rows) == 600
        assert results["deadletters_by_reason"].rows[0][2] == 1
        assert sum(r[1] for r in results["sentiment_trend_per_minute"].rows) == 600
        engaged = [r[3] for r in results["most_engaged_negative_mentions"].rows]
        assert engaged and engaged == sorted(engaged, reverse=True)
    finally:
        s.close()


# ------------------------------------------------------------------------------ other records


def test_campaign_upserts_keep_latest(store):
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    store.upsert_campaigns([Campaign(campaign_id="spring", brand="acme", keywords=["봄"]),
                            Campaign(campaign_id="fall", brand="acme", query='"가을" AND 신상')], updated_at=t0)
    store.upsert_campaigns([Campaign(campaign_id="spring", brand="acme", keywords=["봄", "벚꽃"], active=False,
                                     starts_at=datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc))],
                           updated_at=t0 + timedelta(hours=1))
    # an older version arriving late loses
    store.upsert_campaigns([Campaign(campaign_id="spring", brand="acme", keywords=["old"])],
                           updated_at=t0 - timedelta(days=1))
    camps = {c.campaign_id: c for c in store.campaigns()}
    assert set(camps) == {"spring", "fall"}
    assert camps["spring"].keywords == ["봄", "벚꽃"] and camps["spring"].active is False
    assert camps["spring"].starts_at == datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)
    assert camps["fall"].query == '"가을" AND 신상'
    assert [c.campaign_id for c in store.campaigns(active_only=True)] == ["fall"]
    # without an explicit version, now wins over the past
    store.upsert_campaigns([Campaign(campaign_id="fall", brand="acme", keywords=["단풍"])])
    assert {c.campaign_id: c for c in store.campaigns()}["fall"].keywords == ["단풍"]


def test_deadletters_alerts_predictions(store):
    now = datetime(2026, 2, 1, 12, 0, tzinfo=timezone.utc)
    dl = [DeadLetter(event_id=f"d{i % 3}", reason="bad json", error_type="JSONDecodeError", raw="{oops",
                     raw_size=5, source_topic="mentions.raw", source_partition=0, source_offset=i, received_at=now)
          for i in range(6)]
    assert store.insert_deadletters(dl) == 6
    assert store.count_deadletters() == 3
    alert = Alert(alert_id="a1", campaign_id="c1", platform="*", kind="velocity", minute=now, count=120,
                  baseline_mean=10.0, baseline_std=3.0, zscore=36.7, sentiment_mean=-0.2, negative_share=0.4,
                  raised_at=now + timedelta(seconds=2), message="spike")
    assert store.insert_alerts([alert, alert]) == 2
    assert store.select("SELECT count() FROM alerts FINAL").rows == [(1,)]
    preds = [Prediction(prediction_id=f"p{i}", campaign_id="c1", made_at=now + timedelta(minutes=i), horizon_hours=24,
                        purchase_intent=0.4, brand_sentiment=0.1, viral_potential=0.7, confidence=0.6,
                        risks=["배송 지연"], opportunities=["바이럴"], mentions_used=100) for i in range(2)]
    assert store.insert_predictions(preds) == 2
    assert store.record_outcome("p0", purchase_intent=0.5, brand_sentiment=0.3, source="survey") is True
    assert store.record_outcome("nope", purchase_intent=0.5) is False
    got = {p["prediction_id"]: p for p in store.predictions("c1")}
    assert got["p0"]["actual_purchase_intent"] == pytest.approx(0.5)
    assert got["p0"]["actual_viral_potential"] is None and got["p0"]["actual_source"] == "survey"
    assert got["p0"]["actual_observed_at"].tzinfo is not None
    assert got["p0"]["risks"] == ["배송 지연"] and got["p1"]["actual_observed_at"] is None
    assert [p["prediction_id"] for p in store.predictions("c1")] == ["p1", "p0"]  # newest first
    # a second outcome keeps what the first set and was not given again
    assert store.record_outcome("p0", viral_potential=0.9) is True
    p0 = {p["prediction_id"]: p for p in store.predictions()}["p0"]
    assert p0["actual_purchase_intent"] == pytest.approx(0.5) and p0["actual_viral_potential"] == pytest.approx(0.9)
    assert store.select("SELECT count() FROM predictions FINAL").rows == [(2,)]
    acc = store.select("SELECT predictions, with_outcome, mae_purchase_intent FROM prediction_accuracy "
                       "WHERE campaign_id = 'c1'").rows
    assert acc[0][0] == 2 and acc[0][1] == 1 and acc[0][2] == pytest.approx(0.1)


def test_ping_and_close(url):
    s = ClickHouseStore(url, "tv_ping")
    assert s.ping() is True
    s.close()
    s.close()  # twice is harmless


def test_an_incident_explanation_counts_each_post_once(loaded, mentions):
    """The explanation reads before the replays are merged away: a re-delivered post is one post."""
    from tables.incidents import explain

    start = minute_of(BASE) + 30 * 60
    end = start + 20 * 60
    inside = [m for m in mentions if start <= m.posted_at.timestamp() < end and "c1" in m.campaigns]
    assert loaded.conn.select(f"SELECT count() > uniqExact(event_id) FROM {loaded.database}.mentions").rows[0][0]
    out = explain(loaded, "c1", start, end)
    assert out.mentions == len(inside) > 0
    assert out.negative_share == pytest.approx(sum(m.sentiment_label == "negative" for m in inside) / len(inside))
    assert out.sentiment_mean == pytest.approx(sum(m.sentiment for m in inside) / len(inside), abs=1e-6)
