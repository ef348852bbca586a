"""The Prometheus metrics of one worker (served on ``/metrics`` by ``streams.web.api``).

Counts the worker already keeps on its stages (mentions scored, rows stored, deltas applied...)
are read when Prometheus scrapes, by ``WorkerCollector``, and exposed with their real type:
counters for what only grows, gauges for what goes up and down. Latencies are histograms
observed where the work happens, once per batch (never per mention): the stages in ``agents``
get the histograms' ``observe`` as a callback, so they import nothing from here.
"""

from __future__ import annotations

import time
from typing import Any, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

# seconds: an API call answers in milliseconds, an analyst query may run for a minute
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# seconds per batch: a scoring batch or a ClickHouse insert of up to 20,000 records
BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# seconds from scored to stored: sub-second when keeping up, minutes when far behind
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)


class Metrics:
    """The registry of one worker and the histograms its stages and its API observe."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "truevoice_http_requests", "HTTP requests answered, by route template, method and status code",
            ["route", "method", "status"], registry=self.registry)
        self.http_seconds = Histogram(
            "truevoice_http_request_duration_seconds",
            "seconds to answer an HTTP request (WebSocket connections left out), by route template, method "
            "and status class", ["route", "method", "status_class"], buckets=HTTP_BUCKETS, registry=self.registry)
        self.scoring_seconds = Histogram(
            "truevoice_scoring_batch_seconds",
            "seconds a batch of raw records spent in the scoring pool (waiting for a process, then validated, "
            "enriched and scored), one observation per batch", buckets=BATCH_BUCKETS, registry=self.registry)
        self.insert_seconds = Histogram(
            "truevoice_clickhouse_insert_seconds",
            "seconds the sink took to insert one batch into ClickHouse (every try), one observation per batch",
            buckets=BATCH_BUCKETS, registry=self.registry)
        self.stored_lag_seconds = Histogram(
            "truevoice_end_to_end_lag_seconds",
            "seconds from the Kafka timestamp of the oldest mentions.scored record of a sink batch (when it was "
            "scored and produced) to the batch being stored in ClickHouse, one observation per batch",
            buckets=LAG_BUCKETS, registry=self.registry)


def status_class(status: int) -> str:
    return f"{status // 100}xx"


class WorkerCollector:
    """Reads the worker's counts and states at scrape time (``tv`` is a ``streams.app.TrueVoiceApp``,
    ``feed`` the API's ``AlertFeed``)."""

    def __init__(self, tv: Any, feed: Any) -> None:
        self.tv = tv
        self.feed = feed

    def describe(self) -> list[Metric]:
        return []  # registering does not collect (the pipeline may not have started yet)

    def collect(self) -> Iterator[Metric]:
        tv, p = self.tv, self.tv.pipeline
        score = p.score_agent
        counters = {
            "mentions_scored": ("mentions scored by this worker", score.scored if score else 0),
            "mentions_deadlettered": ("records the score stage sent to the dead-letter topic",
                                      score.dead_lettered if score else 0),
            "clickhouse_rows": ("mentions inserted into ClickHouse by this worker", p.sink_agent.rows),
            "clickhouse_refused": ("records ClickHouse refused (the data's fault), dead-lettered",
                                   p.sink_agent.refused),
            "window_deltas_applied": ("window deltas applied to the RocksDB table", tv.applier.applied),
            "window_deltas_duplicate": ("window deltas skipped: their source offsets were applied already",
                                        tv.applier.duplicates),
            "records_dead_lettered_by_loops": ("records a stage could never handle, sent to the dead-letter topic",
                                               sum(loop.dead_lettered for loop in p.loops)),
            "loop_failures": ("batches that failed and were retried", sum(loop.failures for loop in p.loops)),
            "alerts_raised": ("alert records published by this worker (incidents raised, updated, resolved)",
                              tv.alerts.published),
            "predictions_made": ("predictions written by this worker", p.predictor.made if p.predictor else 0),
        }
        for name, (doc, value) in counters.items():
            yield CounterMetricFamily(f"truevoice_{name}", doc, value=value)
        backlog = p.backlog
        gauges = {
            "uptime_seconds": ("seconds since the worker started", time.time() - p.started_at),
            "ready": ("1 when the worker is ready (started, storage taking writes, backlog within bound)",
                      0 if p.problems() else 1),
            "backlog_records": ("records on mentions.raw and mentions.scored not yet committed",
                                backlog.lag if backlog else 0),
            "backlog_capacity_per_second": ("records/s the loops committed while busy (measured)",
                                            backlog.capacity if backlog else 0),
            "analyst_queries_running": ("analyst SQL queries running or waiting", tv.store.analyst.running),
        }
        for name, (doc, value) in gauges.items():
            yield GaugeMetricFamily(f"truevoice_{name}", doc, value=value)
        clients = GaugeMetricFamily("truevoice_websocket_clients", "WebSocket clients connected, by route template",
                                    labels=["route"])
        for route, connected in self.feed.clients_by_route().items():
            clients.add_metric([route], connected)
        yield clients
        yield CounterMetricFamily("truevoice_websocket_messages_dropped",
                                  "messages dropped from full WebSocket client queues (clients too slow to read)",
                                  value=self.feed.dropped())
        lag = GaugeMetricFamily("truevoice_consumer_lag_records",
                                "records not yet committed, by consumer group and topic", labels=["group", "topic"])
        for (group, topic), records in sorted((backlog.lag_by_topic if backlog else {}).items()):
            lag.add_metric([group, topic], records)
        yield lag
        accuracy = GaugeMetricFamily("truevoice_prediction_accuracy",
                                     "rolling accuracy of past predictions against recorded outcomes "
                                     "(1 - |predicted - actual| / range)", labels=["campaign", "metric"])
        for row in (p.predictor.accuracy if p.predictor else []):
            accuracy.add_metric([row["campaign_id"], row["metric"]], row["rolling_accuracy"])
        yield accuracy
