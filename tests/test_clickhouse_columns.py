"""Every record → column map in tables/clickhouse/columns.py against the migrated tables (real
chdb) and the pydantic records, so a field cannot be added in one place only; and the same for
scored mentions, which ClickHouse maps itself (mentions_in → mentions_in_mv → mentions, 006).

* a map lists exactly the table's columns, in the table's order (``system.columns`` after
  ``migrate()``); columns the store does not write must be named below;
* every field of the record (nested ones as ``author.id``) is read by some column of the map,
  or named in the record's NOT_STORED set with the reason.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from pydantic import BaseModel

from schemas.records import Alert, Campaign, DeadLetter, Outcome, Prediction, ScoredMention
from tables.clickhouse import columns as cols
from tables.clickhouse.store import ClickHouseStore

DB = "tv_columns"

# table, map, record
MAPS: list[tuple[str, tuple[cols.Column, ...], type[BaseModel]]] = [
    ("deadletter", cols.DEADLETTER_MAP, DeadLetter),
    ("alerts", cols.ALERT_MAP, Alert),
    ("campaigns", cols.CAMPAIGN_MAP, Campaign),
    ("predictions", cols.PREDICTION_MAP, Prediction),
    ("outcomes", cols.OUTCOME_MAP, Outcome),
]

# Columns of a table that its map does not write (filled by ClickHouse or by another path).
NOT_WRITTEN: dict[str, set[str]] = {
    # the outcome of a prediction, posted back later by ClickHouseStore.record_outcome()
    "predictions": {"actual_purchase_intent", "actual_brand_sentiment", "actual_viral_potential",
                    "actual_observed_at", "actual_source"},
}

# Record fields that no column stores, each with why.
NOT_STORED: dict[type[BaseModel], set[str]] = {
    DeadLetter: set(),
    Alert: set(),
    Campaign: set(),
    Prediction: set(),
    Outcome: set(),
}

# Columns filled by the store itself (path ()), e.g. the ReplacingMergeTree version.
STORE_FILLED = {"ingested_at", "updated_at", "recorded_at"}


def record_fields(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Leaf fields of ``model`` as dotted paths; nested records are expanded."""
    out: set[str] = set()
    for name, info in model.model_fields.items():
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out |= record_fields(ann, f"{prefix}{name}.")
        else:
            out.add(prefix + name)
    return out


def stored_fields(columns: tuple[cols.Column, ...]) -> set[str]:
    """The record fields a map reads (``sentiment_probs.0`` counts for ``sentiment_probs``)."""
    out = set()
    for c in columns:
        keys = [k for k in c.path if not isinstance(k, int)]
        if keys:
            out.add(".".join(keys))
    return out


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = ClickHouseStore(f"chdb://{tmp_path_factory.mktemp('chdb_columns')}", DB)
    s.migrate()
    yield s
    s.close()


def table_columns(store: ClickHouseStore, table: str) -> list[tuple[str, str, str]]:
    return [tuple(r) for r in store.select(
        "SELECT name, type, default_kind FROM system.columns WHERE database = {db:String} AND table = {t:String} "
        "ORDER BY position", {"db": DB, "t": table}).rows]


@pytest.mark.parametrize("table,columns,record", MAPS, ids=[m[0] for m in MAPS])
def test_map_matches_the_migrated_table(store, table, columns, record):
    described = table_columns(store, table)
    assert described, f"{table} does not exist after migrate()"
    wanted = [name for name, _type, _kind in described if name not in NOT_WRITTEN.get(table, set())]
    assert list(cols.names(columns)) == wanted, f"{table}: map and table columns differ (names or order)"
    # the same answer from DESCRIBE
    desc = [r[0] for r in store.select(f"DESCRIBE TABLE {DB}.{table}").rows]
    assert desc == [d[0] for d in described]
    # every column not written by the map has a default, else an INSERT of the map would fail
    for name, _type, kind in described:
        if name in NOT_WRITTEN.get(table, set()):
            assert kind == "DEFAULT" or _type.startswith("Nullable("), (table, name)
    # store-filled columns are the version columns, nothing else
    assert {c.name for c in columns if not c.path} <= STORE_FILLED


