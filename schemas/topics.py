"""Topic names and the record model each one carries."""

from __future__ import annotations

from schemas.records import (Alert, Campaign, DeadLetter, Mention, OpsAlert, Prediction, Record, ScoredMention,
                             WindowDelta)


class Topics:
    RAW = "mentions.raw"
    SCORED = "mentions.scored"
    ALERTS = "alerts.spikes"
    DEADLETTER = "mentions.deadletter"
    CAMPAIGNS = "campaigns"
    PREDICTIONS = "predictions"
    OPS_ALERTS = "alerts.ops"  # about TrueVoice itself: the ops rules (agents.ops), firing and resolved
    WINDOW_DELTAS = "windows.deltas"


TOPIC_MODELS: dict[str, type[Record]] = {
    Topics.RAW: Mention,
    Topics.SCORED: ScoredMention,
    Topics.ALERTS: Alert,
    Topics.DEADLETTER: DeadLetter,
    Topics.CAMPAIGNS: Campaign,
    Topics.PREDICTIONS: Prediction,
    Topics.WINDOW_DELTAS: WindowDelta,
    Topics.OPS_ALERTS: OpsAlert,
}
