"""The HTTP API of a running worker: 4xx with a message for bad input, ingest, campaigns, alerts."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import aiohttp
import pytest

from streams.kafka.embedded import EmbeddedBroker, free_port
from tests.conftest import WorkerProcess, wait_until, worker_env
from tests.mentions import make_mentions


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("api")
    with EmbeddedBroker() as broker:
        port = free_port()
        env = worker_env(broker, tmp / "data", port)
        worker = WorkerProcess(["worker"], env, tmp / "data", port, tmp / "worker.log").start()
        worker.broker = broker
        try:
            yield worker
        finally:
            worker.stop()


@pytest.mark.parametrize("path, body, status, message", [
    ("/api/mentions", b"{not json", 400, "not valid JSON"),
    ("/api/mentions", b"[]", 400, "1 to 10000"),
    ("/api/mentions", b'[{"platform": "twitter"}]', 422, "post_id: Field required"),
    ("/api/sql", b'{"query": "SELECT 1"}', 400, '{"sql"'),
    ("/api/sql", b'{"sql": "SELECT count( FROM mentions"}', 400, "could not be parsed"),
    ("/api/sql", b'{"sql": "SELECT nope FROM mentions"}', 400, "nope"),
    ("/api/sql", b'{"sql": "INSERT INTO mentions SELECT * FROM mentions"}', 403, "INSERT is not allowed"),
    ("/api/sql", b'{"sql": "SELECT * FROM file(\'/etc/passwd\', \'LineAsString\')"}', 403, "file() is not allowed"),
    ("/api/sql", b'{"sql": "SELECT * FROM url(\'http://127.0.0.1:1/\', \'LineAsString\')"}', 403, "url() is not allowed"),
    ("/api/sql", b'{"sql": "SELECT 1 INTO OUTFILE \'/tmp/tv-pwned\'"}', 403, "INTO OUTFILE"),
    ("/api/sql", b'{"sql": "SELECT $$x$$ FROM system.users"}', 403, "system.users"),
    ("/api/sql", b'{"sql": "SELECT 1 SETTINGS readonly = 0"}', 403, "SETTINGS"),
    ("/api/campaigns", b'{"campaign_id": "x", "brand": "b"}', 422, "keywords or a query"),
    ("/api/campaigns", b'{"campaign_id": "x", "brand": "b", "query": "(a AND"}', 422, "query"),
])
def test_bad_requests_get_a_4xx_with_a_message(api, path, body, status, message):
    import urllib.error
    import urllib.request

    import orjson

    req = urllib.request.Request(api.url + path, data=body, headers={"Content-Type": "application/json", **api.headers})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=30)
    assert info.value.code == status
    body = orjson.loads(info.value.read())
    assert message in body["error"] + " ".join(e["error"] for e in body.get("errors", []))


@pytest.mark.parametrize("method, path, status, message, allow", [
    ("GET", "/api/v1/realtime/", 404, "Not Found: GET /api/v1/realtime/", None),
    ("GET", "/api/v1/nothing-here", 404, "Not Found: GET /api/v1/nothing-here", None),
    ("DELETE", "/health", 405, "Method Not Allowed: DELETE /health", "GET"),
])
def test_the_routers_own_errors_are_json_too(api, method, path, status, message, allow):
    """No such route, or a method the route does not take: JSON with a message, like every error."""
    import urllib.error
    import urllib.request

    import orjson

    req = urllib.request.Request(api.url + path, method=method, headers=api.headers)
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=30)
    assert info.value.code == status
    assert info.value.headers["Content-Type"].startswith("application/json")
    assert orjson.loads(info.value.read())["error"] == message
    if allow:
        assert allow in info.value.headers["Allow"]


def test_windows_without_a_platform_sum_all_platforms(api):
    import urllib.error
    import urllib.request

    now = datetime.now(timezone.utc).isoformat()
    mentions = [dict(m, text="윈도합계 테스트", posted_at=now) for m in make_mentions(30, seed=5, prefix="win")]
    platforms = ["twitter", "blind", "clien"]
    for i, m in enumerate(mentions):
        m["platform"] = platforms[i % 3]
    status, _ = api.post("/api/campaigns", {"campaign_id": "winsum", "brand": "w", "keywords": ["윈도합계"]})
    assert status == 201
    wait_until(lambda: any(c["campaign_id"] == "winsum" for c in api.get("/api/campaigns")["campaigns"]), 30, "campaign")
    status, _ = api.post("/api/mentions", mentions)
    assert status == 202

    def counts(platform: str = "") -> int:
        query = "/api/windows?campaign=winsum&windows=5" + (f"&platform={platform}" if platform else "")
        return int(sum(row["count"] for row in api.get(query)["tumbling_1m"]))

    wait_until(lambda: counts() == 30, 60, "the campaign's windows over all platforms")
    assert [counts(p) for p in platforms] == [10, 10, 10]
    body = api.get("/api/windows?campaign=winsum&windows=5")
    assert body["platform"] == "*" and body["hopping_1h_1m"][-1]["count"] == 30
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(urllib.request.Request(api.url + "/api/windows?campaign=*&platform=myspace",
                                                      headers=api.headers), timeout=30)
    assert info.value.code == 400


def test_ingest_and_campaign_matching(api):
    status, body = api.post("/api/campaigns", {"campaign_id": "shin", "brand": "nongshim", "keywords": ["신라면"]})
    assert status == 201 and body["campaign_id"] == "shin"
    wait_until(lambda: any(c["campaign_id"] == "shin" for c in api.get("/api/campaigns")["campaigns"]), 30, "campaign")
    mentions = make_mentions(40, seed=9, prefix="api")
    status, body = api.post("/api/mentions", mentions)
    assert status == 202 and body["accepted"] == 40
    expected = sum("신라면" in m["text"] for m in mentions)
    wait_until(lambda: api.scalar("SELECT count() FROM mentions FINAL WHERE post_id LIKE 'api-%'") == 40, 60, "rows")
    assert api.scalar("SELECT countIf(has(campaigns, 'shin')) FROM mentions FINAL WHERE post_id LIKE 'api-%'") == expected
    wait_until(lambda: api.scalar("SELECT count() FROM campaigns FINAL WHERE campaign_id = 'shin'") == 1, 30,
               "the campaign stored in ClickHouse")


def test_a_burst_reaches_websocket_clients_as_an_alert(api):
    status, _ = api.post("/api/campaigns", {"campaign_id": "burst", "brand": "b", "keywords": ["버스트테스트"],
                                            "min_mentions": 25, "spike_threshold": 3.0})
    assert status == 201
    wait_until(lambda: any(c["campaign_id"] == "burst" for c in api.get("/api/campaigns")["campaigns"]), 30, "campaign")
    now = datetime.now(timezone.utc).isoformat()
    burst = [dict(m, text="버스트테스트 완전 최악 환불해줘", posted_at=now) for m in make_mentions(30, seed=4, prefix="bu")]
    for m in burst:
        m["platform"] = "blind"

    async def listen() -> dict:
        async with aiohttp.ClientSession(headers=api.headers) as session:
            async with session.ws_connect(api.url.replace("http", "ws") + "/ws/alerts") as ws:
                status, _ = await asyncio.to_thread(api.post, "/api/mentions", burst)
                assert status == 202
                while True:
                    msg = await asyncio.wait_for(ws.receive_json(), 60)
                    if msg["campaign_id"] == "burst":
                        return msg

    alert = asyncio.run(listen())
    assert alert["platform"] == "*" and alert["platforms"] == ["blind"] and alert["status"] == "open"
    assert set(alert["kinds"]) <= {"velocity", "negative_sentiment"} and alert["count"] >= 25
    assert alert["count"] > alert["expected_high"] and alert["severity"] in ("low", "medium", "high", "critical")
    # the explanation: what people say (normalised, stop words out) and example mentions
    assert {"버스트테스트", "최악", "환불해줘"} & set(alert["terms"]), alert["terms"]
    assert alert["examples"] and alert["examples"][0]["text"].startswith("버스트테스트")
    assert "People are saying:" in alert["message"] and "E.g." in alert["message"]
    wait_until(lambda: api.scalar("SELECT count() FROM alerts FINAL WHERE campaign_id = 'burst'") >= 1, 60, "stored alert")
    stored = api.sql(f"SELECT terms, example_ids, platforms FROM alerts FINAL WHERE alert_id = '{alert['alert_id']}'")
    assert stored and stored[0][0] and stored[0][1] and stored[0][2] == ["blind"]
    listed = [a for a in api.get("/api/alerts")["alerts"] if a["alert_id"] == alert["alert_id"]]
    assert len(listed) == 1 and listed[0]["examples"]


def test_health_ready_metrics(api):
    assert api.get("/health") == {"status": "ok"}
    assert api.get("/ready") == {"ready": True, "problems": []}
    before = _scrape(api)
    counters = ["truevoice_mentions_scored", "truevoice_mentions_deadlettered", "truevoice_clickhouse_rows",
                "truevoice_clickhouse_refused", "truevoice_window_deltas_applied", "truevoice_window_deltas_duplicate",
                "truevoice_records_dead_lettered_by_loops", "truevoice_loop_failures", "truevoice_alerts_raised",
                "truevoice_predictions_made", "truevoice_http_requests"]
    histograms = ["truevoice_http_request_duration_seconds", "truevoice_scoring_batch_seconds",
                  "truevoice_clickhouse_insert_seconds", "truevoice_end_to_end_lag_seconds"]
    gauges = ["truevoice_uptime_seconds", "truevoice_ready", "truevoice_backlog_records",
              "truevoice_backlog_capacity_per_second", "truevoice_analyst_queries_running",
              "truevoice_websocket_clients", "truevoice_consumer_lag_records"]
    assert {name: before[name].type for name in counters + histograms + gauges} == {
        **{name: "counter" for name in counters}, **{name: "histogram" for name in histograms},
        **{name: "gauge" for name in gauges}}
    assert before["truevoice_ready"].samples[0].value == 1
    assert {(s.labels["group"], s.labels["topic"]) for s in before["truevoice_consumer_lag_records"].samples} >= {
        ("truevoice.score", "mentions.raw"), ("truevoice.sink", "mentions.scored")}

    mentions = make_mentions(25, seed=61, prefix="metr")
    assert api.post("/api/mentions", mentions)[0] == 202
    wait_until(lambda: api.scalar("SELECT count() FROM mentions FINAL WHERE post_id LIKE 'metr-%'") == 25, 60, "rows")
    grown = {"truevoice_mentions_scored": 25, "truevoice_clickhouse_rows": 25, "truevoice_window_deltas_applied": 1}

    def counted() -> dict | None:
        m = _scrape(api)
        return m if all(_value(m, name, "_total") >= _value(before, name, "_total") + n for name, n in grown.items()) \
            else None

    after = wait_until(counted, 30, "the mentions counted")
    # a request is counted by its route template, method and status
    ingest = {"route": "/api/mentions", "method": "POST", "status": "202"}
    assert _value(after, "truevoice_http_requests", "_total", ingest) >= \
        _value(before, "truevoice_http_requests", "_total", ingest) + 1
    for name, labels in [("truevoice_scoring_batch_seconds", {}), ("truevoice_clickhouse_insert_seconds", {}),
                         ("truevoice_end_to_end_lag_seconds", {}),
                         ("truevoice_http_request_duration_seconds",
                          {"route": "/api/mentions", "method": "POST", "status_class": "2xx"})]:
        buckets = [s for s in after[name].samples if s.name == name + "_bucket"
                   and labels.items() <= s.labels.items()]
        assert len(buckets) >= 10 and buckets[-1].labels["le"] == "+Inf", name
        count = _value(after, name, "_count", labels)
        assert buckets[-1].value == count > _value(before, name, "_count", labels), name
        assert _value(after, name, "_sum", labels) > 0, name
    # the same names as before counters were typed: what dashboards and the other tests read
    flat = api.metrics()
    assert flat["truevoice_mentions_scored_total"] >= 25 and flat["truevoice_clickhouse_rows_total"] >= 25


def _scrape(api) -> dict:
    """/metrics parsed by prometheus_client: {family name: Metric} (a counter's family has no _total)."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(api.url + "/metrics", timeout=30) as r:
        assert r.headers["Content-Type"].startswith("text/plain")
        return {m.name: m for m in text_string_to_metric_families(r.read().decode())}


def _value(families: dict, name: str, suffix: str, labels: dict | None = None) -> float:
    """The sum of the samples ``name + suffix`` whose labels include ``labels`` (0 when none)."""
    family = families.get(name)
    return sum(s.value for s in (family.samples if family else [])
               if s.name == name + suffix and (labels or {}).items() <= s.labels.items())


def test_an_endless_query_does_not_stall_storage_and_goes_when_its_client_does(api):
    """Analyst SQL runs in its own pool: a query that never ends leaves ingest and the sink alone,
    and a client that hangs up takes its query with it."""
    import socket

    body = b'{"sql": "SELECT count() FROM numbers(1000000000000)"}'
    request = (f"POST /api/sql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    hung_up = socket.create_connection(("127.0.0.1", api.web_port))
    hung_up.sendall(request)
    wait_until(lambda: api.scalar("SELECT count() FROM numbers(1)") == 1, 30, "a second query answered meanwhile")
    mentions = make_mentions(30, seed=31, prefix="busy")
    status, _ = api.post("/api/mentions", mentions)
    assert status == 202
    wait_until(lambda: api.scalar("SELECT count() FROM mentions FINAL WHERE post_id LIKE 'busy-%'") == 30, 60,
               "mentions stored while the endless query runs")
    hung_up.close()  # the client goes away: its query is killed, the pool is free again
    wait_until(lambda: api.metrics()["truevoice_analyst_queries_running"] == 0, 30, "the endless query killed")


def test_a_caller_chosen_event_id_cannot_overwrite_another_mention(api):
    victim, attacker = make_mentions(2, seed=41, prefix="own")
    status, body = api.post("/api/mentions", victim)
    assert status == 202
    victim_id = body["event_ids"][0]
    attacker["event_id"] = victim_id  # someone else's id
    attacker["text"] = "덮어쓰기 시도"
    status, body = api.post("/api/mentions", attacker)
    assert status == 202 and body["event_ids"][0] != victim_id
    wait_until(lambda: api.scalar("SELECT count() FROM mentions FINAL WHERE post_id LIKE 'own-%'") == 2, 60, "both rows")
    assert api.scalar(f"SELECT post_id FROM mentions FINAL WHERE event_id = '{victim_id}'") == victim["post_id"]


def test_predictions_on_demand_and_accuracy_of_recorded_outcomes(api):
    status, _ = api.post("/api/campaigns", {"campaign_id": "pred", "brand": "농심", "keywords": ["신라면"]})
    assert status == 201
    wait_until(lambda: any(c["campaign_id"] == "pred" for c in api.get("/api/campaigns")["campaigns"]), 30, "campaign")
    mentions = [dict(m, text=f"신라면 내돈내산 3주째 먹는 중 존맛 재구매 각 {i}") for i, m in
                enumerate(make_mentions(30, seed=51, prefix="pred"))]
    assert api.post("/api/mentions", mentions)[0] == 202
    wait_until(lambda: api.scalar("SELECT count() FROM mentions FINAL WHERE has(campaigns, 'pred')") == 30, 60,
               "the campaign's mentions")
    status, prediction = api.post("/api/predictions", {"campaign_id": "pred"})
    assert status == 201 and prediction["campaign_id"] == "pred" and prediction["mentions_used"] > 0
    assert prediction["brand_sentiment"] > 0 and 0 <= prediction["confidence"] <= 1
    listed = api.get("/api/predictions?campaign=pred")["predictions"]
    assert listed[0]["prediction_id"] == prediction["prediction_id"]
    assert api.post("/api/predictions", {"campaign_id": "nope"})[0] == 404
    # an outcome far from what was predicted: accuracy falls under 70 % and an ops alert goes out
    status, body = api.post("/api/outcomes", {"campaign_id": "pred", "metric": "brand_sentiment", "value": -0.9})
    assert status == 201
    (row,) = body["accuracy"]
    assert row["rolling_accuracy"] < 0.7 and row["below_alert"]
    assert api.metrics()['truevoice_prediction_accuracy{campaign="pred",metric="brand_sentiment"}'] == row["rolling_accuracy"]
    # the ops rule publishes it at its next evaluation (every 5 s), once, as a firing series
    def accuracy_alerts():
        return [a for a in asyncio.run(_read_topic(api.broker.bootstrap_servers, "alerts.ops"))
                if a["kind"] == "prediction_accuracy" and a["campaign_id"] == "pred"]
    wait_until(accuracy_alerts, 60, "the accuracy alert on alerts.ops")
    (alert,) = accuracy_alerts()
    assert alert["state"] == "firing" and alert["metric"] == "brand_sentiment" and alert["alert_id"]
    assert alert["value"] == row["rolling_accuracy"] and alert["threshold"] == 0.7
    status, body = api.post("/api/outcomes", {"campaign_id": "pred", "metric": "brand_sentiment", "value": 7})
    assert status == 422 and "brand_sentiment" in body["error"]


async def _read_topic(bootstrap: str, topic: str) -> list[dict]:
    import orjson
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=5000)
        return [orjson.loads(r.value) for records in batches.values() for r in records]
    finally:
        await consumer.stop()
