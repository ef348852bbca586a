"""The ops rules of the design, evaluated in the worker every few seconds over the same metrics
``/metrics`` exposes (a ``prometheus_client`` registry), published to ``alerts.ops`` as
``schemas.OpsAlert`` records when a series starts firing and when it resolves.

The rules (the same ones for Prometheus: ``streams/ops/prometheus_rules.yml``), over the last
``window`` seconds (5 minutes by default), for this worker:

* ``error_rate`` > 1 %, two series: ``source=http``: responses with a 5xx status over all HTTP
  requests; ``source=pipeline``: records dead-lettered (by the score stage, refused by
  ClickHouse, or given up by a loop) over the raw records the score stage consumed (scored or
  dead-lettered). No requests / no records in the window: nothing to measure, not firing.
* ``api_latency_p99`` > 1 s: the 99th percentile of HTTP request time, interpolated in the
  histogram's buckets as PromQL's ``histogram_quantile`` does; analyst SQL routes are left out
  (their time is the analyst's query, capped by its own timeout).
* ``pipeline_lag`` > 300 s: the larger of the backlog in seconds of measured capacity
  (``backlog_records / backlog_capacity_per_second``, once a capacity was measured) and the
  99th percentile of the scored-to-stored lag.
* ``prediction_accuracy`` < 70 %: each (campaign, metric)'s rolling accuracy.

Rates are differences between the registry now and as it was ``window`` seconds ago (the
process start while younger): counters only grow in one process.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Awaitable, Callable, Iterable

from prometheus_client import CollectorRegistry

from schemas.records import OpsAlert
from scoring.accuracy import ACCURACY_ALERT_BELOW

log = logging.getLogger(__name__)

Labels = tuple[tuple[str, str], ...]
Snapshot = dict[tuple[str, Labels], float]  # (sample name, sorted labels) -> value
Send = Callable[[bytes, bytes], Awaitable[None]]

ERROR_RATE_ABOVE = 0.01
LATENCY_P99_ABOVE = 1.0
LAG_SECONDS_ABOVE = 300.0

DEAD_LETTERED = ("truevoice_mentions_deadlettered_total", "truevoice_clickhouse_refused_total",
                 "truevoice_records_dead_lettered_by_loops_total")
CONSUMED = ("truevoice_mentions_scored_total", "truevoice_mentions_deadlettered_total")


def snapshot(registry: CollectorRegistry) -> Snapshot:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in registry.collect() for s in family.samples}


def histogram_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float | None:
    """PromQL's ``histogram_quantile`` over cumulative (upper bound, count) buckets; None when
    there were no observations."""
    ordered = sorted(buckets)
    if not ordered or ordered[-1][1] <= 0:
        return None
    rank = q * ordered[-1][1]
    prev_bound, prev_count = 0.0, 0.0
    for bound, count in ordered:
        if count >= rank:
            if math.isinf(bound):
                return prev_bound  # the highest finite bound: PromQL's answer too
            if count == prev_count:
                return bound
            return prev_bound + (bound - prev_bound) * (rank - prev_count) / (count - prev_count)
        prev_bound, prev_count = bound, count
    return prev_bound


@dataclass(frozen=True)
class Reading:
    """One series of a rule: its value now (None: nothing to measure) and whether it breaches."""

    labels: Labels
    value: float | None
    breach: bool
    detail: str


class Window:
    """Snapshots of the registry, to take differences over the last ``seconds``."""

    def __init__(self, seconds: float, started_at: float) -> None:
        self.seconds = seconds
        self.history: deque[tuple[float, Snapshot]] = deque([(started_at, {})])  # counters start at 0

    def add(self, now: float, snap: Snapshot) -> tuple[Snapshot, Snapshot]:
        """(the snapshot ``seconds`` ago or the oldest kept, now) after adding ``snap``."""
        self.history.append((now, snap))
        while len(self.history) > 2 and self.history[1][0] <= now - self.seconds:
            self.history.popleft()
        return self.history[0][1], snap


def _sum(snap: Snapshot, names: Iterable[str], keep: Callable[[dict[str, str]], bool] = lambda _: True) -> float:
    wanted = set(names)
    return sum(v for (name, labels), v in snap.items() if name in wanted and keep(dict(labels)))


def _increase(before: Snapshot, now: Snapshot, names: Iterable[str],
              keep: Callable[[dict[str, str]], bool] = lambda _: True) -> float:
    return _sum(now, names, keep) - _sum(before, names, keep)


def _buckets_increase(before: Snapshot, now: Snapshot, name: str,
                      keep: Callable[[dict[str, str]], bool] = lambda _: True) -> list[tuple[float, float]]:
    """A histogram's bucket increases, summed over every series but ``le``."""
    by_bound: dict[float, float] = {}
    for (sample, labels), value in now.items():
        if sample != name:
            continue
        d = dict(labels)
        if not keep(d):
            continue
        bound = float(d["le"])
        by_bound[bound] = by_bound.get(bound, 0.0) + value - before.get((sample, labels), 0.0)
    return list(by_bound.items())


