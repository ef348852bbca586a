"""tables.clickhouse.guard: the read-only SQL check (sqlglot allow-list + ClickHouse's own parser).

Real chdb (no mocks) for the EXPLAIN AST layer and for running what the guard returns. chdb hosts
one engine path per process, so the module shares one data directory and closes it at the end.
"""

from __future__ import annotations

from datetime import datetime

import clickhouse_connect
import pytest

from schemas.errors import PermanentError
from tables.clickhouse import guard
from tables.clickhouse.guard import (
    SAFE_TABLE_FUNCTIONS,
    UnsafeQueryError,
    chdb_explain_ast,
    check_query,
)

DB = "truevoice"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    c = clickhouse_connect.get_client(dsn=f"chdb://{tmp_path_factory.mktemp('guard_chdb')}")
    c.command(f"CREATE DATABASE IF NOT EXISTS {DB}")
    c.command(
        f"CREATE TABLE {DB}.mentions (event_id String, brand String, text String, posted_at DateTime, "
        "sentiment Float32, hashtags Array(String), likes UInt32) "
        "ENGINE = ReplacingMergeTree ORDER BY event_id"
    )
    c.command(f"CREATE TABLE {DB}.alerts (brand String, kind String) ENGINE = MergeTree ORDER BY brand")
    c.command(f"CREATE TABLE {DB}.watchlist (brand String) ENGINE = MergeTree ORDER BY brand")
    c.command(f"CREATE VIEW {DB}.brand_counts AS SELECT brand, count() AS n FROM {DB}.mentions GROUP BY brand")
    rows = [
        ("e1", "삼성", "존맛 ㅋㅋ", datetime(2026, 1, 1, 10, 0, 5), 0.5, ["신상", "ad"], 3),
        ("e2", "삼성", "it's 'quoted'", datetime(2026, 1, 1, 10, 0, 50), -0.5, ["ad"], 1),
        ("e3", "acme", "meh", datetime(2026, 1, 1, 10, 1, 10), 0.0, [], 0),
        ("e1", "삼성", "존맛 ㅋㅋ", datetime(2026, 1, 1, 10, 0, 5), 0.5, ["신상", "ad"], 3),  # duplicate (FINAL)
    ]
    c.insert(f"{DB}.mentions", rows,
             column_names=["event_id", "brand", "text", "posted_at", "sentiment", "hashtags", "likes"])
    c.insert(f"{DB}.alerts", [("acme", "spike")], column_names=["brand", "kind"])
    yield c
    c.close()


@pytest.fixture(scope="module")
def explain(client):
    return chdb_explain_ast(client)


def check(sql: str, explain=None) -> str:
    return check_query(sql, database=DB, explain_ast=explain)


# --------------------------------------------------------------------------- accepted

