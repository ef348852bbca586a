"""The correlation id of the work in progress: one per HTTP request, one per consumed batch.

A context variable, so every log line written while a request or a batch is being handled (in
this task, the tasks it starts and the threads it hands work to with ``contextvars``) carries the
same id; ``streams.logs`` puts it into each line. It lives here, in the stages' layer, because the
batch loops set it and they may not import the command layer.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar

correlation_id: ContextVar[str | None] = ContextVar("truevoice_correlation_id", default=None)


def new_correlation_id(prefix: str = "") -> str:
    """A fresh id: 32 hex digits of a random UUID, after ``prefix`` (e.g. ``score-``)."""
    return f"{prefix}{uuid.uuid4().hex}"


def start_batch(loop_name: str) -> str:
    """Give the current context (a batch's task) a new id and return it."""
    cid = new_correlation_id(f"{loop_name}-")
    correlation_id.set(cid)
    return cid
