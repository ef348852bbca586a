"""The API's JSON answers: a body, and an error as ``{"error": message, ...}`` (every route and
middleware answers errors in this one shape)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

__all__ = ["json_response", "error"]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(data, default=str), status=status, content_type="application/json",
                        headers=headers)


def error(status: int, message: str, *, headers: dict[str, str] | None = None, **extra: Any) -> web.Response:
    return json_response({"error": message, **extra}, status=status, headers=headers)