ACCEPTED = [
    "SELECT * FROM mentions FINAL WHERE brand = '삼성' LIMIT 10",
    "SELECT brand, count() AS n FROM mentions FINAL GROUP BY brand ORDER BY n DESC",
    "SELECT toStartOfMinute(posted_at) AS m, count() FROM mentions GROUP BY m ORDER BY m",
    "WITH c AS (SELECT brand FROM mentions WHERE likes > 0) SELECT count() FROM c",
    "WITH 2 AS x SELECT x * 3 AS y",
    "SELECT * FROM (SELECT brand, likes FROM mentions) AS s WHERE s.likes > 1",
    "SELECT (SELECT max(likes) FROM mentions) AS top",
    "SELECT brand FROM mentions UNION ALL SELECT brand FROM alerts",
    "SELECT m.brand, a.kind FROM mentions AS m JOIN alerts AS a ON m.brand = a.brand",
    "SELECT m.brand, a.kind FROM mentions AS m LEFT JOIN truevoice.alerts AS a USING brand",
    "SELECT event_id, tag FROM mentions ARRAY JOIN hashtags AS tag",
    "SELECT arrayJoin(hashtags) AS tag, count() FROM mentions GROUP BY tag",
    "SELECT event_id, row_number() OVER (PARTITION BY brand ORDER BY posted_at) AS rn FROM mentions",
    "SELECT * FROM numbers(10)",
    "SELECT sum(number) FROM numbers(10)",
    "SELECT count() FROM zeros(5)",
    "SELECT * FROM generateSeries(1, 3)",
    "SELECT * FROM generate_series(1, 3)",
    "SELECT * FROM values('a UInt8, b String', (1, 'x'), (2, 'y'))",
    "SELECT brand FROM mentions WHERE brand IN (SELECT brand FROM alerts)",
    "SELECT brand FROM mentions WHERE brand IN ('삼성', 'acme')",
    "SELECT brand FROM mentions WHERE brand IN truevoice.watchlist",
    "SELECT brand FROM mentions WHERE brand IN watchlist",
    "SELECT 5 IN tuple(1, 5), 5 IN (1, 5)",
    "WITH a AS (SELECT 1 AS x), b AS (SELECT x FROM a) SELECT * FROM b UNION ALL SELECT x FROM a",
    "WITH a AS (SELECT 1 AS x) SELECT * FROM (SELECT * FROM a)",
    "SELECT * FROM brand_counts",
    "SELECT text FROM mentions WHERE text ILIKE '%존맛%'",
    "SELECT 'it''s', 'a\\'b', $$dollar 'quoted'$$, $tag$with ; inside$tag$",
    "SELECT brand, count() FROM mentions GROUP BY brand WITH TOTALS",
    "SELECT brand FROM mentions LIMIT 1 BY brand",
    "SELECT * EXCEPT (text) FROM mentions",
    "-- comment first\nSELECT 1 AS one; ",
    "/* block */ SELECT 1",
    "(SELECT 5)",
    "SELECT 1 AS 건수",
    "SELECT {n:UInt32} + 1",
    "SHOW TABLES",
    "show tables from truevoice like 'm%' limit 5",
    "SHOW CREATE TABLE mentions",
    "SHOW CREATE TABLE truevoice.mentions",
    "SHOW COLUMNS FROM mentions",
    "DESCRIBE mentions",
    "DESC TABLE truevoice.mentions",
    "DESCRIBE (SELECT brand, likes FROM mentions)",
    "DESCRIBE numbers(3)",
    "EXPLAIN SELECT count() FROM mentions",
    "EXPLAIN SYNTAX SELECT * FROM mentions WHERE likes > 1",
    "EXPLAIN PLAN SELECT 1",
    "EXPLAIN PIPELINE SELECT * FROM numbers(3)",
    "EXPLAIN AST SELECT 1",
    "EXPLAIN QUERY TREE SELECT 1",
    "EXISTS TABLE mentions",
    "EXISTS mentions",
]


@pytest.mark.parametrize("sql", ACCEPTED)
def test_accepted_queries_run(sql, client, explain):
    canonical = check(sql, explain)
    assert canonical == check(canonical)  # the canonical text is a fixed point
    if "{n:" in sql:
        client.query(canonical, parameters={"n": 41})
    else:
        client.query(canonical)  # what is returned runs as is


def test_returned_sql_gives_the_right_answer(client, explain):
    sql = check(
        "select brand, count() as n, sum(likes) AS likes -- per brand\n"
        "FROM mentions FINAL WHERE brand = $$삼성$$ AND text != 'it\\'s' GROUP BY brand;",
        explain,
    )
    assert "truevoice.mentions" in sql and "--" not in sql and "$$" not in sql
    assert client.query(sql).result_rows == [("삼성", 2, 4)]

    per_minute = check("SELECT toStartOfMinute(posted_at) AS m, count() AS c FROM mentions FINAL GROUP BY m ORDER BY m")
    assert client.query(per_minute).result_rows == [
        (datetime(2026, 1, 1, 10, 0), 2), (datetime(2026, 1, 1, 10, 1), 1)]

    cte = check("WITH t AS (SELECT arrayJoin(hashtags) AS tag FROM mentions FINAL) SELECT tag, count() FROM t "
                "GROUP BY tag ORDER BY tag")
    assert client.query(cte).result_rows == [("ad", 2), ("신상", 1)]

    assert client.query(check("SELECT count() FROM numbers(10)")).result_rows == [(10,)]
    assert client.query(check("SELECT {n:UInt32} + 1 AS v"), parameters={"n": 41}).result_rows == [(42,)]
    assert client.query(check("EXISTS TABLE mentions")).result_rows == [(1,)]
    assert {r[0] for r in client.query(check("SHOW TABLES")).result_rows} == {"mentions", "alerts", "watchlist", "brand_counts"}
    assert [r[0] for r in client.query(check("DESCRIBE mentions")).result_rows][:2] == ["event_id", "brand"]


