"""The design's ops rules: evaluated in the worker over its real metrics registry and published
to alerts.ops when they fire and when they resolve; the same rules for Prometheus, checked and
unit-tested with promtool; /ready names what is not reachable."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import orjson
import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge

from agents.ops import OpsRules, histogram_quantile
from schemas.records import OpsAlert
from streams.kafka.embedded import EmbeddedBroker, free_port
from streams.metrics import Metrics
from tests.conftest import WorkerProcess, wait_until, worker_env
from tests.test_api import _read_topic

REPO = Path(__file__).resolve().parent.parent
RULES_DIR = REPO / "streams" / "ops"


class Published:
    """The evaluator's send: what went to the topic, decoded as the records they are."""

    def __init__(self) -> None:
        self.alerts: list[OpsAlert] = []

    async def __call__(self, key: bytes, value: bytes) -> None:
        alert = OpsAlert.loads(value)
        assert key == alert.alert_id.encode()
        self.alerts.append(alert)


def _rules(registry: CollectorRegistry) -> tuple[OpsRules, Published]:
    sent = Published()
    return OpsRules(registry, sent, window_seconds=300, started_at=0.0), sent


def _evaluate(rules: OpsRules, at: float) -> list[OpsAlert]:
    return asyncio.run(rules.evaluate(at))


def test_http_error_rate_fires_once_and_resolves_when_the_window_passes():
    metrics = Metrics()
    rules, sent = _rules(metrics.registry)
    ok = metrics.http_requests.labels("/api/windows", "GET", "200")
    ok.inc(200)
    assert _evaluate(rules, 10) == []
    metrics.http_requests.labels("/api/mentions", "POST", "503").inc(5)  # 5 of 205: 2.4 %
    (fired,) = _evaluate(rules, 20)
    assert (fired.kind, fired.state, fired.labels) == ("error_rate", "firing", {"source": "http"})
    assert fired.value == pytest.approx(5 / 205) and fired.threshold == 0.01
    assert "5 of 205 HTTP requests answered 5xx" in fired.message
    ok.inc(100)
    assert _evaluate(rules, 30) == []  # still firing: not published again
    ok.inc(300)
    (resolved,) = _evaluate(rules, 200)  # 5 of 605 since the start, within the window: 0.8 %
    assert rules.firing == {}
    assert resolved.alert_id == fired.alert_id and resolved.raised_at == fired.raised_at


def test_error_rate_needs_traffic_in_the_window():
    metrics = Metrics()
    rules, sent = _rules(metrics.registry)
    metrics.http_requests.labels("/api/sql", "POST", "500").inc(3)
    assert [a.state for a in _evaluate(rules, 10)] == ["firing"]
    # no request at all for 5 minutes: nothing to measure, so the alert resolves
    (resolved,) = _evaluate(rules, 400)
    assert resolved.state == "resolved" and resolved.value is None
    assert _evaluate(rules, 410) == []


def test_pipeline_error_rate_counts_dead_letters_over_consumed_records():
    registry = CollectorRegistry()
    scored = Counter("truevoice_mentions_scored", "scored", registry=registry)
    lettered = Counter("truevoice_mentions_deadlettered", "dead-lettered", registry=registry)
    refused = Counter("truevoice_clickhouse_refused", "refused", registry=registry)
    rules, sent = _rules(registry)
    scored.inc(1000)
    lettered.inc(5)  # 5 of 1005
    assert _evaluate(rules, 10) == []
    refused.inc(20)  # 25 of 1005: 2.5 %
    (fired,) = _evaluate(rules, 20)
    assert fired.labels == {"source": "pipeline"} and fired.value == pytest.approx(25 / 1005)
    scored.inc(100_000)  # the next five minutes are clean
    (resolved,) = _evaluate(rules, 330)
    assert resolved.state == "resolved" and resolved.value == 0