@pytest.mark.parametrize("table,columns,record", MAPS, ids=[m[0] for m in MAPS])
def test_every_record_field_is_stored_or_listed(table, columns, record):
    fields = record_fields(record)
    stored = stored_fields(columns)
    unknown = stored - fields
    assert not unknown, f"{table}: the map reads fields {record.__name__} does not have: {sorted(unknown)}"
    listed = NOT_STORED[record]
    assert listed <= fields, f"NOT_STORED lists fields {record.__name__} does not have: {sorted(listed - fields)}"
    missing = fields - stored - listed
    assert not missing, (f"{record.__name__} fields {sorted(missing)} are stored by no column of {table}: "
                         f"add a column (migration + map) or list them in NOT_STORED with the reason")
    assert not (stored & listed), f"{sorted(stored & listed)} are stored but listed as not stored"


def test_every_table_written_by_the_store_has_a_map(store):
    # the other tables are views, aggregates, the migration log, the 003 backup or written by no record
    others = {"brands", "meme_analysis", "schema_migrations", "mentions_by_hour_002", "campaign_minute_agg",
              "campaign_day_agg"}
    tables = {r[0] for r in store.select(
        "SELECT name FROM system.tables WHERE database = {db:String} AND engine LIKE '%MergeTree'", {"db": DB}).rows}
    assert tables - others == {m[0] for m in MAPS} | {"mentions"}


def test_mentions_landing_table_reads_every_scored_mention_field(store):
    """mentions_in has a column (or named-tuple element) for every ScoredMention field, and no other."""
    described = store.select(f"DESCRIBE TABLE {DB}.mentions_in SETTINGS describe_include_subcolumns = 1").rows
    top = {r[0]: r[1] for r in described if "." not in r[0]}
    tuples = {n for n, t in top.items() if t.startswith("Tuple(")}
    # a named tuple's elements are its fields (author.id); other subcolumns (.size, .null) are not
    elements = {r[0] for r in described if r[0].count(".") == 1 and r[0].split(".")[0] in tuples
                and r[0].split(".")[1] not in ("size", "null")}
    leaves = (set(top) - tuples) | elements
    assert leaves == record_fields(ScoredMention)


def test_mentions_landing_view_writes_every_mentions_column(store):
    view = [r[0] for r in table_columns(store, "mentions_in_mv")]
    target = [r[0] for r in table_columns(store, "mentions")]
    assert sorted(view) == sorted(target)


def test_scored_json_arrives_in_every_mentions_column(store):
    """A ScoredMention with every field set, inserted as its JSON (the sink's path), reads back
    column by column; sentiment_probs arrive in label order (negative, neutral, positive)."""
    m = ScoredMention.model_validate(_full(ScoredMention))
    store.select(f"TRUNCATE TABLE {DB}.mentions")
    assert store.insert_scored([m.dumps()]) == 1
    res = store.select(f"SELECT * EXCEPT ingested_at FROM {DB}.mentions")
    got = dict(zip(res.columns, res.rows[0]))
    a, e = m.author, m.engagement
    expected = {
        "event_id": m.event_id, "platform": m.platform, "post_id": m.post_id, "url": m.url,
        "author_id": a.id, "author_handle": a.handle, "author_created_at": a.created_at,
        "author_followers": a.followers, "author_following": a.following, "author_verified": a.verified,
        "author_statuses_count": a.statuses_count, "author_listed_count": a.listed_count,
        "author_description": a.description, "author_name": a.name, "author_url": a.url,
        "author_default_profile_image": a.default_profile_image,
        "text": m.text, "text_normalised": m.text_normalised, "lang": m.lang, "media_urls": m.media_urls,
        "hashtags": m.hashtags, "likes": e.likes, "comments": e.comments, "shares": e.shares, "views": e.views,
        "posted_at": m.posted_at, "collected_at": m.collected_at, "brand": m.brand, "campaigns": m.campaigns,
        "sentiment": m.sentiment, "sentiment_label": m.sentiment_label,
        "sentiment_negative": 0.1, "sentiment_neutral": 0.2, "sentiment_positive": 0.7,
        "toxicity": m.toxicity, "toxic": m.toxic, "hate_categories": ["gender", "profanity"], "intent": m.intent,
        "purchase_intent": m.purchase_intent,
        "meme_template": m.meme_template, "meme_score": m.meme_score, "credibility": 87.5, "credible": True,
        "bot_likelihood": 0.25, "coordination": "c-1", "slang_terms": ["존맛"], "scored_at": m.scored_at,
        "credibility_reasons": [{"factor": "media", "points": 15.0, "evidence": "1 photo/video attached"},
                                {"factor": "bot_likelihood", "points": -12.5, "evidence": "bot likelihood 0.25"}],
    }
    assert set(got) == set(expected)
    for name, value in expected.items():
        if isinstance(value, float):
            assert got[name] == pytest.approx(value, rel=1e-6), name
        else:
            assert got[name] == value, name


