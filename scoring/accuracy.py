"""Accuracy of past predictions against recorded outcomes (pure functions).

For each outcome (campaign, metric, value, time) the prediction that counts is the LATEST one
made at or before the outcome's time for that campaign; its accuracy is

    accuracy = max(0, 1 - |predicted - actual| / range)

with range = 2 for ``brand_sentiment`` (-1..1) and 1 for ``purchase_intent`` and
``viral_potential`` (0..1). The rolling accuracy of a (campaign, metric) is the mean accuracy of
its last ``last`` outcomes (default 20), by outcome time; an ops alert is due when it falls under
``ACCURACY_ALERT_BELOW`` (the design's 70 %). ClickHouse computes the same in the views
``outcome_accuracy`` and ``prediction_accuracy_rolling`` (migration 005).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Mapping

ACCURACY_ALERT_BELOW = 0.70
DEFAULT_WINDOW = 20
METRIC_RANGES: dict[str, float] = {"brand_sentiment": 2.0, "purchase_intent": 1.0, "viral_potential": 1.0}
METRIC_BOUNDS: dict[str, tuple[float, float]] = {"brand_sentiment": (-1.0, 1.0), "purchase_intent": (0.0, 1.0),
                                                 "viral_potential": (0.0, 1.0)}


def check_metric(metric: str, value: float) -> None:
    if metric not in METRIC_BOUNDS:
        raise ValueError(f"unknown metric {metric!r} (one of {', '.join(METRIC_BOUNDS)})")
    lo, hi = METRIC_BOUNDS[metric]
    if not lo <= float(value) <= hi:
        raise ValueError(f"{metric} must lie in [{lo:g}, {hi:g}], got {value}")


def accuracy(predicted: float, actual: float, metric: str) -> float:
    return max(0.0, 1.0 - abs(float(predicted) - float(actual)) / METRIC_RANGES[metric])


@dataclass(frozen=True)
class ScoredOutcome:
    campaign_id: str
    metric: str
    observed_at: datetime
    actual: float
    predicted: float
    prediction_id: str
    accuracy: float


def _get(x: Any, key: str) -> Any:
    return x[key] if isinstance(x, Mapping) else getattr(x, key)


def score_outcomes(outcomes: Iterable[Any], predictions: Iterable[Any]) -> list[ScoredOutcome]:
    """Each outcome (``campaign_id, metric, value, observed_at``) against the latest prediction
    (``campaign_id, made_at, prediction_id`` and the metric's field) made at or before it.
    Outcomes with no earlier prediction are left out."""
    by_campaign: dict[str, list[Any]] = defaultdict(list)
    for p in predictions:
        by_campaign[_get(p, "campaign_id")].append(p)
    for ps in by_campaign.values():
        ps.sort(key=lambda p: _get(p, "made_at"))
    out = []
    for o in outcomes:
        cid, metric, at = _get(o, "campaign_id"), _get(o, "metric"), _get(o, "observed_at")
        best = None
        for p in by_campaign.get(cid, ()):
            if _get(p, "made_at") <= at:
                best = p
            else:
                break
        if best is None:
            continue
        pred = float(_get(best, metric))
        value = float(_get(o, "value"))
        out.append(ScoredOutcome(cid, metric, at, value, pred, str(_get(best, "prediction_id")),
                                 accuracy(pred, value, metric)))
    return out


@dataclass(frozen=True)
class RollingAccuracy:
    campaign_id: str
    metric: str
    outcomes: int
    accuracy: float
    last_outcome_at: datetime
    below_alert: bool

    def as_dict(self) -> dict[str, Any]:
        return {"campaign_id": self.campaign_id, "metric": self.metric, "outcomes": self.outcomes,
                "rolling_accuracy": round(self.accuracy, 4), "last_outcome_at": self.last_outcome_at.isoformat(),
                "below_alert": self.below_alert}


def rolling_accuracy(scored: Iterable[Any], last: int = DEFAULT_WINDOW,
                     alert_below: float = ACCURACY_ALERT_BELOW) -> list[RollingAccuracy]:
    """Per (campaign_id, metric): mean ``accuracy`` of the last ``last`` items by ``observed_at``
    (items: ``ScoredOutcome``s or dicts with those keys), sorted by campaign and metric."""
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for s in scored:
        groups[(_get(s, "campaign_id"), _get(s, "metric"))].append(s)
    out = []
    for (cid, metric), items in sorted(groups.items()):
        items.sort(key=lambda s: _get(s, "observed_at"))
        window = items[-max(1, int(last)):]
        acc = sum(float(_get(s, "accuracy")) for s in window) / len(window)
        out.append(RollingAccuracy(cid, metric, len(window), acc, _get(window[-1], "observed_at"), acc < alert_below))
    return out
