"""What a tenant's analyst SQL can read: a database of its own whose views hold only its rows.

Embedded ClickHouse (chdb) has no access control storage (``CREATE ROW POLICY`` and ``CREATE
USER`` answer ACCESS_DENIED), so the boundary is a database per tenant, ``<base>_tenant_<tenant>``,
made of views over the base tables, each with the tenant's filter written into its definition:

* ``campaigns``: the rows whose ``tenant`` is the tenant's (every campaign is the default tenant's
  while the table has no ``tenant`` column);
* the per-campaign tables and views (alerts, predictions, outcomes, the minute/day aggregates, the
  accuracy views): the rows whose ``campaign_id`` is one of those campaigns;
* ``mentions``: the posts that matched one of them, with ``campaigns`` cut down to them (a post
  may also have matched another tenant's campaign; that tenant's campaign ids are not shown).

Only the tables of :data:`SCOPED` are exposed (an allow-list: a table added later stays hidden
until its filter is written here). Views over ReplacingMergeTree/AggregatingMergeTree tables read
them ``FINAL`` (ClickHouse ignores FINAL written after a view), so a tenant's counts are exact.
The analyst runner (``tables.clickhouse.analyst``) runs a tenant's query with the tenant database
as the session's current database and the guard (``tables.clickhouse.guard``) refuses any table
outside it, so the base tables, ``system``, table functions that read elsewhere and dictionaries
stay out of reach.
"""

from __future__ import annotations

import threading

from tables.clickhouse.connection import Connection

__all__ = ["SCOPED", "tenant_database", "TenantViews"]

# how each exposed table's rows belong to a tenant: by campaign id, by the array of matched
# campaigns, or (campaigns itself) by its tenant column
SCOPED: dict[str, str] = {
    "campaigns": "tenant",
    "mentions": "campaigns",
    "alerts": "campaign_id",
    "predictions": "campaign_id",
    "outcomes": "campaign_id",
    "campaign_minute_stats": "campaign_id",
    "campaign_day_stats": "campaign_id",
    "campaign_minute_stats_mv": "campaign_id",
    "campaign_day_stats_mv": "campaign_id",
    "prediction_accuracy": "campaign_id",
    "prediction_accuracy_rolling": "campaign_id",
    "outcome_accuracy": "campaign_id",
}
_FINAL_ENGINES = ("ReplacingMergeTree", "AggregatingMergeTree", "CollapsingMergeTree",
                  "VersionedCollapsingMergeTree", "SummingMergeTree")
_DEFAULT_TENANT = "default"  # the owner of campaigns stored before campaigns had a tenant


def tenant_database(base: str, tenant: str) -> str:
    """The tenant's database name (the tenant was checked against ``streams.keystore.TENANT_RE``)."""
    return f"{base}_tenant_{tenant}"


def _quote(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def view_statements(base: str, tenant: str, tables: dict[str, tuple[str, set[str]]]) -> list[str]:
    """``CREATE OR REPLACE VIEW`` statements of the tenant's database.

    ``tables``: the base database's tables, name → (engine, column names)."""
    db, b = _quote(tenant_database(base, tenant)), _quote(base)
    campaigns_columns = tables.get("campaigns", ("", set()))[1]
    owner = "tenant" if "tenant" in campaigns_columns else _literal(_DEFAULT_TENANT)
    owned = f"FROM {b}.`campaigns` FINAL WHERE {owner} = {_literal(tenant)}"
    out = [f"CREATE DATABASE IF NOT EXISTS {db}"]
    for name, scope in SCOPED.items():
        if name not in tables:
            continue  # not made by this schema version
        final = " FINAL" if tables[name][0] in _FINAL_ENGINES else ""
        source = f"{b}.{_quote(name)}{final}"
        if scope == "tenant":
            body = f"SELECT * FROM {source} WHERE {owner} = {_literal(tenant)}"
        elif scope == "campaigns":
            body = (f"WITH (SELECT groupArray(campaign_id) {owned}) AS tenant_campaigns "
                    f"SELECT * REPLACE (arrayFilter(c -> has(tenant_campaigns, c), campaigns) AS campaigns) "
                    f"FROM {source} WHERE hasAny(campaigns, tenant_campaigns)")
        else:
            body = f"SELECT * FROM {source} WHERE campaign_id IN (SELECT campaign_id {owned})"
        out.append(f"CREATE OR REPLACE VIEW {db}.{_quote(name)} AS {body}")
    return out


class TenantViews:
    """Makes each tenant's database once per process (on its first query), after the migrations.

    ``admin`` is a connection that may create databases and views (the read-only analyst handles
    may not)."""

    def __init__(self, admin: Connection, base: str) -> None:
        self.admin = admin
        self.base = base
        self._ready: set[str] = set()
        self._lock = threading.Lock()

    def ensure(self, tenant: str) -> str:
        """The tenant's database, created or refreshed the first time this process is asked."""
        with self._lock:
            if tenant not in self._ready:
                for statement in view_statements(self.base, tenant, self._tables()):
                    self.admin.command(statement)
                self._ready.add(tenant)
        return tenant_database(self.base, tenant)

    def _tables(self) -> dict[str, tuple[str, set[str]]]:
        rows = self.admin.select(
            "SELECT t.name, t.engine, groupArray(c.name) FROM system.tables AS t "
            "INNER JOIN system.columns AS c ON c.database = t.database AND c.table = t.name "
            "WHERE t.database = {db:String} GROUP BY t.name, t.engine", {"db": self.base}).rows
        return {name: (engine, set(columns)) for name, engine, columns in rows}
