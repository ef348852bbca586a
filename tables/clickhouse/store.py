"""Everything TrueVoice stores in ClickHouse: embedded chdb or a ClickHouse server, one code path.

``ClickHouseStore("chdb:///abs/path")`` runs the engine in this process (chdb through
clickhouse-connect); ``ClickHouseStore("http://user:pass@host:8123")`` talks to a server. Only
the URL differs. Writes and internal reads are blocking calls (callers run them in an executor
of their own); analyst SQL goes through ``self.analyst`` (its own pool, limits, the guard).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence, TypeVar

from schemas.records import Alert, Campaign, DeadLetter, Outcome, Prediction, ScoredMention, WindowDelta
from tables.clickhouse import columns as cols
from tables.clickhouse.analyst import AnalystQueries
from tables.clickhouse.connection import Connection, QueryResult, _aware
from tables.clickhouse.guard import check_query, chdb_explain_ast
from tables.clickhouse.migrations import applied_migrations, migrate

DEFAULT_DATABASE = "truevoice"
ALL_CAMPAIGNS = "*"  # pseudo-campaign every mention counts under (brand-wide velocity)

_T = TypeVar("_T")
_DB_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# How ClickHouse reads the records' JSON: ISO datetimes with their offset, a field a newer
# producer added is skipped (tests/test_clickhouse_columns.py keeps today's list complete), no
# value of another JSON type read as a string, and a record it cannot parse fails the insert
# (the sink then isolates it as a dead letter).
_JSON_INPUT = {
    "date_time_input_format": "best_effort",
    "input_format_json_read_numbers_as_strings": 0,
    "input_format_json_read_bools_as_strings": 0,
    "input_format_json_read_objects_as_strings": 0,
    "input_format_json_read_arrays_as_strings": 0,
    "input_format_skip_unknown_fields": 1,
    "input_format_json_defaults_for_missing_elements_in_named_tuple": 1,
    "input_format_allow_errors_num": 0,
}


class ClickHouseStore:
    def __init__(self, url: str, database: str = DEFAULT_DATABASE, *, batch_size: int = 50_000,
                 readonly_url: str | None = None, analyst_limits: Mapping[str, Any] | None = None,
                 analyst_workers: int = 2) -> None:
        """``url``: ``chdb:///abs/path`` or ``http(s)://user:pass@host:8123``.

        ``readonly_url``: for a server, the URL of a ClickHouse user that may only SELECT (the
        right home for analyst SQL); default: the same user with ``readonly=2`` on every query.
        ``analyst_limits``: per-query ClickHouse settings for analyst SQL on top of
        ``analyst.DEFAULT_LIMITS`` (e.g. ``{"max_execution_time": 10}``).
        """
        if not _DB_NAME_RE.match(database):
            raise ValueError(f"invalid database name {database!r}")
        self.url = url
        self.database = database
        self.batch_size = max(1, batch_size)
        self.embedded = url.startswith("chdb:")
        self.conn = Connection(url)
        self.conn.command(f"CREATE DATABASE IF NOT EXISTS {database}")
        self.conn.client.database = database
        readonly_url = readonly_url or url

        def connect_readonly() -> Connection:
            # readonly=2: reads only, and readonly itself cannot be lowered by the query
            return Connection(readonly_url, database, {"readonly": 2})

        self.analyst = AnalystQueries(
            connect_readonly, self.conn,
            lambda sql, conn, db: check_query(sql, database=db, explain_ast=chdb_explain_ast(conn.client)),
            database=database, workers=analyst_workers, limits=analyst_limits)
        self._closed = False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.analyst.close()
        self.conn.close()

    def __enter__(self) -> "ClickHouseStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def client(self):
        """The underlying clickhouse-connect client (read-write, trusted callers only)."""
        return self.conn.client

    # ------------------------------------------------------------------ schema

    def migrate(self, directory: Path | str | None = None) -> list[str]:
        return migrate(self.conn, self.database, Path(directory) if directory else None)

    def applied_migrations(self) -> list[str]:
        return applied_migrations(self.conn, self.database)

    # ------------------------------------------------------------------ writes

    def _write(self, table: str, columns: Sequence[cols.Column], rows: Sequence[Mapping[str, Any]],
               fill: Any = None) -> int:
        total = 0
        names = cols.names(columns)
        for start in range(0, len(rows), self.batch_size):
            batch = rows[start:start + self.batch_size]
            total += self.conn.insert(f"{self.database}.{table}",
                                      cols.build(columns, batch, cols.now_us() if fill is None else fill), names)
        return total

    def insert_scored(self, values: Sequence[bytes]) -> int:
        """Insert ScoredMention JSON objects as mentions.scored carries them; the sink's path.

        ClickHouse parses them into ``mentions_in``, whose view writes ``mentions`` (migration
        006). Replays are harmless (ReplacingMergeTree by event id). One INSERT per
        ``batch_size`` rows, in order; a failed batch raises (earlier ones stay stored: retrying
        is safe)."""
        total = 0
        for start in range(0, len(values), self.batch_size):
            total += self.conn.insert_json_rows(f"{self.database}.mentions_in", values[start:start + self.batch_size],
                                                _JSON_INPUT)
        return total

    def insert_mentions(self, rows: Sequence[ScoredMention]) -> int:
        return self.insert_scored([m.dumps() for m in rows])

    def insert_deadletters(self, rows: Sequence[DeadLetter]) -> int:
        return self._write("deadletter", cols.DEADLETTER_MAP, [r.model_dump(mode="json") for r in rows])

    def insert_alerts(self, rows: Sequence[Alert]) -> int:
        return self._write("alerts", cols.ALERT_MAP, [r.model_dump(mode="json") for r in rows])

    def upsert_campaigns(self, rows: Sequence[Campaign], updated_at: datetime | None = None) -> int:
        """Insert new versions of campaigns; the newest ``updated_at`` (default: now) wins."""
        version = cols.us(updated_at) if updated_at is not None else cols.now_us()
        return self._write("campaigns", cols.CAMPAIGN_MAP, [r.model_dump(mode="json") for r in rows], version)

    def insert_predictions(self, rows: Sequence[Prediction]) -> int:
        """Predictions as rows: ``risks``/``opportunities`` hold each item's summary, ``risk_items``/
        ``opportunity_items`` each item as JSON (migration 005)."""
        return self._write("predictions", cols.PREDICTION_MAP, [r.model_dump(mode="json") for r in rows])

    def record_outcome(self, prediction_id: str, *, purchase_intent: float | None = None,
                       brand_sentiment: float | None = None, viral_potential: float | None = None,
                       observed_at: datetime | None = None, source: str = "") -> bool:
        """Post the actual outcome of ONE prediction back; False when the prediction is unknown.

        Re-inserts the latest version of the row with the actual_* columns set and a newer
        updated_at (ReplacingMergeTree keeps it). Values left None keep what was stored.
        Per-campaign outcomes over time go through ``record_actual`` instead.
        """
        db = self.database
        found = self.conn.select(f"SELECT count() FROM {db}.predictions FINAL WHERE prediction_id = {{pid:String}}",
                                 {"pid": prediction_id}).rows[0][0]
        if not found:
            return False
        observed = observed_at or datetime.now(timezone.utc)
        kept = ("prediction_id, campaign_id, made_at, horizon_hours, purchase_intent, brand_sentiment, "
                "viral_potential, confidence, risks, opportunities, risk_items, opportunity_items, mentions_used")
        self.conn.command(
            f"""INSERT INTO {db}.predictions ({kept}, actual_purchase_intent, actual_brand_sentiment,
                   actual_viral_potential, actual_observed_at, actual_source, updated_at)
            SELECT {kept},
                   coalesce({{pi:Nullable(Float64)}}, actual_purchase_intent),
                   coalesce({{bs:Nullable(Float64)}}, actual_brand_sentiment),
                   coalesce({{vp:Nullable(Float64)}}, actual_viral_potential),
                   toDateTime64({{obs:Float64}}, 3, 'UTC'),
                   {{src:String}},
                   greatest(now64(6), updated_at + toIntervalMicrosecond(1))
            FROM {db}.predictions FINAL WHERE prediction_id = {{pid:String}}""",
            {"pid": prediction_id, "pi": purchase_intent, "bs": brand_sentiment, "vp": viral_potential,
             "obs": cols.ms(observed) / 1000.0, "src": source},
        )
        return True

    def record_actual(self, campaign_id: str, metric: str, value: float, at: datetime | None = None,
                      source: str = "") -> Outcome:
        """Record what actually happened to ``metric`` of ``campaign_id`` at ``at`` (default: now).

        The same (campaign, metric, time) recorded again replaces the value. Raises ValueError
        (pydantic) for an unknown metric or a value outside the metric's scale."""
        outcome = Outcome(campaign_id=campaign_id, metric=metric, value=value,
                          observed_at=at or datetime.now(timezone.utc), source=source)
        self._write("outcomes", cols.OUTCOME_MAP, [outcome.model_dump(mode="json")])
        return outcome

    def outcome_accuracy(self, campaign_id: str | None = None) -> list[dict[str, Any]]:
        """Every outcome with the prediction it is measured against and its accuracy (view
        ``outcome_accuracy``), oldest first."""
        where = " WHERE campaign_id = {cid:String}" if campaign_id else ""
        res = self.conn.select(
            f"SELECT campaign_id, metric, observed_at, actual, predicted, prediction_id, made_at, accuracy, confidence "
            f"FROM {self.database}.outcome_accuracy{where} ORDER BY campaign_id, metric, observed_at",
            {"cid": campaign_id} if campaign_id else None)
        return [{k: _aware(v) for k, v in d.items()} for d in res.dicts()]

    def prediction_accuracy(self, last: int = 20, campaign_id: str | None = None) -> list[dict[str, Any]]:
        """Rolling accuracy per (campaign, metric) over the last ``last`` outcomes
        (``scoring.accuracy.rolling_accuracy``; with ``last=20`` the same as the view
        ``prediction_accuracy_rolling``)."""
        from scoring.accuracy import rolling_accuracy

        return [r.as_dict() for r in rolling_accuracy(self.outcome_accuracy(campaign_id), last=last)]

    # ------------------------------------------------------------------ reads (trusted SQL)

    def query(self, sql: str) -> QueryResult:
        """Analyst SQL (guarded, limited, read-only), blocking. See ``tables.clickhouse.analyst``."""
        return self.analyst.query(sql)

    def select(self, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        """Our own SQL, unchecked: never pass user input here except as ``params``."""
        return self.conn.select(sql, params)

    def count_mentions(self, since: datetime | None = None, until: datetime | None = None) -> int:
        """Exact number of distinct mentions (by event id), optionally with posted_at in [since, until)."""
        where, params = _time_filter("posted_at", since, until)
        return int(self.conn.select(f"SELECT uniqExact(event_id) FROM {self.database}.mentions{where}",
                                    params).rows[0][0])

    def count_deadletters(self) -> int:
        return int(self.conn.select(f"SELECT uniqExact(event_id) FROM {self.database}.deadletter").rows[0][0])

    def window_rows(self, since: datetime, until: datetime | None = None, *, rebuild: bool = True) -> list[WindowDelta]:
        """Per (campaign_id, platform, minute) sums rebuilt exactly from ``mentions FINAL``.

        ``since`` is floored to its minute, so every minute returned is complete (up to ``until``,
        exclusive, when given). Every mention counts under each of its campaigns and under
        ALL_CAMPAIGNS ("*"). Ordered by minute, campaign_id, platform. The deltas carry
        ``rebuild`` (re-seeded windows never raise alerts).
        """
        since_ms = cols.ms(since)
        since_ms -= since_ms % 60_000
        params: dict[str, Any] = {"since": since_ms}
        cond = "posted_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')"
        if until is not None:
            params["until"] = cols.ms(until)
            cond += " AND posted_at < fromUnixTimestamp64Milli({until:Int64}, 'UTC')"
        res = self.conn.select(
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
        return [WindowDelta.model_validate({**dict(zip(res.columns, row)), "rebuild": rebuild}) for row in res.rows]

    def voice_rows(self, since: datetime) -> list[tuple]:
        """``(event_id, author_id, posted_at, author_created_at, text)`` of every mention posted
        since ``since``, oldest first: what ``up`` rebuilds the voice tracker from (the stored text
        and author id are the anonymised ones the tracker saw)."""
        res = self.conn.select(
            f"SELECT event_id, author_id, posted_at, author_created_at, text FROM {self.database}.mentions FINAL "
            f"WHERE posted_at >= fromUnixTimestamp64Milli({{since:Int64}}, 'UTC') ORDER BY posted_at",
            {"since": cols.ms(since)})
        return [(e, a, _aware(t), c, x) for e, a, t, c, x in res.rows]

    def campaign_mentions(self, campaign_id: str, since: datetime, *, limit: int = 5000) -> list[dict[str, Any]]:
        """The newest ``limit`` scored mentions of a campaign (``*``: all) posted since ``since``, in
        the shape ``scoring.predictor`` reads (a subset of the scored record's JSON)."""
        where = "posted_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')"
        params: dict[str, Any] = {"since": cols.ms(since), "limit": int(limit)}
        if campaign_id != ALL_CAMPAIGNS:
            where += " AND has(campaigns, {cid:String})"
            params["cid"] = campaign_id
        res = self.conn.select(
            f"SELECT event_id, platform, author_id, posted_at, sentiment, sentiment_label, purchase_intent, toxicity, "
            f"toxic, credible, credibility, likes, comments, shares, views, text, text_normalised, slang_terms "
            f"FROM {self.database}.mentions FINAL WHERE {where} ORDER BY posted_at DESC LIMIT {{limit:UInt32}}",
            params)
        out = []
        for d in res.dicts():
            d["author"] = {"id": d.pop("author_id")}
            d["engagement"] = {k: d.pop(k) for k in ("likes", "comments", "shares", "views")}
            out.append(d)
        return out

    def mentions_page(self, campaign_id: str, *, limit: int, platform: str | None = None,
                      sentiment_label: str | None = None, credible: bool | None = None,
                      min_credibility: float | None = None, since: datetime | None = None,
                      until: datetime | None = None, text: str | None = None,
                      after: tuple[int, str] | None = None) -> list[dict[str, Any]]:
        """One page of a campaign's mentions, newest first, each post once (FINAL), for the API.

        Ordered by (posted_at, event_id) descending, a total order, so ``after`` (the ``posted_at``
        in epoch milliseconds and the ``event_id`` of the previous page's last row) starts the next
        page exactly behind it: no row twice, none skipped. ``text``: case-insensitive substring of
        the stored text (ClickHouse's positionCaseInsensitiveUTF8). Every value is a parameter."""
        conds = ["has(campaigns, {cid:String})"]
        params: dict[str, Any] = {"cid": campaign_id, "limit": int(limit)}
        optional = (
            (platform, "platform = {platform:String}", "platform"),
            (sentiment_label, "sentiment_label = {label:String}", "label"),
            (credible, "credible = {credible:Bool}", "credible"),
            (min_credibility, "credibility >= {min_cred:Float64}", "min_cred"),
            (since and cols.ms(since), "posted_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')", "since"),
            (until and cols.ms(until), "posted_at < fromUnixTimestamp64Milli({until:Int64}, 'UTC')", "until"),
            (text, "positionCaseInsensitiveUTF8(text, {text:String}) > 0", "text"),
        )
        for value, cond, name in optional:
            if value is not None:
                conds.append(cond)
                params[name] = value
        if after is not None:
            conds.append("(posted_at, event_id) < (fromUnixTimestamp64Milli({after_ms:Int64}, 'UTC'), {after_id:String})")
            params["after_ms"], params["after_id"] = after
        res = self.conn.select(
            f"SELECT event_id, platform, post_id, url, posted_at, lang, text, brand, campaigns, sentiment, "
            f"sentiment_label, toxicity, toxic, intent, purchase_intent, credibility, credible, likes, comments, "
            f"shares, views FROM {self.database}.mentions FINAL WHERE {' AND '.join(conds)} "
            f"ORDER BY posted_at DESC, event_id DESC LIMIT {{limit:UInt32}}", params)
        return [{k: _aware(v) for k, v in d.items()} for d in res.dicts()]

    def prediction(self, prediction_id: str) -> dict[str, Any] | None:
        """One prediction by id, as ``predictions`` returns them; None when unknown."""
        rows = self._prediction_rows(" WHERE prediction_id = {pid:String}", {"pid": prediction_id}, 1)
        return rows[0] if rows else None

    def campaigns(self, *, active_only: bool = False) -> list[Campaign]:
        """The latest version of every campaign."""
        where = " WHERE active" if active_only else ""
        res = self.conn.select(
            f"SELECT campaign_id, brand, name, keywords, query, exclude, platforms, starts_at, ends_at, active, "
            f"spike_threshold, min_mentions, tenant, deleted FROM {self.database}.campaigns FINAL{where} "
            f"ORDER BY campaign_id"
        )
        return [Campaign.model_validate(d) for d in res.dicts()]

    def predictions(self, campaign_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Latest predictions (newest first) with their outcome columns, as dicts; ``risk_items`` and
        ``opportunity_items`` decoded into PredictionItem dicts."""
        where = " WHERE campaign_id = {cid:String}" if campaign_id else ""
        return self._prediction_rows(where, {"cid": campaign_id} if campaign_id else None, limit)

    def _prediction_rows(self, where: str, params: Mapping[str, Any] | None, limit: int) -> list[dict[str, Any]]:
        import orjson

        res = self.conn.select(
            f"SELECT * EXCEPT updated_at FROM {self.database}.predictions FINAL{where} "
            f"ORDER BY made_at DESC LIMIT {int(limit)}", params)
        out = []
        for d in res.dicts():
            row = {k: _aware(v) for k, v in d.items()}
            for key in ("risk_items", "opportunity_items"):
                if key in row:
                    row[key] = [orjson.loads(x) for x in row[key]]
            out.append(row)
        return out

    def ping(self) -> bool:
        return self.conn.ping()


def _time_filter(column: str, since: datetime | None, until: datetime | None) -> tuple[str, dict]:
    conds, params = [], {}
    if since is not None:
        conds.append(f"{column} >= fromUnixTimestamp64Milli({{since:Int64}}, 'UTC')")
        params["since"] = cols.ms(since)
    if until is not None:
        conds.append(f"{column} < fromUnixTimestamp64Milli({{until:Int64}}, 'UTC')")
        params["until"] = cols.ms(until)
    return (" WHERE " + " AND ".join(conds)) if conds else "", params
