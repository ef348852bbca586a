"""Pydantic v2 models of every record on every TrueVoice topic.

Each topic has exactly one model; ``TOPIC_MODELS`` maps topic names to them and
``schemas.export`` writes their JSON Schema to ``schemas/jsonschema/``.
"""

from schemas.records import (
    Alert,
    Author,
    Campaign,
    DeadLetter,
    Engagement,
    Mention,
    Prediction,
    ScoredMention,
    TextScores,
    WindowDelta,
    WindowSums,
)
from schemas.topics import TOPIC_MODELS, Topics

__all__ = [
    "Alert",
    "Author",
    "Campaign",
    "DeadLetter",
    "Engagement",
    "Mention",
    "Prediction",
    "ScoredMention",
    "TextScores",
    "TOPIC_MODELS",
    "Topics",
    "WindowDelta",
    "WindowSums",
]