def _not_sql(labels: dict[str, str]) -> bool:
    return not labels.get("route", "").endswith("/sql")


def _pct(x: float) -> str:
    return f"{x:.1%}"


def error_rate(before: Snapshot, now: Snapshot) -> list[Reading]:
    out = []
    requests = _increase(before, now, ["truevoice_http_requests_total"])
    failed = _increase(before, now, ["truevoice_http_requests_total"], lambda l: l.get("status", "").startswith("5"))
    rate = failed / requests if requests > 0 else None
    out.append(Reading((("source", "http"),), rate, rate is not None and rate > ERROR_RATE_ABOVE,
                       f"{failed:.0f} of {requests:.0f} HTTP requests answered 5xx"))
    consumed = _increase(before, now, CONSUMED)
    lettered = _increase(before, now, DEAD_LETTERED)
    rate = min(lettered / consumed, 1.0) if consumed > 0 else None
    out.append(Reading((("source", "pipeline"),), rate, rate is not None and rate > ERROR_RATE_ABOVE,
                       f"{lettered:.0f} records dead-lettered, {consumed:.0f} consumed"))
    return out


def api_latency_p99(before: Snapshot, now: Snapshot) -> list[Reading]:
    p99 = histogram_quantile(0.99, _buckets_increase(before, now, "truevoice_http_request_duration_seconds_bucket",
                                                     _not_sql))
    return [Reading((), p99, p99 is not None and p99 > LATENCY_P99_ABOVE, "HTTP requests but analyst SQL")]


def pipeline_lag(before: Snapshot, now: Snapshot) -> list[Reading]:
    backlog = _sum(now, ["truevoice_backlog_records"])
    capacity = _sum(now, ["truevoice_backlog_capacity_per_second"])
    behind = backlog / capacity if capacity > 0 else None
    stored = histogram_quantile(0.99, _buckets_increase(before, now, "truevoice_end_to_end_lag_seconds_bucket"))
    measured = [v for v in (behind, stored) if v is not None]
    value = max(measured) if measured else None
    detail = (f"backlog {backlog:.0f} records at {capacity:.0f}/s"
              + (f", scored-to-stored p99 {stored:.1f} s" if stored is not None else ""))
    return [Reading((), value, value is not None and value > LAG_SECONDS_ABOVE, detail)]


def prediction_accuracy(before: Snapshot, now: Snapshot) -> list[Reading]:
    return [Reading(labels, value, value < ACCURACY_ALERT_BELOW, "rolling accuracy over the last outcomes")
            for (name, labels), value in sorted(now.items()) if name == "truevoice_prediction_accuracy"]


