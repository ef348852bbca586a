"""The correlation id of an HTTP request: the caller's ``X-Request-ID`` when it is sane, else a
new one; set for everything the handler logs and echoed in the response's ``X-Request-ID``.

Sane is strict on purpose: the value is written into every log line and sent back in a header,
so it may hold only letters, digits and ``._:-`` and at most 128 characters. Anything else (a
newline that would forge a log line, 10 kB, non-ASCII, JSON quotes) is replaced, not cleaned:
a half-kept id would match nobody's.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from agents.correlation import correlation_id, new_correlation_id

HEADER = "X-Request-ID"
MAX_LENGTH = 128
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,%d}" % MAX_LENGTH)


def request_id_from(value: str | None) -> str:
    """The caller's id if it is sane, else a fresh one."""
    if value is not None and _SANE.fullmatch(value):
        return value
    return new_correlation_id()


@web.middleware
async def request_id_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Outermost middleware: every later one (auth, metrics and its access line, errors) and the
    handler log under the id, and the response it returns or raises carries it."""
    rid = request_id_from(request.headers.get(HEADER))
    token = correlation_id.set(rid)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers[HEADER] = rid
        raise
    finally:
        correlation_id.reset(token)
    if not response.prepared:
        response.headers[HEADER] = rid
    return response


async def echo_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: a response the handler prepares itself (a WebSocket handshake, a
    stream) goes out before the middleware sees it; it is prepared within the request's context."""
    rid = correlation_id.get()
    if rid is not None and HEADER not in response.headers:
        response.headers[HEADER] = rid


def install(app: web.Application) -> None:
    """The middleware first (outermost), the echo on every response of ``app``."""
    app.middlewares.insert(0, request_id_middleware)
    app.on_response_prepare.append(echo_request_id)
