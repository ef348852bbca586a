"""A tenant's analyst SQL reads only its rows, on real chdb: every hostile query is refused or
answers without a trace of the other tenant.

Tenant acme owns campaigns acme-launch and acme-promo; tenant bolt owns bolt-secret. Every row
that belongs to bolt only carries the word "bolt" somewhere (its campaign id, its text, its alert
message), so a query leaked bolt's data exactly when "bolt" appears in what it returned.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tables.clickhouse.connection import QueryError
from tables.clickhouse.guard import UnsafeQueryError
from tables.clickhouse.store import ClickHouseStore
from tables.clickhouse.tenants import SCOPED, tenant_database

sys.path.insert(0, str(Path(__file__).parent))
from test_clickhouse_store import make_mentions  # noqa: E402

DB = "tvsec"
ACME = {"acme-launch", "acme-promo"}
# make_mentions gives post i the campaigns [[], [c1], [c1, c2], [c2, c2], [c3]][i % 5]
RENAME = {"c1": "acme-launch", "c2": "bolt-secret", "c3": "acme-promo"}
N = 200
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def _campaign_rows(tenants: dict[str, str]) -> str:
    return ", ".join(f"('{cid}', 'brand', '', ['kw'], '', [], [], true, 3, 20, '{t}')" for cid, t in tenants.items())


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = ClickHouseStore(f"chdb://{tmp_path_factory.mktemp('chdb_tenants')}", DB)
    s.migrate()
    c = s.conn
    # the tenant column of campaigns (migration 008); a no-op once that migration made it
    c.command(f"ALTER TABLE {DB}.campaigns ADD COLUMN IF NOT EXISTS tenant LowCardinality(String) DEFAULT 'default'")
    c.command(f"INSERT INTO {DB}.campaigns (campaign_id, brand, name, keywords, query, exclude, platforms, active, "
              f"spike_threshold, min_mentions, tenant) VALUES "
              + _campaign_rows({"acme-launch": "acme", "acme-promo": "acme", "bolt-secret": "bolt"}))
    mentions = []
    for i, m in enumerate(make_mentions(N, base=NOW - timedelta(hours=3))):
        campaigns = [RENAME[c] for c in m.campaigns]
        update = {"campaigns": campaigns}
        if campaigns and not ACME & set(campaigns):
            update.update(text=f"bolt only {i}", text_normalised=f"bolt only {i}")
        mentions.append(m.model_copy(update=update))
    s.insert_mentions(mentions)
    for cid in ("acme-launch", "bolt-secret"):
        c.command(f"INSERT INTO {DB}.alerts (alert_id, campaign_id, platform, kind, minute, count, baseline_mean, "
                  f"baseline_std, zscore, sentiment_mean, negative_share, raised_at, message) VALUES "
                  f"('alert-{cid}', '{cid}', 'x', 'volume', now(), 50, 1, 1, 9, 0, 0, now(), 'spike on {cid}')")
        c.command(f"INSERT INTO {DB}.predictions (prediction_id, campaign_id, made_at, horizon_hours, purchase_intent, "
                  f"brand_sentiment, viral_potential, confidence, risks, opportunities, mentions_used) VALUES "
                  f"('pred-{cid}', '{cid}', now() - 3600, 24, 0.5, 0.1, 0.2, 0.7, ['risk for {cid}'], [], 10)")
        c.command(f"INSERT INTO {DB}.outcomes (campaign_id, metric, value, observed_at) "
                  f"VALUES ('{cid}', 'brand_sentiment', 0.2, now())")
    yield s
    s.close()


def run(store: ClickHouseStore, sql: str, tenant: str | None = "acme"):
    return store.analyst.query(sql, tenant=tenant)


def refused_or_clean(store: ClickHouseStore, sql: str, tenant: str = "acme", other: str = "bolt") -> str:
    """'refused' when the query is refused; 'clean' when it ran and shows nothing of ``other``."""
    try:
        result = run(store, sql, tenant)
    except (UnsafeQueryError, QueryError):
        return "refused"
    text = repr(result.rows) + repr(result.columns)
    assert other not in text.lower(), f"{sql!r} showed {other}'s data: {text[:500]}"
    return "clean"


def test_every_tenant_table_holds_only_the_tenants_rows(store):
    for table in SCOPED:
        rows = run(store, f"SELECT * FROM {table}").rows
        assert "bolt" not in repr(rows).lower(), table
    # and the other way round
    rows = run(store, "SELECT campaign_id FROM campaigns", "bolt").rows
    assert rows == [("bolt-secret",)]
    assert {r[0] for r in run(store, "SELECT campaign_id FROM alerts", "bolt").rows} == {"bolt-secret"}


def test_the_tenant_sees_all_of_its_own_rows(store):
    assert sorted(run(store, "SELECT campaign_id FROM campaigns").rows) == [("acme-launch",), ("acme-promo",)]
    mine = [i for i in range(N) if i % 5 in (1, 2, 4)]  # posts that matched an acme campaign
    assert run(store, "SELECT count() FROM mentions FINAL").rows == [(len(mine),)]
    # a post that matched both tenants' campaigns shows only acme's
    shared = run(store, "SELECT DISTINCT campaigns FROM mentions WHERE has(campaigns, 'acme-launch')").rows
    assert sorted(shared) == [(["acme-launch"],)]
    assert run(store, "SELECT alert_id FROM alerts").rows == [("alert-acme-launch",)]
    assert run(store, "SELECT prediction_id FROM predictions").rows == [("pred-acme-launch",)]
    stats = run(store, "SELECT DISTINCT campaign_id FROM campaign_minute_stats ORDER BY campaign_id").rows
    assert stats == [("acme-launch",), ("acme-promo",)]


def test_an_admin_sees_every_tenant(store):
    assert len(run(store, "SELECT campaign_id FROM campaigns", None).rows) == 3
    assert run(store, "SELECT count() FROM mentions FINAL", None).rows == [(N,)]


def test_a_tenant_without_campaigns_sees_nothing(store):
    assert run(store, "SELECT count() FROM mentions", "nobody").rows == [(0,)]
    assert run(store, "SELECT count() FROM alerts", "nobody").rows == [(0,)]


OTHER = tenant_database(DB, "bolt")
HOSTILE = [
    # the base database, qualified in every way a name can be written
    f"SELECT * FROM {DB}.mentions",
    f"SELECT * FROM `{DB}`.`alerts`",
    f'SELECT * FROM "{DB}"."alerts"',
    f"SELECT * FROM {DB} . campaigns",
    f"SELECT message FROM {DB}.alerts FINAL",
    # another tenant's database
    f"SELECT * FROM {OTHER}.alerts",
    f"SELECT * FROM {OTHER}.mentions",
    # system tables
    "SELECT * FROM system.tables",
    "SELECT name, create_table_query FROM system.tables WHERE database = 'tvsec'",
    "SELECT * FROM system.columns",
    "SELECT * FROM system.databases",
    "SELECT query FROM system.query_log",
    "SELECT * FROM system.parts",
    "SELECT * FROM system.dictionaries",
    "SELECT * FROM information_schema.tables",
    # table functions
    f"SELECT * FROM merge('{DB}', '.*')",
    f"SELECT * FROM merge('{OTHER}', 'alerts')",
    f"SELECT * FROM remote('127.0.0.1', '{DB}', 'alerts')",
    f"SELECT * FROM view(SELECT * FROM {DB}.alerts)",
    f"SELECT * FROM loop({DB}.alerts) LIMIT 5",
    f"SELECT * FROM mergeTreeIndex('{DB}', 'mentions')",
    "SELECT * FROM file('/etc/passwd', 'LineAsString')",
    "SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')",
    "SELECT * FROM clusterAllReplicas('default', system.one)",
    f"SELECT * FROM dictionary('{DB}.d')",
    # subqueries
    f"SELECT * FROM (SELECT * FROM {DB}.alerts)",
    f"SELECT alert_id FROM alerts WHERE campaign_id IN (SELECT campaign_id FROM {DB}.campaigns)",
    f"SELECT (SELECT groupArray(message) FROM {DB}.alerts)",
    f"SELECT alert_id FROM alerts WHERE campaign_id IN {DB}.campaigns",
    f"SELECT alert_id FROM alerts WHERE campaign_id IN {OTHER}.campaigns",
    f"SELECT count() FROM alerts WHERE EXISTS (SELECT 1 FROM {DB}.alerts)",
    # UNION and JOIN
    f"SELECT message FROM alerts UNION ALL SELECT message FROM {DB}.alerts",
    f"SELECT message FROM alerts UNION DISTINCT SELECT message FROM {OTHER}.alerts",
    f"SELECT a.message, b.message FROM alerts AS a FULL JOIN {DB}.alerts AS b ON 1 = 1",
    f"SELECT * FROM alerts CROSS JOIN {OTHER}.alerts",
    f"SELECT * FROM alerts AS a ARRAY JOIN [1] AS x JOIN {DB}.campaigns AS c ON 1 = 1",
    # CTEs that shadow a tenant view with a base table
    f"WITH alerts AS (SELECT * FROM {DB}.alerts) SELECT message FROM alerts",
    f"WITH x AS (SELECT * FROM {DB}.mentions) SELECT text FROM x",
    "SELECT * FROM (WITH t AS (SELECT 1) SELECT * FROM t) AS a, deadletter AS b",
    # tables kept out of the tenant database: no campaign owns their rows
    "SELECT * FROM deadletter",
    "SELECT * FROM brands",
    "SELECT * FROM schema_migrations",
    "SELECT * FROM mentions_in",
    "SELECT * FROM mentions_by_hour_002",
    "SELECT * FROM campaign_minute_agg",
    # SHOW, DESCRIBE, EXPLAIN, EXISTS of the base and of other tenants
    "SHOW CREATE TABLE alerts",
    "SHOW CREATE TABLE mentions",
    f"SHOW CREATE TABLE {DB}.alerts",
    f"SHOW CREATE TABLE {OTHER}.alerts",
    f"SHOW TABLES FROM {DB}",
    f"SHOW TABLES FROM {OTHER}",
    "SHOW DATABASES",
    f"DESCRIBE TABLE {DB}.deadletter",
    "DESCRIBE TABLE deadletter",
    f"EXPLAIN SELECT * FROM {DB}.alerts",
    f"EXPLAIN SYNTAX SELECT * FROM {DB}.alerts",
    f"EXPLAIN PLAN SELECT * FROM {OTHER}.alerts",
    "EXPLAIN SELECT * FROM alerts",
    f"EXISTS TABLE {DB}.alerts",
    # dictionaries and functions that read other tables by a name in a string
    f"SELECT dictGet('{DB}.d', 'x', toUInt64(1))",
    f"SELECT dictGetOrDefault('{DB}.d', 'x', toUInt64(1), '')",
    f"SELECT joinGet('{DB}.alerts', 'message', 'x')",
    f"SELECT hasColumnInTable('{DB}', 'alerts', 'message')",
    # a subquery where a value or a table function's argument goes
    f"SELECT * FROM values('a String', ((SELECT any(message) FROM {DB}.alerts)))",
    f"SELECT * FROM generateSeries(1, (SELECT count() FROM {DB}.alerts))",
    f"SELECT arrayJoin((SELECT groupArray(message) FROM {DB}.alerts))",
    f"WITH (SELECT groupArray(message) FROM {DB}.alerts) AS x SELECT x",
    f"SELECT arrayMap(m -> m, (SELECT groupArray(message) FROM {OTHER}.alerts))",
    f"SELECT alert_id FROM alerts WHERE alert_id GLOBAL IN {DB}.alerts",
    f"SELECT alert_id FROM alerts WHERE alert_id IN (SELECT alert_id FROM {DB}.alerts UNION ALL SELECT '')",
    # more ways to look at other databases' tables
    f"SHOW COLUMNS FROM {DB}.alerts",
    f"SHOW CREATE VIEW {OTHER}.alerts",
    f"SHOW CREATE DICTIONARY {DB}.d",
    f"DESCRIBE (SELECT * FROM {DB}.alerts)",
    f"EXISTS {OTHER}.alerts",
    f"EXPLAIN ESTIMATE SELECT * FROM {DB}.alerts",
    f"EXPLAIN AST SELECT * FROM {DB}.alerts",
    f"SELECT * FROM TVSEC.alerts",
    "SELECT * FROM tvsеc.alerts",  # a Cyrillic е
    # the tenant's own database, qualified, reads its own rows only
    f"SELECT * FROM {tenant_database(DB, 'acme')}.alerts",
    # changing where names resolve, or the limits, from inside the query
    f"USE {DB}",
    "SELECT * FROM alerts SETTINGS readonly = 0",
    f"SET allow_experimental_analyzer = 0; SELECT * FROM {DB}.alerts",
    f"SELECT * FROM alerts; SELECT * FROM {DB}.alerts",
    # writes
    f"INSERT INTO {DB}.alerts (alert_id) VALUES ('x')",
    "DROP TABLE alerts",
    f"CREATE VIEW v AS SELECT * FROM {DB}.alerts",
    f"ALTER TABLE {DB}.campaigns UPDATE tenant = 'acme' WHERE 1",
]


@pytest.mark.parametrize("sql", HOSTILE)
def test_hostile_query_is_refused_or_shows_nothing_of_the_other_tenant(store, sql):
    refused_or_clean(store, sql)


def test_the_base_database_and_the_other_tenant_are_refused_not_just_empty(store):
    """Qualified names of other databases are refusals that say why, not silently empty results."""
    for sql in (f"SELECT * FROM {DB}.alerts", f"SELECT * FROM {OTHER}.alerts", "SELECT * FROM system.tables",
                f"SELECT * FROM alerts UNION ALL SELECT * FROM {DB}.alerts"):
        with pytest.raises(UnsafeQueryError, match="only tables of the tvsec_tenant_acme database"):
            run(store, sql)


def test_the_views_definition_names_only_the_tenant(store):
    (create,), = run(store, "SHOW CREATE TABLE campaigns").rows
    assert "'acme'" in create and "bolt" not in create


def test_a_tenant_query_leaves_the_handle_on_the_base_database(store):
    """After a tenant's query, an admin's unqualified names still mean the whole store."""
    run(store, "SELECT 1")
    assert run(store, "SELECT currentDatabase()").rows == [(tenant_database(DB, "acme"),)]
    assert run(store, "SELECT currentDatabase()", None).rows == [(DB,)]
    assert len(run(store, "SELECT campaign_id FROM campaigns", None).rows) == 3