def test_api_latency_p99_over_one_second_fires_and_sql_does_not_count():
    metrics = Metrics()
    rules, sent = _rules(metrics.registry)
    slow_sql = metrics.http_seconds.labels("/api/sql", "POST", "2xx")
    for _ in range(50):
        slow_sql.observe(20.0)  # analysts' queries: their own timeout, not the API's latency
    windows = metrics.http_seconds.labels("/api/windows", "GET", "2xx")
    for _ in range(200):
        windows.observe(0.004)
    assert _evaluate(rules, 10) == []
    for _ in range(5):
        windows.observe(3.0)  # 5 of 205 over 2.5 s: the 99th percentile is in that bucket
    (fired,) = _evaluate(rules, 20)
    assert fired.kind == "api_latency_p99" and 2.5 < fired.value <= 5.0
    for _ in range(1000):
        windows.observe(0.004)
    (resolved,) = _evaluate(rules, 330)
    assert resolved.state == "resolved" and resolved.value < 0.01


def test_pipeline_lag_from_the_backlog_and_from_stored_lag():
    metrics = Metrics()
    backlog = Gauge("truevoice_backlog_records", "backlog", registry=metrics.registry)
    capacity = Gauge("truevoice_backlog_capacity_per_second", "capacity", registry=metrics.registry)
    rules, sent = _rules(metrics.registry)
    backlog.set(50_000)  # no capacity measured yet: no verdict from the backlog
    assert _evaluate(rules, 10) == []
    capacity.set(100)  # 500 s behind
    (fired,) = _evaluate(rules, 20)
    assert fired.kind == "pipeline_lag" and fired.value == 500
    backlog.set(100)
    (resolved,) = _evaluate(rules, 30)
    assert resolved.state == "resolved"
    metrics.stored_lag_seconds.observe(700)  # a sink batch stored 700 s after it was scored
    (fired,) = _evaluate(rules, 40)
    assert fired.state == "firing" and 300 < fired.value <= 900


def test_prediction_accuracy_per_campaign_and_metric():
    registry = CollectorRegistry()
    accuracy = Gauge("truevoice_prediction_accuracy", "accuracy", ["campaign", "metric"], registry=registry)
    rules, sent = _rules(registry)
    accuracy.labels("ok", "brand_sentiment").set(0.9)
    accuracy.labels("pred", "brand_sentiment").set(0.55)
    (fired,) = _evaluate(rules, 10)
    assert (fired.kind, fired.campaign_id, fired.metric, fired.value) == ("prediction_accuracy", "pred",
                                                                         "brand_sentiment", 0.55)
    assert "under 70.0%" in fired.message
    assert _evaluate(rules, 20) == []
    accuracy.labels("pred", "brand_sentiment").set(0.8)
    (resolved,) = _evaluate(rules, 30)
    assert resolved.state == "resolved" and resolved.campaign_id == "pred"


def test_a_failed_send_is_published_on_the_next_evaluation():
    registry = CollectorRegistry()
    accuracy = Gauge("truevoice_prediction_accuracy", "accuracy", ["campaign", "metric"], registry=registry)
    accuracy.labels("pred", "purchase_intent").set(0.1)
    sent: list[bytes] = []

    async def flaky(key: bytes, value: bytes) -> None:
        if not sent:
            sent.append(b"")
            raise ConnectionError("broker down")
        sent.append(value)

    rules = OpsRules(registry, flaky, window_seconds=300, started_at=0.0)
    with pytest.raises(ConnectionError):
        _evaluate(rules, 10)
    assert rules.firing == {}
    (fired,) = _evaluate(rules, 20)
    assert fired.state == "firing" and OpsAlert.loads(sent[-1]) == fired


@pytest.mark.parametrize("buckets, expected", [
    ([(0.1, 50), (1.0, 100), (float("inf"), 100)], 0.1 + 0.9 * (99 - 50) / 50),
    ([(0.1, 0), (float("inf"), 10)], 0.1),  # in the +Inf bucket: the highest finite bound
    ([(0.1, 0), (float("inf"), 0)], None),
])
def test_histogram_quantile_interpolates_as_promql(buckets, expected):
    assert histogram_quantile(0.99, buckets) == (pytest.approx(expected) if expected is not None else None)


def _promtool() -> str:
    exe = shutil.which("promtool")
    assert exe, "promtool is not installed (Debian package prometheus; make system-deps)"
    return exe


