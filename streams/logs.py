"""Logging set-up of a TrueVoice process: JSON lines (production) or readable text (a terminal).

``TRUEVOICE_LOG_FORMAT`` chooses; unset, ``worker`` logs JSON (one object per line, for a log
shipper) and ``up`` logs text when stderr is a terminal, JSON otherwise. Every line carries the
correlation id of the request or batch it was written for (``agents.correlation``), so a
request's or a batch's lines can be found together; ``-`` outside of both.

The JSON is rendered by python-json-logger; non-ASCII (Korean) stays readable, not ``\\uXXXX``.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal, TextIO

from pythonjsonlogger.json import JsonFormatter

from agents.correlation import correlation_id

LogFormat = Literal["json", "text"]

# the worker leaves library loggers at DEBUG otherwise; that costs 4-5 % (DESIGN.md)
QUIET_LIBRARIES = ("aiokafka", "faust", "mode", "kafka", "aiohttp.access")
JSON_FIELDS = ("levelname", "name", "message", "correlation_id")
TEXT_FORMAT = "[%(asctime)s] %(levelname)s %(name)s [%(correlation_id)s]: %(message)s"


class CorrelationFilter(logging.Filter):
    """Stamps each record with the correlation id of the context it was logged in."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get() or "-"
        return True


def resolve_format(configured: LogFormat | None, *, embedded: bool, stream: TextIO) -> LogFormat:
    """The configured format, else text for ``up`` on a terminal and JSON everywhere else."""
    if configured is not None:
        return configured
    return "text" if embedded and stream.isatty() else "json"


def make_formatter(fmt: LogFormat) -> logging.Formatter:
    if fmt == "json":
        # "time": ISO 8601 in UTC, which log shippers parse without a format
        return JsonFormatter(list(JSON_FIELDS), rename_fields={"levelname": "level", "name": "logger"},
                             timestamp="time", json_ensure_ascii=False)
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(level: str, fmt: LogFormat, stream: TextIO | None = None) -> None:
    """One handler on the root logger (replacing any), the correlation filter on it."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(make_formatter(fmt))
    handler.addFilter(CorrelationFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