@pytest.mark.parametrize("sql, value", [
    ("SELECT $$it's; DROP TABLE mentions$$ AS s", "it's; DROP TABLE mentions"),
    ("SELECT $tag$'; SELECT * FROM file('/etc/passwd') --$tag$ AS s", "'; SELECT * FROM file('/etc/passwd') --"),
    ("SELECT 'x\\' FROM file(\\'/etc/passwd\\') -- ' AS s", "x' FROM file('/etc/passwd') -- "),
    ("SELECT 'a'', file(''/etc/passwd'')' AS s", "a', file('/etc/passwd')"),
    ("SELECT '/* ; */ system.users' AS s", "/* ; */ system.users"),
    ("SELECT 'x\\\\' AS s", "x\\"),
])
def test_tricks_that_are_only_string_literals(sql, value, client, explain):
    """Quotes that a scanner gets wrong: the parser sees one literal, and so does ClickHouse."""
    canonical = check(sql, explain)
    assert not canonical.startswith("SELECT $")
    assert client.query(canonical).result_rows == [(value,)]


def test_explain_layer_runs_on_the_returned_text(client):
    seen = []
    real = chdb_explain_ast(client)

    def recording(sql):
        seen.append(sql)
        return real(sql)

    out = check("SELECT count() FROM mentions WHERE likes > {n:UInt8}", recording)
    assert out == "SELECT count() FROM truevoice.mentions WHERE likes > {n: UInt8}"
    assert seen == ["SELECT count() FROM truevoice.mentions WHERE likes > NULL"]  # value parameter -> NULL
    lines = real("SELECT 1")
    assert lines and lines[0].startswith("SelectWithUnionQuery") and lines[-1].strip() != "Identifier Native"


# --------------------------------------------------------------------------- hostile

OUTSIDE = ["file", "url", "s3", "remote", "executable", "merge", "cluster"]
CASE_FORMS = [lambda f: f, str.upper, str.capitalize, lambda f: f"`{f}`", lambda f: f'"{f}"']

