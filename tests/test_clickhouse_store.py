"""ClickHouseStore against a real embedded chdb engine (no mocks).

chdb hosts one engine path per process, so the whole module shares one data directory and
isolates tests by database name instead.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest

from schemas.records import PLATFORMS, Alert, Campaign, DeadLetter, Prediction, ScoredMention
from streams.clickhouse_store import (
    ALL_CAMPAIGNS,
    AsyncClickHouseStore,
    ClickHouseStore,
    QueryError,
    QueryResult,
    ReadOnlyQueryError,
    check_read_only,
    format_table,
    split_statements,
)

# Straddles a month boundary, so partitions 202601 and 202602 both get rows (and duplicates).
BASE = datetime(2026, 1, 31, 23, 55, 0, 250_000, tzinfo=timezone.utc)
N = 3000
LABELS = ("negative", "neutral", "positive")


def make_mentions(n: int = N) -> list[ScoredMention]:
    rows = []
    for i in range(n):
        label = LABELS[(i * 7) % 3]
        sentiment = ((i * 37) % 200 - 100) / 100.0
        campaigns = [[], ["c1"], ["c1", "c2"], ["c2", "c2"], ["c3"]][i % 5]
        rows.append(ScoredMention(
            platform=PLATFORMS[i % 5],
            post_id=f"post-{i}",
            url=f"https://example.com/{i}",
            author={"id": f"u{i % 97}", "handle": f"@h{i % 97}", "followers": i * 3,
                    "created_at": date(2020, 1, 1) if i % 2 else None, "verified": i % 11 == 0},
            text=f"존맛 ㅋㅋ 내돈내산 {i}; it's 'quoted'",
            lang="ko",
            media_urls=[f"https://img.example.com/{i}.jpg"] if i % 4 == 0 else [],
            hashtags=["신상", "ad"][: i % 3],
            engagement={"likes": i % 50, "comments": i % 7, "shares": i % 3, "views": i},
            posted_at=BASE + timedelta(milliseconds=2_345 * i),  # ~2 hours, ~26 per minute
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
            scored_at=BASE if i % 3 else None,
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


# ------------------------------------------------------------------------------ migrations


def test_migrate_is_idempotent(url):
    s = ClickHouseStore(url, "tv_migrate")
    try:
        first = s.migrate()
        assert first == ["001_tables.sql", "002_views.sql"]
        assert s.migrate() == []
        assert s.applied_migrations() == ["001_tables.sql", "002_views.sql"]
        tables = {r[0] for r in s.query("SHOW TABLES").rows}
        for name in ("brands", "campaigns", "mentions", "deadletter", "alerts", "predictions", "meme_analysis",
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
        engine = s.query("SELECT engine, partition_key, sorting_key FROM system.tables "
                         "WHERE database = 'tv_migrate' AND name = 'mentions'").rows[0]
        assert engine[0] == "ReplacingMergeTree"
        assert "toYYYYMM(posted_at)" in engine[1]
        assert "event_id" in engine[2]
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


# ------------------------------------------------------------------------------ replays are exact


def test_count_mentions_exact_after_replay(loaded):
    assert loaded.count_mentions() == N
    raw = loaded.query("SELECT count() FROM mentions").rows[0][0]
    assert raw >= N  # duplicates may still sit in unmerged parts
    assert loaded.query("SELECT count() FROM mentions FINAL").rows[0][0] == N
    since = BASE + timedelta(minutes=30)
    expected = sum(1 for m in make_mentions() if m.posted_at >= since)
    assert loaded.count_mentions(since=since) == expected


def test_exact_minute_view_matches_python(loaded, mentions):
    expected = python_windows(mentions + mentions[: N // 3])
    res = loaded.query(
        "SELECT campaign_id, platform, toUnixTimestamp(minute), mention_count, negatives, positives, neutrals, "
        "credible, toxic, sentiment_sum FROM campaign_minute_stats"
    )
    got = {(c, p, int(m)): row for c, p, m, *row in res.rows}
    assert set(got) == set(expected)
    for key, (n, neg, pos, neu, cred, tox, ssum) in got.items():
        e = expected[key]
        assert (n, neg, pos, neu, cred, tox) == (e["count"], e["negative"], e["positive"], e["neutral"],
                                                 e["credible"], e["toxic"]), key
        assert ssum == pytest.approx(e["sentiment_sum"], abs=1e-6)
    # the brand-wide pseudo-campaign holds every mention once
    total_star = sum(r[3] for r in res.rows if r[0] == ALL_CAMPAIGNS)
    assert total_star == N


def test_mv_distinct_counts_exact_after_replay(loaded, mentions):
    expected = python_windows(mentions)
    res = loaded.query(
        "SELECT campaign_id, platform, toUnixTimestamp(minute), mention_count, negatives, positives, neutrals, "
        "credible, toxic, rows_inserted FROM campaign_minute_stats_mv"
    )
    got = {(c, p, int(m)): row for c, p, m, *row in res.rows}
    assert set(got) == set(expected)
    replayed_rows = 0
    for key, (n, neg, pos, neu, cred, tox, rows_inserted) in got.items():
        e = expected[key]
        assert (n, neg, pos, neu, cred, tox) == (e["count"], e["negative"], e["positive"], e["neutral"],
                                                 e["credible"], e["toxic"]), key
        replayed_rows += rows_inserted - n
    assert replayed_rows > 0  # the replays really reached the MV, and were not counted


def test_day_views_exact_and_agree(loaded, mentions):
    by_day: dict[tuple[str, str, date], int] = defaultdict(int)
    for m in mentions:
        for c in {ALL_CAMPAIGNS, *m.campaigns}:
            by_day[(c, m.platform, m.posted_at.date())] += 1
    exact = {(c, p, d): n for c, p, d, n in
             loaded.query("SELECT campaign_id, platform, day, mention_count FROM campaign_day_stats").rows}
    mv = {(c, p, d): n for c, p, d, n in
          loaded.query("SELECT campaign_id, platform, day, mention_count FROM campaign_day_stats_mv").rows}
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
        assert (w.count, w.negative, w.positive, w.credible, w.toxic) == (
            e["count"], e["negative"], e["positive"], e["credible"], e["toxic"]), key
        assert w.sentiment_sum == pytest.approx(e["sentiment_sum"], abs=1e-6)
        assert w.purchase_intent_sum == pytest.approx(e["purchase_intent_sum"], abs=1e-6)
        assert w.rebuild is True
    assert {w.campaign_id for w in rows} == {ALL_CAMPAIGNS, "c1", "c2", "c3"}
    assert [w.minute for w in rows] == sorted(w.minute for w in rows)
    until = since + timedelta(minutes=5)
    bounded = loaded.window_rows(since, until)
    assert bounded and all(floor <= w.minute < minute_of(until) + 60 for w in bounded)


def test_stored_values_round_trip(loaded, mentions):
    m = mentions[11]
    res = loaded.query(
        "SELECT platform, post_id, author_id, author_handle, author_created_at, author_followers, author_verified, "
        "text, media_urls, hashtags, likes, views, toUnixTimestamp64Milli(posted_at), campaigns, sentiment_label, "
        "sentiment_positive, toxic, slang_terms, isNull(scored_at) AS scored_null "
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
    assert row["toUnixTimestamp64Milli(posted_at)"] == int(m.posted_at.timestamp() * 1000)
    assert row["campaigns"] == m.campaigns and row["sentiment_label"] == m.sentiment_label
    assert row["sentiment_positive"] == pytest.approx(0.5)
    assert row["toxic"] == m.toxic and row["slang_terms"] == m.slang_terms
    assert row["scored_null"] == (m.scored_at is None)


# ------------------------------------------------------------------------------ query safety


@pytest.mark.parametrize("sql", [
    "INSERT INTO mentions (event_id) VALUES ('x')",
    "DROP TABLE mentions",
    "drop table if exists mentions",
    "SELECT 1; DROP TABLE mentions",
    "TRUNCATE TABLE mentions",
    "ALTER TABLE mentions DELETE WHERE 1",
    "SET readonly = 0",
    "OPTIMIZE TABLE mentions FINAL",
    "/* sneaky */ CREATE TABLE x (a Int8) ENGINE = Memory",
    "",
])
def test_read_only_rejects_writes(store, sql):
    with pytest.raises(ReadOnlyQueryError) as info:
        store.query(sql)
    assert str(info.value)
    assert isinstance(info.value, QueryError)  # an HTTP layer can catch QueryError alone
    assert store.query("EXISTS TABLE mentions").rows == [(1,)]


def test_read_only_enforced_by_clickhouse_too(store):
    # the statement check passes (it is a SELECT); ClickHouse's readonly=2 handle refuses the write
    ro = store._readonly_client()
    with pytest.raises(Exception) as info:
        ro.command("INSERT INTO mentions (event_id) VALUES ('x')")
    assert "readonly" in str(info.value).lower()
    with pytest.raises(ReadOnlyQueryError):
        check_read_only("WITH 1 AS x SELECT x; SELECT 2")


def test_read_queries_allowed(store):
    assert store.query("SELECT 1 AS one").rows == [(1,)]
    assert store.query("-- comment first\nSELECT {n:UInt32} + 1 AS v;", {"n": 41}).rows == [(42,)]
    assert store.query("WITH 2 AS x SELECT x * 3 AS y").columns == ["y"]
    assert store.query("(SELECT 5)").rows == [(5,)]
    assert store.query("SELECT count() FROM numbers(10) SETTINGS max_threads = 1").rows == [(10,)]
    assert store.query("DESCRIBE TABLE mentions").rows
    assert store.query("EXPLAIN SELECT 1").rows
    assert store.query("SHOW TABLES").rows


def test_syntax_error_raises_query_error_with_clickhouse_message(store):
    with pytest.raises(QueryError) as info:
        store.query("SELECT (1 + FROM mentions")
    assert "Syntax error" in str(info.value) and str(info.value).startswith("Code: 62")
    assert info.value.code == 62 and not isinstance(info.value, ReadOnlyQueryError)
    with pytest.raises(QueryError) as info:
        store.query("SELEC 1", read_only=False)
    assert "Syntax error" in str(info.value) and info.value.code == 62
    with pytest.raises(QueryError) as info:
        store.query("SELECT * FROM no_such_table")
    assert info.value.code == 60 and "no_such_table" in str(info.value)
    with pytest.raises(QueryError) as info:
        store.query("SELECT (1 +", read_only=False)
    assert info.value.code == 62


def test_write_query_when_not_read_only(url):
    s = ClickHouseStore(url, "tv_writes")
    try:
        s.migrate()
        s.query("INSERT INTO brands (brand, name) VALUES ('acme', 'Acme; Inc')", read_only=False)
        assert s.query("SELECT name FROM brands FINAL").rows == [("Acme; Inc",)]
        with pytest.raises(QueryError):
            s.query("SELECT 1; SELECT 2", read_only=False)
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
    store.insert_alerts([alert, alert])
    assert store.query("SELECT count() FROM alerts FINAL").rows == [(1,)]
    preds = [Prediction(prediction_id=f"p{i}", campaign_id="c1", made_at=now + timedelta(minutes=i), horizon_hours=24,
                        purchase_intent=0.4, brand_sentiment=0.1, viral_potential=0.7, confidence=0.6,
                        risks=["배송 지연"], opportunities=["바이럴"], mentions_used=100) for i in range(2)]
    store.insert_predictions(preds)
    assert store.record_outcome("p0", purchase_intent=0.5, brand_sentiment=0.3, source="survey") is True
    assert store.record_outcome("nope", purchase_intent=0.5) is False
    got = {p["prediction_id"]: p for p in store.predictions("c1")}
    assert got["p0"]["actual_purchase_intent"] == pytest.approx(0.5)
    assert got["p0"]["actual_viral_potential"] is None
    assert got["p0"]["risks"] == ["배송 지연"] and got["p1"]["actual_observed_at"] is None
    acc = store.query("SELECT predictions, with_outcome, mae_purchase_intent FROM prediction_accuracy "
                      "WHERE campaign_id = 'c1'").rows
    assert acc[0][0] == 2 and acc[0][1] == 1 and acc[0][2] == pytest.approx(0.1)
    store.insert_meme_analysis([{"event_id": "e1", "posted_at": now, "template": "drake", "score": 0.9,
                                 "caption": "ㅋㅋㅋ"}] * 2)
    assert store.query("SELECT template, caption FROM meme_analysis FINAL").rows == [("drake", "ㅋㅋㅋ")]


# ------------------------------------------------------------------------------ async + formatting


async def test_async_methods_run_off_the_event_loop(loaded):
    loop_thread = threading.get_ident()
    threads: set[int] = set()
    res = await loaded.aquery("SELECT uniqExact(event_id) FROM mentions")
    assert res.rows == [(N,)]
    assert await loaded.acount_mentions() == N
    await loaded._in_thread(lambda: threads.add(threading.get_ident()))
    assert threads and loop_thread not in threads
    # concurrent calls are serialised on the one worker thread, none stalls the loop
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    t = asyncio.create_task(ticker())
    results = await asyncio.gather(*(loaded.aquery("SELECT count() FROM mentions FINAL") for _ in range(4)))
    t.cancel()
    assert all(r.rows == [(N,)] for r in results) and ticks > 0
    with pytest.raises(ReadOnlyQueryError):
        await loaded.aquery("DROP TABLE mentions")
    a = AsyncClickHouseStore.wrap(loaded)
    assert (await a.window_rows(BASE + timedelta(hours=3))) == []
    assert await a.count_mentions() == N


def test_format_table_aligns_korean_and_numbers():
    res = QueryResult(["campaign", "n", "avg"], [("봄 캠페인", 12, 0.5), ("fall", 3, None)])
    text = format_table(res)
    lines = text.splitlines()
    assert lines[-1] == "2 rows"
    body = [line for line in lines if line.startswith("|")]
    assert len(body) == 3
    # every row has the same display width (Hangul counts double)
    import unicodedata

    def width(s: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in s)

    assert len({width(line) for line in lines[:-1]}) == 1
    assert "|  3 |" in text and "NULL" in text


@pytest.mark.parametrize("sql", [
    "SELECT * FROM file('/etc/hostname', 'LineAsString')",
    "SELECT file('/etc/hostname')",
    "SELECT * FROM `url`('http://127.0.0.1:1/x', 'LineAsString')",
    "SELECT * FROM s3('http://127.0.0.1:1/b/x.csv')",
    "SELECT * FROM remote('127.0.0.1', system.one)",
    "SELECT * FROM executable('ls', 'TSV', 'x String')",
    "SELECT * FROM numbers(1) INTO OUTFILE '/tmp/tv_should_not_exist.tsv'",
    "SELECT sleepEachRow(3) FROM numbers(100)",
])
def test_read_only_rejects_functions_reaching_outside(store, sql):
    with pytest.raises(ReadOnlyQueryError):
        store.query(sql)


def test_read_only_allows_those_words_as_names_and_strings(store):
    assert store.query("SELECT 'file(' AS url, 1 AS remote").rows == [("file(", 1)]


def test_analyst_queries_run(url):
    from streams.clickhouse_store import MIGRATIONS_DIR

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
        files = sorted((MIGRATIONS_DIR / "queries").glob("*.sql"))
        assert len(files) >= 5
        results = {}
        for path in files:
            text = path.read_text(encoding="utf-8")
            assert text.startswith("--"), f"{path.name} needs a comment header"
            results[path.stem] = s.query(text)  # read-only: every analyst query must pass the check
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
        print(format_table(results["platform_breakdown"]))
    finally:
        s.close()


def test_http_url_parsing():
    from streams.clickhouse_store import http_client_kwargs

    kw = http_client_kwargs("https://ana%40lyst:p%3Ass@ch.example.com:9443")
    assert kw["host"] == "ch.example.com" and kw["port"] == 9443 and kw["secure"] is True
    assert kw["username"] == "ana@lyst" and kw["password"] == "p:ss"
    assert kw["autogenerate_session_id"] is False
    kw = http_client_kwargs("http://clickhouse")
    assert (kw["port"], kw["username"], kw["password"], kw["secure"]) == (8123, "default", "", False)
    with pytest.raises(ValueError):
        http_client_kwargs("tcp://clickhouse:9000")


def test_query_datetimes_are_utc_aware(store):
    res = store.query("SELECT toDateTime64('2026-02-01 00:00:01.5', 3, 'UTC') AS a, "
                      "toDateTime('2026-02-01 00:00:01', 'UTC') AS b, CAST(NULL, 'Nullable(DateTime64(3, \\'UTC\\'))') AS c")
    a, b, c = res.rows[0]
    assert a == datetime(2026, 2, 1, 0, 0, 1, 500_000, tzinfo=timezone.utc) and a.tzinfo is not None
    assert b == datetime(2026, 2, 1, 0, 0, 1, tzinfo=timezone.utc)
    assert c is None


def test_unreachable_or_locked_clickhouse_is_a_clear_error(store, url):
    import subprocess
    import sys
    from pathlib import Path

    from streams.clickhouse_store import ClickHouseUnavailableError

    with pytest.raises(ClickHouseUnavailableError) as info:
        ClickHouseStore("http://user:secret@127.0.0.1:1")
    assert "secret" not in str(info.value)
    # a second process on the data path this process holds cannot open it
    code = ("import sys\nfrom streams.clickhouse_store import ClickHouseStore, ClickHouseUnavailableError\n"
            f"try:\n    ClickHouseStore({url!r})\nexcept ClickHouseUnavailableError as e:\n"
            "    print('UNAVAILABLE', e); sys.exit(3)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parent.parent)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "one process per data path" in proc.stdout