def _full(record: type[BaseModel]) -> dict[str, Any]:
    now = datetime(2026, 2, 1, 12, 0, 0, 123_000, tzinfo=timezone.utc)
    examples: dict[type[BaseModel], BaseModel] = {
        ScoredMention: ScoredMention(platform="dcinside", post_id="p1", url="https://x", text="존맛 ㅋㅋ",
                                     author={"id": "u1", "handle": "@h", "followers": 3, "following": 4,
                                             "verified": True, "created_at": "2020-01-02", "statuses_count": 5,
                                             "listed_count": 6, "description": "라면 좋아함", "name": "name_x",
                                             "url": "https://blog.example", "default_profile_image": False},
                                     engagement={"likes": 1, "comments": 2, "shares": 3, "views": 4},
                                     posted_at=now, campaigns=["c1"], sentiment_probs=(0.1, 0.2, 0.7),
                                     scored_at=now, slang_terms=["존맛"], credibility=87.5, credible=True,
                                     bot_likelihood=0.25, coordination="c-1", hate_categories=["gender", "profanity"],
                                     credibility_reasons=[{"factor": "media", "points": 15.0,
                                                           "evidence": "1 photo/video attached"},
                                                          {"factor": "bot_likelihood", "points": -12.5,
                                                           "evidence": "bot likelihood 0.25"}]),
        DeadLetter: DeadLetter(event_id="d", reason="r", error_type="E", raw="{", raw_size=1, source_topic="t",
                               source_partition=2, source_offset=3, received_at=now),
        Alert: Alert(alert_id="a", campaign_id="c", platform="*", kind="velocity", minute=now, count=5,
                     baseline_mean=1.0, baseline_std=0.5, zscore=8.0, sentiment_mean=0.1, negative_share=0.2,
                     raised_at=now, message="m"),
        Campaign: Campaign(campaign_id="c", brand="b", keywords=["k"], starts_at=now, ends_at=now),
        Prediction: Prediction(prediction_id="p", campaign_id="c", made_at=now, horizon_hours=2, purchase_intent=0.3,
                               brand_sentiment=0.2, viral_potential=0.1, confidence=0.5, risks=["r"]),
        Outcome: Outcome(campaign_id="c", metric="brand_sentiment", value=-0.25, observed_at=now, source="survey"),
    }
    return examples[record].model_dump(mode="json")


@pytest.mark.parametrize("table,columns,record", MAPS, ids=[m[0] for m in MAPS])
def test_build_inserts_into_the_table(store, table, columns, record):
    """build() output is accepted by the migrated table (types too) and every value arrives."""
    row = _full(record)
    data = cols.build(columns, [row], cols.now_us())
    assert len(data) == len(columns) and all(len(c) == 1 for c in data)
    store.select(f"TRUNCATE TABLE {DB}.{table}")
    assert store.conn.insert(f"{DB}.{table}", data, cols.names(columns)) == 1
    res = store.select(f"SELECT {', '.join(cols.names(columns))} FROM {DB}.{table}")
    assert len(res.rows) == 1
    for col, value, stored in zip(columns, (c[0] for c in data), res.rows[0]):
        if isinstance(stored, datetime):
            assert cols.ms(stored) == (value if isinstance(value, int) else cols.ms(value)) or not col.path, col.name
        elif col.name == "credibility_reasons":  # named tuples come back as dicts
            assert [(r["factor"], pytest.approx(r["points"]), r["evidence"]) for r in stored] == value
        elif isinstance(stored, float):
            assert stored == pytest.approx(value, rel=1e-6), col.name
        else:
            assert stored == value, col.name