HOSTILE = [
    # table functions in every case form, quoted and backquoted
    *[f"SELECT * FROM {form(fn)}('/etc/passwd')" for fn in OUTSIDE for form in CASE_FORMS],
    *[f"SELECT * FROM {fn}('x')" for fn in ("mysql", "input", "loop", "dictionary", "view", "python",
                                            "generateRandom", "null", "remoteSecure", "s3Cluster", "hdfs",
                                            "postgresql", "sqlite", "jdbc", "odbc", "azureBlobStorage",
                                            "icebergLocal", "mergeTreeIndex", "format", "primes", "fuzzQuery")],
    "SELECT * FROM NUMBERS(10)",  # table function names are case-sensitive: only the listed spellings
    # comments
    "SELECT * FROM fi/**/le('/etc/passwd')",
    "SELECT * FROM mentions AS m('/etc/passwd')",
    "SELECT * FROM file/**/('/etc/passwd')",
    "SELECT * FROM file -- x\n('/etc/passwd')",
    "SELECT 1 -- harmless\n; SELECT * FROM file('/etc/passwd')",
    "SELECT /* ; */ * FROM file('/etc/passwd')",
    "SELECT 1 /* ; */; DROP TABLE mentions",
    "SELECT * FROM numbers(1) -- x\nUNION ALL SELECT * FROM url('http://evil/', CSV, 'a String')",
    # dollar quotes, heredocs, backslashes, doubled quotes around the real call
    "SELECT $$'$$, * FROM file('/etc/passwd')",
    "SELECT $tag$;'$tag$ AS a, * FROM file('/etc/passwd')",
    "SELECT '$$', file('/etc/passwd'), '$$'",
    "SELECT $$a$$; SELECT * FROM file('/etc/passwd')",
    "SELECT 'a\\'', file('/etc/passwd') --'",
    "SELECT 'a''', file('/etc/passwd')",
    "SELECT 'a\\\\', file('/etc/passwd') --'",
    # Unicode look-alikes
    "SELECT * FROM ｆｉｌｅ('/etc/passwd')",
    "SELECT ｆｉｌｅ('/etc/passwd')",
    "SELECT * FROM fіle('/etc/passwd')",   # Cyrillic і
    "SELECT fіle('/etc/passwd')",
    "SELECT * FROM url('http://еvil/', CSV)",  # Cyrillic е, but url() anyway
    "SELECT * FROM sуstem.tables",  # Cyrillic у: another database all the same
    # aliases, subqueries, CTEs, joins
    "SELECT * FROM file('/etc/passwd') AS t",
    "SELECT t.* FROM url('http://evil/', CSV) t",
    "SELECT * FROM (SELECT * FROM file('/etc/passwd'))",
    "WITH t AS (SELECT * FROM file('/etc/passwd')) SELECT * FROM t",
    "SELECT (SELECT count() FROM s3('http://evil/x'))",
    "SELECT 1 WHERE 1 IN (SELECT * FROM remote('127.0.0.1', system.one))",
    "SELECT * FROM mentions JOIN file('/etc/passwd') USING brand",
    "SELECT * FROM mentions, url('http://evil/', CSV)",
    # EXPLAIN
    "EXPLAIN SELECT * FROM file('/etc/passwd')",
    "EXPLAIN SYNTAX SELECT * FROM file('/etc/passwd')",
    "EXPLAIN PIPELINE SELECT * FROM url('http://evil/', CSV)",
    "EXPLAIN AST SELECT * FROM system.tables",
    "EXPLAIN QUERY TREE SELECT file('/etc/passwd')",
    "EXPLAIN indexes = 1 SELECT 1",
    "EXPLAIN SELECT 1 SETTINGS readonly = 0",
    "EXPLAIN INSERT INTO mentions SELECT * FROM mentions",
    "EXPLAIN EXPLAIN SELECT 1",
    "EXPLAIN SHOW GRANTS",
    "EXPLAIN",
    # DESCRIBE
    "DESCRIBE file('/etc/passwd')",
    "DESC url('http://evil/', CSV)",
    "DESCRIBE TABLE system.tables",
    "DESCRIBE (SELECT * FROM file('/etc/passwd'))",
    "DESCRIBE mentions FORMAT JSON",
    "DESCRIBE mentions SETTINGS describe_include_subcolumns = 1",
    # FORMAT, INTO OUTFILE, SETTINGS
    "SELECT 1 FORMAT JSON",
    "SELECT 1 FORMAT TSV;",
    "SELECT * FROM mentions INTO OUTFILE '/tmp/x'",
    "SELECT * FROM mentions ORDER BY brand INTO OUTFILE '/tmp/x'",
    "SELECT * FROM mentions INTO OUTFILE '/tmp/x' AND STDOUT",
    "SELECT * FROM mentions INTO OUTFILE '/tmp/x' TRUNCATE",
    "SELECT * FROM mentions INTO OUTFILE '/tmp/x' APPEND",
    "SELECT 1 LIMIT 1 INTO OUTFILE '/tmp/x.gz' COMPRESSION 'gzip'",
    "select 1 into outfile '/tmp/x' format CSV",
    "SELECT 1 UNION ALL SELECT 2 INTO OUTFILE '/tmp/x'",
    "SELECT 1 INTO x",
    "SELECT 1 SETTINGS readonly = 0",
    "SELECT 1 SETTINGS max_execution_time = 0, max_result_rows = 0",
    "SELECT * FROM (SELECT 1 SETTINGS readonly = 0)",
    "SELECT 1 UNION ALL SELECT 2 SETTINGS readonly = 0",
    "SELECT * FROM mentions FOR UPDATE",
    # more than one statement
    "SELECT 1; SELECT 2",
    "SELECT 1; DROP TABLE mentions",
    "SELECT 1;; SELECT 2",
    # not a read
    "INSERT INTO mentions (event_id) VALUES ('x')",
    "INSERT INTO FUNCTION file('/tmp/x', CSV) SELECT 1",
    "CREATE TABLE x (a UInt8) ENGINE = Memory",
    "CREATE TEMPORARY TABLE x (a UInt8)",
    "DROP TABLE mentions",
    "ALTER TABLE mentions DELETE WHERE 1",
    "DELETE FROM mentions WHERE 1",
    "UPDATE mentions SET likes = 0 WHERE 1",
    "TRUNCATE TABLE mentions",
    "RENAME TABLE mentions TO m2",
    "SYSTEM FLUSH LOGS",
    "SYSTEM SHUTDOWN",
    "KILL QUERY WHERE 1",
    "OPTIMIZE TABLE mentions FINAL",
    "SET readonly = 0",
    "USE system",
    "GRANT ALL ON *.* TO default",
    "ATTACH TABLE x",
    "DETACH TABLE mentions",
    "BACKUP TABLE mentions TO Disk('default', 'b')",
    "WATCH mentions",
    "VALUES (1)",
    # other databases
    "SELECT * FROM system.tables",
    "SELECT * FROM `system`.`users`",
    'SELECT * FROM "system"."users"',
    "SELECT * FROM SYSTEM.TABLES",
    "SELECT * FROM INFORMATION_SCHEMA.TABLES",
    "SELECT * FROM information_schema.columns",
    "SELECT * FROM default.secrets",
    "SELECT * FROM a.b.c",
    "SELECT * FROM mentions JOIN system.users AS u ON 1 = 1",
    "WITH t AS (SELECT * FROM system.users) SELECT * FROM t",
    "SELECT brand FROM mentions WHERE brand IN system.users",
    "SELECT brand FROM mentions WHERE brand NOT IN system.users",
    "SELECT brand FROM mentions WHERE brand GLOBAL IN system.users",
    "SELECT brand FROM mentions WHERE brand IN (system.users)",
    "SELECT globalIn(brand, system.users) FROM mentions",
    "SELECT notIn(brand, system.users) FROM mentions",
    "SELECT in(brand, system.users) FROM mentions",
    "SELECT 'root' IN file('/etc/passwd', 'LineAsString')",
    "SELECT 1 IN url('http://evil/', 'CSV', 'a UInt8')",
    "SELECT 1 IN remote('127.0.0.1', system.one)",
    "SELECT globalIn(1, url('http://evil/', 'CSV', 'a UInt8'))",
    "SELECT url('http://evil/')",  # a table function's name as a scalar
    "SELECT * FROM secret, (WITH secret AS (SELECT 1) SELECT 1) AS s, system.users",
    "SELECT * FROM view(SELECT * FROM system.users)",
    "SELECT * FROM mentions AS m('/etc/passwd')",
    "SELECT " + "(" * 3000 + "1" + ")" * 3000,
    # scalar functions that reach outside or name other tables in strings
    "SELECT file('/etc/passwd')",
    "SELECT FILE('/etc/passwd')",
    "SELECT `file`('/etc/passwd')",
    'SELECT "file"(\'/etc/passwd\')',
    "SELECT joinGet('system.x', 'a', 1)",
    "SELECT joinGetOrNull('db.t', 'a', 1)",
    "SELECT dictGet('d', 'a', toUInt64(1))",
    "SELECT dictGetString('d', 'a', toUInt64(1))",
    "SELECT dictHas('d', toUInt64(1))",
    "SELECT hasColumnInTable('system', 'users', 'name')",
    "SELECT catboostEvaluate('/m.bin', 1)",
    "SELECT filesystemAvailable()",
    "SELECT filesystemCapacity()",
    "SELECT filesystemUnreserved()",
    "SELECT sleep(3)",
    "SELECT sleepEachRow(1) FROM numbers(100)",
    "SELECT getSetting('readonly')",
    "SELECT brand FROM mentions WHERE length(file('/etc/passwd')) > 0",
    # names with control characters, NUL, empty
    "SELECT 1 AS `a\nb`",
    "SELECT `fi\nle`('/etc/passwd')",
    "SELECT * FROM `mentions\n`",
    "SELECT 1 AS `a\\nb`",
    "SELECT 1 AS `\u202eelif`",
    "SELECT 1\x00",
    "SELECT '\x00'",
    "",
    "   ",
    ";",
    "-- only a comment",
    "/* */",
    # query parameters
    "SELECT * FROM {t:Identifier}",
    "SELECT {c:Identifier} FROM mentions",
    "SELECT ?",
    "SELECT :x",
    "SELECT %(x)s",
    "SELECT @@version",
    # SHOW / EXISTS outside the allow-list
    "SHOW PROCESSLIST",
    "SHOW GRANTS",
    "SHOW USERS",
    "SHOW SETTINGS LIKE '%'",
    "SHOW DATABASES",
    "SHOW ACCESS",
    "SHOW TABLES FROM system",
    "SHOW TABLES IN information_schema",
    "SHOW CREATE TABLE system.users",
    "SHOW CREATE USER default",
    "SHOW COLUMNS FROM system.users",
    "SHOW COLUMNS FROM mentions FROM system",
    "SHOW TABLES SETTINGS readonly = 0",
    "SHOW TABLES LIKE file('/etc/passwd')",
    "SHOW TABLES; SELECT 1",
    "EXISTS TABLE system.users",
    "EXISTS DATABASE system",
    "EXISTS TABLE mentions SETTINGS readonly = 0",
    "SELECT brand FROM mentions LIMIT 1 BY brand LIMIT 5 SETTINGS readonly = 0",
]


