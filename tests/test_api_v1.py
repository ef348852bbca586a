"""/api/v1 against a real worker (real broker, scoring processes, chdb): campaigns, their mentions,
ingest, predictions, SQL, alerts, the old routes' deprecation headers, tenancy, and the 4xx of
every route on bad input."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from agents.campaigns import CampaignRegistry
from tests.conftest import WorkerProcess, wait_until
from tests.mentions import make_mentions
from tests.test_api import api  # noqa: F401 - the same module-scoped real worker (its own, per module)

V1 = "/api/v1"


def call(worker: WorkerProcess, method: str, path: str, body: object = None, *, raw: bytes | None = None,
         content_type: str = "application/json", key: str | None = None) -> tuple[int, dict, dict]:
    """(status, headers, JSON body) of one request with the worker's admin key (or ``key``)."""
    headers = {"Authorization": f"Bearer {key}"} if key else dict(worker.headers)
    data = raw if raw is not None else (orjson.dumps(body) if body is not None else None)
    if data is not None:
        headers["Content-Type"] = content_type
    req = urllib.request.Request(worker.url + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, dict(r.headers), orjson.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), orjson.loads(exc.read())


def ingest(worker: WorkerProcess, mentions: list[dict]) -> None:
    status, _, body = call(worker, "POST", f"{V1}/mentions", mentions)
    assert status == 202 and body["accepted"] == len(mentions), body


def stored(worker: WorkerProcess, prefix: str) -> int:
    return worker.scalar(f"SELECT count() FROM mentions FINAL WHERE post_id LIKE '{prefix}-%'")


def test_campaign_round_trip_and_a_deleted_campaign_stops_matching(api):
    status, headers, made = call(api, "POST", f"{V1}/campaigns", {"brand": "삭제브랜드", "keywords": ["삭제시험"]})
    assert status == 201, made
    cid = made["campaign_id"]
    assert cid and made["tenant"] == "default" and headers["Location"] == f"{V1}/campaigns/{cid}"
    assert cid in [c["campaign_id"] for c in call(api, "GET", f"{V1}/campaigns")[2]["campaigns"]]
    assert call(api, "GET", f"{V1}/campaigns/{cid}")[2]["keywords"] == ["삭제시험"]
    assert call(api, "POST", f"{V1}/campaigns", {"campaign_id": cid, "brand": "b", "keywords": ["x"]})[0] == 409

    status, _, patched = call(api, "PATCH", f"{V1}/campaigns/{cid}", {"keywords": ["삭제시험", "지움시험"], "name": "n"})
    assert status == 200 and patched["keywords"] == ["삭제시험", "지움시험"] and patched["brand"] == "삭제브랜드"
    assert call(api, "GET", f"{V1}/campaigns/{cid}")[2]["name"] == "n"
    status, _, body = call(api, "PATCH", f"{V1}/campaigns/{cid}", {"keywords": [], "query": ""})
    assert status == 422 and "keywords or a query" in body["error"]
    status, _, body = call(api, "PATCH", f"{V1}/campaigns/{cid}", {"query": "(a AND"})
    assert status == 422 and "query" in body["error"]
    status, _, body = call(api, "PATCH", f"{V1}/campaigns/{cid}", {"tenant": "other"})
    assert status == 422 and "tenant" in body["error"]

    now = datetime.now(timezone.utc).isoformat()
    ingest(api, [dict(m, text="삭제시험 전에 쓴 글", posted_at=now) for m in make_mentions(5, seed=21, prefix="del-a")])
    wait_until(lambda: api.scalar(f"SELECT count() FROM mentions FINAL WHERE has(campaigns, '{cid}')") == 5, 60,
               "the campaign's mentions before the delete")

    status, _, body = call(api, "DELETE", f"{V1}/campaigns/{cid}")
    assert status == 200 and body == {"campaign_id": cid, "deleted": True}
    assert call(api, "GET", f"{V1}/campaigns/{cid}")[0] == 404
    assert cid not in [c["campaign_id"] for c in call(api, "GET", f"{V1}/campaigns")[2]["campaigns"]]
    assert call(api, "DELETE", f"{V1}/campaigns/{cid}")[0] == 404

    ingest(api, [dict(m, text="삭제시험 뒤에 쓴 글", posted_at=now) for m in make_mentions(5, seed=22, prefix="del-b")])
    wait_until(lambda: stored(api, "del-b") == 5, 60, "mentions sent after the delete")
    assert api.scalar(f"SELECT count() FROM mentions FINAL WHERE has(campaigns, '{cid}')") == 5  # only the first 5
    # ClickHouse's copy of the campaign is the deleted one
    wait_until(lambda: api.sql(f"SELECT deleted FROM campaigns FINAL WHERE campaign_id = '{cid}'") == [(True,)], 30,
               "the deleted campaign in ClickHouse")

    # a registry that reads the topic from the start (a worker after a restart) sees it deleted
    async def reread() -> CampaignRegistry:
        registry = CampaignRegistry()
        await registry.follow(api.broker.bootstrap_servers)
        try:
            await asyncio.wait_for(registry.ready.wait(), 30)
        finally:
            await registry.stop()
        return registry

    registry = asyncio.run(reread())
    assert cid in registry.deleted and cid not in registry.campaigns