def test_prometheus_rules_file_is_valid():
    proc = subprocess.run([_promtool(), "check", "rules", str(RULES_DIR / "prometheus_rules.yml")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS: 5 rules found" in proc.stdout


def test_prometheus_rules_fire_on_their_unit_test_series():
    proc = subprocess.run([_promtool(), "test", "rules", "prometheus_rules_test.yml"], cwd=RULES_DIR,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# what the Prometheus rules read; the worker test checks that a real worker exposes each of them
EXPOSED = {"truevoice_http_requests_total", "truevoice_http_request_duration_seconds_bucket",
           "truevoice_mentions_deadlettered_total", "truevoice_clickhouse_refused_total",
           "truevoice_records_dead_lettered_by_loops_total", "truevoice_mentions_scored_total",
           "truevoice_backlog_records", "truevoice_backlog_capacity_per_second",
           "truevoice_end_to_end_lag_seconds_bucket", "truevoice_prediction_accuracy"}


def test_prometheus_rules_read_the_metrics_the_worker_exposes():
    import re

    import yaml

    rules = yaml.safe_load((RULES_DIR / "prometheus_rules.yml").read_text())["groups"][0]["rules"]
    used = {name for r in rules for name in re.findall(r"truevoice_[a-z_0-9]+", r["expr"])}
    assert used == EXPOSED
    assert {r["labels"]["rule"] for r in rules} == {"error_rate", "api_latency_p99", "pipeline_lag",
                                                    "prediction_accuracy"}


async def _send_raw(bootstrap: str, values: list[bytes]) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for v in values:
            await producer.send_and_wait("mentions.raw", v)
    finally:
        await producer.stop()


def _exposed_names(worker: WorkerProcess) -> set[str]:
    """The series names /metrics can hold: every family, empty ones too (a labelled gauge or a
    histogram with nothing observed yet), as Prometheus names their samples."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(urllib.request.Request(worker.url + "/metrics", headers=worker.headers)) as r:
        families = list(text_string_to_metric_families(r.read().decode()))
    suffix = {"counter": "_total", "histogram": "_bucket"}
    return {f.name + suffix.get(f.type, "") for f in families}


def _get(url: str) -> tuple[int, dict]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, orjson.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, orjson.loads(exc.read())


def test_a_worker_publishes_firing_and_resolved_and_ready_names_a_lost_broker(tmp_path):
    """Records that cannot be scored raise the pipeline error rate of a real worker over 1 %: one
    firing record on alerts.ops, then one resolved once the (short) window has passed; /ready
    answers 503 naming the broker when it is gone, while /health still answers."""
    with EmbeddedBroker() as broker:
        env = worker_env(broker, tmp_path / "data", free_port())
        env.update(TRUEVOICE_OPS_EVAL_SECONDS="0.5", TRUEVOICE_OPS_WINDOW_SECONDS="4")
        worker = WorkerProcess(["worker"], env, tmp_path / "data", int(env["TRUEVOICE_WEB_PORT"]),
                               tmp_path / "worker.log").start()
        try:
            assert EXPOSED <= _exposed_names(worker)
            status, body = _get(worker.url + "/ready")
            assert status == 200 and body == {"ready": True, "problems": []}

            asyncio.run(_send_raw(broker.bootstrap_servers, [b"not json %d" % i for i in range(20)]))

            def ops() -> list[dict]:
                return [a for a in asyncio.run(_read_topic(broker.bootstrap_servers, "alerts.ops"))
                        if a.get("kind") == "error_rate" and a["labels"] == {"source": "pipeline"}]

            firing = wait_until(lambda: [a for a in ops() if a["state"] == "firing"], 60, "a firing ops alert")
            assert len(firing) == 1 and firing[0]["value"] == 1.0
            assert "20 records dead-lettered, 20 consumed" in firing[0]["message"]
            resolved = wait_until(lambda: [a for a in ops() if a["state"] == "resolved"], 60, "the alert resolved")
            assert resolved[0]["alert_id"] == firing[0]["alert_id"]
            assert [a["state"] for a in ops()] == ["firing", "resolved"]  # no repeats while it fired

            broker.stop()
            status, body = wait_until(lambda: (lambda r: r if r[0] == 503 else None)(_get(worker.url + "/ready")),
                                      60, "/ready to answer 503")
            assert body["ready"] is False and any(p.startswith("broker:") for p in body["problems"]), body
            assert _get(worker.url + "/health") == (200, {"status": "ok"})
        finally:
            worker.kill()