@pytest.mark.parametrize("sql", HOSTILE, ids=[repr(s)[:60] for s in HOSTILE])
def test_hostile_queries_are_rejected(sql, explain):
    with pytest.raises(UnsafeQueryError) as info:
        check(sql, explain)
    assert isinstance(info.value, PermanentError) and not info.value.retriable
    assert str(info.value)


@pytest.mark.parametrize("sql, message", [
    ("SELECT * FROM file('/etc/passwd')", "table function file() is not allowed; allowed: generateSeries"),
    ("SELECT * FROM system.tables", "only tables of the truevoice database can be read; system.tables is not one"),
    ("SELECT * FROM mentions INTO OUTFILE '/tmp/x'", "INTO OUTFILE is not allowed"),
    ("SELECT 1 SETTINGS readonly = 0", "SETTINGS cannot be set by the caller; limits are set by the server"),
    ("SELECT 1 FORMAT JSON", "FORMAT clause is not allowed"),
    ("SELECT file('/etc/passwd')", "function file() is not allowed: it reads files on the server"),
    ("SELECT 1; SELECT 2", "only one statement"),
    ("DROP TABLE mentions", "DROP is not allowed"),
    ("SHOW GRANTS", "SHOW GRANTS is not allowed; allowed: SHOW TABLES, SHOW CREATE TABLE, SHOW COLUMNS"),
    ("SELECT 1 AS `a\nb`", "control character"),
    ("", "empty query"),
    ("SELECT 1\x00", "NUL byte"),
])
def test_messages_say_what_is_not_allowed(sql, message):
    with pytest.raises(UnsafeQueryError) as info:
        check(sql)
    assert message in str(info.value)