def test_mentions_filters_and_pagination(api):
    assert call(api, "POST", f"{V1}/campaigns", {"campaign_id": "pager", "brand": "페이저",
                                                 "keywords": ["페이지시험"]})[0] == 201
    now = datetime.now(timezone.utc).replace(microsecond=0)
    mentions = make_mentions(37, seed=31, prefix="pg")
    for i, m in enumerate(mentions):
        # a third share one posted_at: the order must still be total (event_id breaks the tie)
        m["posted_at"] = (now - timedelta(seconds=0 if i % 3 == 0 else i)).isoformat()
        m["text"] = "페이지시험 " + ("특별한단어 " if i < 4 else "") + m["text"]
    ingest(api, mentions)
    ingest(api, mentions[:5])  # posted twice: still one row each
    wait_until(lambda: stored(api, "pg") == 37, 60, "the paged mentions stored")

    seen, cursor, pages = [], None, 0
    while True:
        status, _, page = call(api, "GET", f"{V1}/campaigns/pager/mentions?limit=5"
                                           + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200, page
        seen += page["mentions"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    ids = [r["event_id"] for r in seen]
    assert len(ids) == len(set(ids)) == 37 and pages == 8  # no row twice, none skipped
    assert [(r["posted_at"], r["event_id"]) for r in seen] == sorted(((r["posted_at"], r["event_id"]) for r in seen),
                                                                   reverse=True)

    def rows(params: str) -> list[dict]:
        status, _, page = call(api, "GET", f"{V1}/campaigns/pager/mentions?limit=500&{params}")
        assert status == 200, page
        return page["mentions"]

    platform = mentions[0]["platform"]
    assert {r["platform"] for r in rows(f"platform={platform}")} == {platform}
    assert len(rows(f"platform={platform}")) == sum(m["platform"] == platform for m in mentions)
    for label in ("negative", "neutral", "positive"):
        assert {r["sentiment_label"] for r in rows(f"sentiment={label}")} <= {label}
    assert len(rows("sentiment=negative")) + len(rows("sentiment=neutral")) + len(rows("sentiment=positive")) == 37
    credible = rows("credible=true")
    assert all(r["credible"] for r in credible) and len(credible) + len(rows("credible=false")) == 37
    assert all(r["credibility"] >= 50 for r in rows("min_credibility=50"))
    assert sorted(r["post_id"] for r in rows("q=" + urllib.request.quote("특별한단어"))) == ["pg-0", "pg-1", "pg-2", "pg-3"]
    assert rows("q=%25") == []  # LIKE wildcards are text here
    since = (now - timedelta(seconds=10)).isoformat()
    recent = rows(f"since={urllib.request.quote(since)}")
    assert recent and all(r["posted_at"] >= since.replace("+00:00", "") for r in recent)
    assert len(recent) + len(rows(f"until={urllib.request.quote(since)}")) == 37


@pytest.mark.parametrize("params, message", [
    ("limit=501", "limit"), ("limit=0", "limit"), ("limit=ten", "limit"), ("platform=myspace", "platform"),
    ("sentiment=angry", "sentiment"), ("credible=maybe", "credible"), ("min_credibility=101", "min_credibility"),
    ("since=yesterday", "since"), ("cursor=not-a-cursor", "cursor"), ("cursor=WzEsMl0", "cursor"),
    ("limit=5&limit=6", "more than once"), ("since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "before"),
])
def test_bad_mention_filters_get_400(api, params, message):
    status, _, body = call(api, "GET", f"{V1}/campaigns/pager/mentions?{params}")
    assert status == 400 and message in body["error"], body


def test_ingest_accepts_the_valid_part_of_a_batch(api):
    good = make_mentions(2, seed=41, prefix="partial")
    status, _, body = call(api, "POST", f"{V1}/mentions", [good[0], {"platform": "twitter"}, 5, good[1]])
    assert status == 202, body
    assert body["accepted"] == 2 and body["rejected"] == 2 and len(body["event_ids"]) == 2
    assert [e["index"] for e in body["errors"]] == [1, 2]
    assert "post_id" in body["errors"][0]["error"] and "object" in body["errors"][1]["error"]
    wait_until(lambda: stored(api, "partial") == 2, 60, "the accepted part stored")

    status, _, body = call(api, "POST", f"{V1}/mentions", [{"nope": 1}])
    assert status == 422 and body["accepted"] == 0 and body["rejected"] == 1 and "none were accepted" in body["error"]
    assert call(api, "POST", f"{V1}/mentions", [])[0] == 400
    status, _, body = call(api, "POST", f"{V1}/mentions", raw=b"[1,", content_type="application/json")
    assert status == 400 and "not valid JSON" in body["error"]
    status, _, body = call(api, "POST", f"{V1}/mentions", raw=b"platform=x", content_type="text/plain")
    assert status == 415 and "application/json" in body["error"]
    status, _, body = call(api, "POST", f"{V1}/mentions", raw=b"[" + b'"x",' * 3_000_000 + b'"x"]')
    assert status == 413 and "bytes" in body["error"]


def test_predictions_404_then_a_real_prediction_with_insights_and_actuals(api):
    assert call(api, "POST", f"{V1}/campaigns", {"campaign_id": "predicted", "brand": "예측",
                                                 "keywords": ["예측시험"]})[0] == 201
    status, _, body = call(api, "GET", f"{V1}/predictions/predicted")
    assert status == 404 and "no prediction" in body["error"]

    now = datetime.now(timezone.utc).isoformat()
    texts = ["예측시험 너무 좋아요 꼭 살게요", "예측시험 최악이에요 환불해주세요", "예측시험 그냥 그래요"]
    ingest(api, [dict(m, text=texts[i % 3], posted_at=now) for i, m in enumerate(make_mentions(30, seed=51, prefix="pr"))])
    wait_until(lambda: stored(api, "pr") == 30, 60, "the campaign's mentions stored")
    status, made = api.post("/api/predictions", {"campaign_id": "predicted"})
    assert status == 201, made

    status, _, report = call(api, "GET", f"{V1}/predictions/predicted")
    assert status == 200, report
    assert report["latest"]["prediction_id"] == made["prediction_id"] == report["history"][0]["prediction_id"]
    assert report["latest"]["mentions_used"] > 0
    assert report["insights"] and all(i["text"]["ko"] and i["text"]["en"] for i in report["insights"])
    assert f"{report['latest']['mentions_used']}" in report["insights"][0]["text"]["en"]
    assert all(r["ko"] and r["en"] for r in report["recommendations"])

    pid = made["prediction_id"]
    status, _, body = call(api, "POST", f"{V1}/predictions/{pid}/actuals", {"metric": "brand_sentiment", "value": 0.1})
    assert status == 201, body
    assert body["outcome"]["campaign_id"] == "predicted" and body["outcome"]["value"] == 0.1
    assert [(r["campaign_id"], r["metric"]) for r in body["accuracy"]] == [("predicted", "brand_sentiment")]
    assert call(api, "GET", f"{V1}/predictions/predicted")[2]["latest"]["actual_brand_sentiment"] == 0.1

    status, _, body = call(api, "POST", f"{V1}/predictions/{pid}/actuals", {"metric": "brand_sentiment", "value": 3})
    assert status == 422 and "brand_sentiment" in body["error"]
    status, _, body = call(api, "POST", f"{V1}/predictions/nope/actuals", {"metric": "purchase_intent", "value": 0.1})
    assert status == 404 and "unknown prediction" in body["error"]
    status, _, body = call(api, "POST", f"{V1}/predictions/{pid}/actuals", {"metric": "mood", "value": 0.1})
    assert status == 422 and "metric" in body["error"]


def test_sql_alerts_meme_and_the_document(api):
    status, _, body = call(api, "POST", f"{V1}/sql", {"sql": "SELECT 1 AS one, 'a' AS two"})
    assert status == 200 and body == {"columns": ["one", "two"], "rows": [[1, "a"]]}
    status, _, body = call(api, "POST", f"{V1}/sql", {"sql": "SELECT 1 FORMAT JSON"})
    assert status == 400 and "FORMAT" in body["error"] and "columns" in body["error"]
    status, _, body = call(api, "POST", f"{V1}/sql", {"query": "SELECT 1"})
    assert status == 422 and "sql" in body["error"]
    assert call(api, "POST", f"{V1}/sql", {"sql": "INSERT INTO mentions SELECT * FROM mentions"})[0] == 403

    status, _, body = call(api, "GET", f"{V1}/alerts?status=open&limit=5")
    assert status == 200 and all(a["status"] == "open" for a in body["alerts"]) and len(body["alerts"]) <= 5
    assert call(api, "GET", f"{V1}/alerts?status=closed")[0] == 400
    assert call(api, "GET", f"{V1}/alerts?campaign_id=no%20spaces")[0] == 400

    status, _, body = call(api, "POST", f"{V1}/analyze/meme", {"image_url": "https://example.com/m.png"})
    assert status == 501 and "meme analyser" in body["error"]

    with urllib.request.urlopen(api.url + f"{V1}/openapi.json", timeout=30) as r:  # no key needed
        doc = orjson.loads(r.read())
    assert doc["openapi"].startswith("3.1")
    for path in ("/campaigns", "/campaigns/{campaign_id}", "/campaigns/{campaign_id}/mentions", "/mentions", "/sql",
                 "/alerts", "/predictions/{campaign_id}", "/predictions/{prediction_id}/actuals", "/analyze/meme",
                 "/realtime/{campaign_id}", "/ws/{campaign_id}", "/ws/alerts"):
        assert V1 + path in doc["paths"], path
    assert set(doc["paths"][f"{V1}/campaigns/{{campaign_id}}"]) == {"get", "patch", "delete"}
    assert doc["components"]["schemas"]["ErrorBody"]["required"] == ["error"]
    assert "bearer" in doc["components"]["securitySchemes"]


def test_old_routes_work_and_say_they_are_deprecated(api):
    status, headers, body = call(api, "GET", "/api/campaigns")
    assert status == 200 and "campaigns" in body
    assert headers["Deprecation"].startswith("@")
    assert headers["Link"] == f'<{V1}/campaigns>; rel="successor-version"'
    status, headers, _ = call(api, "POST", "/api/sql", {"sql": "SELECT 1"})
    assert status == 200 and headers["Link"] == f'<{V1}/sql>; rel="successor-version"'
    assert "Deprecation" not in call(api, "GET", f"{V1}/campaigns")[1]


def test_a_tenant_sees_only_its_campaigns(api):
    acme = api.keys.create("acme", name="acme").key
    assert call(api, "POST", f"{V1}/campaigns", {"campaign_id": "admins", "brand": "a", "keywords": ["어드민"]})[0] == 201
    status, _, mine = call(api, "POST", f"{V1}/campaigns", {"brand": "acme", "keywords": ["에이크미"]}, key=acme)
    assert status == 201 and mine["tenant"] == "acme"
    assert [c["campaign_id"] for c in call(api, "GET", f"{V1}/campaigns", key=acme)[2]["campaigns"]] == [
        mine["campaign_id"]]
    for method, path, body in [("GET", "/campaigns/admins", None), ("PATCH", "/campaigns/admins", {"name": "x"}),
                               ("DELETE", "/campaigns/admins", None), ("GET", "/campaigns/admins/mentions", None),
                               ("GET", "/predictions/admins", None), ("GET", "/alerts?campaign_id=admins", None),
                               ("GET", "/campaigns/no-such-id", None), ("GET", "/predictions/*", None)]:
        status, _, answer = call(api, method, V1 + path, body, key=acme)
        assert status == 403 and "tenant" in answer["error"], (method, path, answer)
    status, _, body = call(api, "POST", f"{V1}/campaigns", {"brand": "b", "keywords": ["k"], "tenant": "bolt"}, key=acme)
    assert status == 403 and "another tenant" in body["error"]
    assert call(api, "POST", f"{V1}/campaigns", {"campaign_id": "admins", "brand": "b", "keywords": ["k"]},
                key=acme)[0] == 403


@pytest.mark.parametrize("method, path, raw, content_type, status, message", [
    ("POST", "/campaigns", b'{"brand": "b"}', "application/json", 422, "keywords or a query"),
    ("POST", "/campaigns", b'{"brand": "b", "keywords": ["k"], "platfrom": []}', "application/json", 422, "platfrom"),
    ("POST", "/campaigns", b'{"brand": "b", "keywords": ["k"], "platforms": ["myspace"]}', "application/json", 422,
     "platforms"),
    ("POST", "/campaigns", b'{"brand": "b", "query": "(a AND"}', "application/json", 422, "query"),
    ("POST", "/campaigns", b'{"brand": "b", "keywords": ["k"], "campaign_id": "a b"}', "application/json", 422,
     "campaign_id"),
    ("POST", "/campaigns", b'["b"]', "application/json", 422, "JSON object"),
    ("POST", "/campaigns", b'{"brand": ', "application/json", 400, "not valid JSON"),
    ("POST", "/campaigns", b'brand=b', "application/x-www-form-urlencoded", 415, "application/json"),
    ("GET", "/campaigns/%20bad", None, "", 400, "campaign_id"),
    ("GET", "/campaigns/" + "x" * 129, None, "", 400, "campaign_id"),
    ("GET", "/campaigns/unknown-one", None, "", 404, "unknown campaign"),
    ("PATCH", "/campaigns/unknown-one", b"{}", "application/json", 404, "unknown campaign"),
    ("GET", "/predictions/%27%3B--", None, "", 400, "campaign_id"),
    ("POST", "/predictions/x/actuals", b"{}", "application/json", 422, "metric"),
    ("POST", "/sql", b'{"sql": ""}', "application/json", 422, "sql"),
    ("POST", "/sql", b'{"sql": "SELECT count( FROM mentions"}', "application/json", 400, "could not be parsed"),
    ("POST", "/sql", b'{"sql": "SELECT 1"}', "text/plain", 415, "application/json"),
    ("GET", "/alerts?limit=0", None, "", 400, "limit"),
])
def test_every_route_answers_bad_input_with_a_4xx_and_a_message(api, method, path, raw, content_type, status, message):
    got, _, body = call(api, method, V1 + path, raw=raw, content_type=content_type or "application/json")
    assert got == status and message in body["error"], body