@dataclass(frozen=True)
class Rule:
    kind: str
    threshold: float
    read: Callable[[Snapshot, Snapshot], list[Reading]]
    describe: Callable[[float], str]  # a value as people read it
    fires_below: bool = False  # accuracy: the threshold is a floor, not a ceiling


RULES = (
    Rule("error_rate", ERROR_RATE_ABOVE, error_rate, _pct),
    Rule("api_latency_p99", LATENCY_P99_ABOVE, api_latency_p99, lambda v: f"{v:.2f} s"),
    Rule("pipeline_lag", LAG_SECONDS_ABOVE, pipeline_lag, lambda v: f"{v:.0f} s"),
    Rule("prediction_accuracy", ACCURACY_ALERT_BELOW, prediction_accuracy, _pct, fires_below=True),
)


def alert_id(kind: str, labels: Labels) -> str:
    digest = hashlib.sha256(repr((kind, labels)).encode()).hexdigest()[:16]
    return f"ops-{kind}-{digest}"


class OpsRules:
    """Evaluates ``RULES`` over ``registry`` and publishes transitions through ``send(key, value)``."""

    def __init__(self, registry: CollectorRegistry, send: Send, *, window_seconds: float = 300.0,
                 started_at: float | None = None) -> None:
        self.registry = registry
        self.send = send
        self.window = Window(window_seconds, time.time() if started_at is None else started_at)
        self.firing: dict[tuple[str, Labels], datetime] = {}  # series -> when it started firing
        self.published = 0

    async def evaluate(self, now: float | None = None) -> list[OpsAlert]:
        """One evaluation at ``now``: the records published (transitions only)."""
        now = time.time() if now is None else now
        before, current = self.window.add(now, snapshot(self.registry))
        at = datetime.fromtimestamp(now, timezone.utc)
        out = []
        for rule in RULES:
            readings = {r.labels: r for r in rule.read(before, current)}
            for labels, reading in readings.items():
                if reading.breach and (rule.kind, labels) not in self.firing:
                    out.append(await self._publish(rule, labels, reading, "firing", at, at))
            for kind, labels in [k for k in self.firing if k[0] == rule.kind]:
                reading = readings.get(labels)
                if reading is None or not reading.breach:
                    out.append(await self._publish(rule, labels, reading, "resolved", self.firing[(kind, labels)], at))
        return out

    async def _publish(self, rule: Rule, labels: Labels, reading: Reading | None, state: str,
                       raised_at: datetime, at: datetime) -> OpsAlert:
        where = dict(labels)
        value = reading.value if reading is not None else None
        shown = rule.describe(value) if value is not None else "not measured"
        side = "under" if rule.fires_below else "above"
        scope = ", ".join(f"{k}={v}" for k, v in labels)
        message = (f"{rule.kind}{f' ({scope})' if scope else ''} is {shown}, "
                   f"{side if state == 'firing' else 'no longer ' + side} {rule.describe(rule.threshold)}"
                   + (f": {reading.detail}" if reading is not None else ""))
        alert = OpsAlert(kind=rule.kind, message=message, threshold=rule.threshold, raised_at=raised_at,
                         alert_id=alert_id(rule.kind, labels), state=state, value=value, labels=where,
                         campaign_id=where.get("campaign"), metric=where.get("metric"),
                         window_seconds=self.window.seconds, updated_at=at)
        await self.send(alert.alert_id.encode(), alert.dumps())  # state changes only once it is out
        if state == "firing":
            self.firing[(rule.kind, labels)] = raised_at
        else:
            self.firing.pop((rule.kind, labels), None)
        self.published += 1
        log.warning("OPS ALERT %s: %s", state, message)
        return alert

    async def run(self, interval: float) -> None:
        """Evaluate every ``interval`` seconds; a failed evaluation (the broker down) is logged and
        the next one publishes what is still due."""
        while True:
            try:
                await self.evaluate()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the worker never dies for its own alerting
                log.exception("ops rules: evaluation failed")
            await asyncio.sleep(interval)