def test_every_forbidden_function_is_caught_as_scalar_and_as_table():
    names = [n for n in guard.FORBIDDEN_FUNCTIONS] + ["dictGetOrDefault", "dictIsIn", "filesystemAvailable",
                                                       "joinGet", "getSetting", "sleepEachRow"]
    for name in names:
        with pytest.raises(UnsafeQueryError):
            check(f"SELECT {name}('x', 1)")
        with pytest.raises(UnsafeQueryError):
            check(f"SELECT * FROM {name}('x', 1)")


def test_cte_names_only_shadow_tables_inside_their_query():
    out = check("SELECT * FROM brand_counts AS x, (WITH brand_counts AS (SELECT 1) SELECT * FROM brand_counts) AS y")
    assert out.startswith("SELECT * FROM truevoice.brand_counts AS x")
    assert "SELECT * FROM brand_counts)" in out


def test_safe_table_functions_are_documented_and_small():
    assert {"numbers", "numbers_mt", "zeros", "zeros_mt", "generateSeries", "generate_series", "values"} \
        == SAFE_TABLE_FUNCTIONS
    for name in ("numbers", "numbers_mt", "zeros", "zeros_mt", "generateSeries"):
        assert check(f"SELECT * FROM {name}(3)") == f"SELECT * FROM {name}(3)"


# --------------------------------------------------------------------------- second layer on its own

@pytest.mark.parametrize("raw", [
    "SELECT * FROM file('/etc/passwd')",
    "SELECT * FROM FILE('/etc/passwd') AS t",
    "SELECT file('/etc/passwd')",
    "SELECT * FROM url('http://evil/', CSV, 'a String')",
    "SELECT * FROM remote('127.0.0.1', system.one)",
    "SELECT * FROM executable('x.sh', CSV, 'a String')",
    "DESCRIBE file('/etc/passwd')",
    "SELECT * FROM system.tables",
    "SELECT * FROM INFORMATION_SCHEMA.TABLES",
    "SELECT 1 IN system.users",
    "SELECT joinGet('system.x', 'a', 1)",
    "SELECT dictGet('d', 'a', 1)",
    "SELECT 1 SETTINGS readonly = 0",
    "EXPLAIN indexes = 1 SELECT 1",
    "SELECT `fi\nle`('/etc/passwd')",
])
def test_engine_ast_layer_finds_forbidden_nodes(raw, explain):
    """ClickHouse's own parse of the raw text, searched for forbidden nodes anywhere."""
    with pytest.raises(UnsafeQueryError):
        guard._check_engine_ast(explain(raw), DB)


def test_engine_ast_layer_passes_ordinary_queries(explain):
    for sql in ("SELECT brand, count() FROM truevoice.mentions FINAL GROUP BY brand",
                "WITH c AS (SELECT 1) SELECT * FROM c", "SELECT format('{} {}', 'a', 'b')",
                "SELECT t.brand FROM truevoice.mentions AS t", "EXPLAIN SELECT 1", "SHOW TABLES FROM truevoice"):
        guard._check_engine_ast(explain(sql), DB)
