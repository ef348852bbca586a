"""Who may call the API, and how often: API keys and rate limits, as one aiohttp middleware.

* Every route needs a key except an allow-list of open ones (:data:`OPEN_ROUTES`, the dashboard's
  static files): a route added later is closed until someone opens it here. The key comes as
  ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``; a WebSocket handshake may carry it as
  ``?key=`` instead, because a browser cannot set headers on a WebSocket.
* Without a key, or with a malformed, unknown, revoked or expired one: 401, a JSON error and
  ``WWW-Authenticate: Bearer``. The key file is re-read when it changes (``streams.keystore``),
  so revoking a key takes effect on the next request.
* A request that passes leaves ``request["principal"]`` (:class:`~streams.keystore.Principal`:
  ``tenant``, ``admin``, ``key_id``) for the handlers, which scope what they answer by it.
* Rate limits (``limits``, in-memory moving window): per client address on every request but the
  probes (:data:`UNLIMITED_ROUTES`), checked before the key so guessing keys is limited too, and per
  key after it. 429 with ``Retry-After`` (seconds) and a JSON error. The address is the TCP peer:
  behind a proxy all clients share the proxy's, so limit per client there; ``X-Forwarded-For`` is
  not trusted (anyone can send it). Counts are per worker process.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any, Awaitable, Callable

from aiohttp import web
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from streams.keystore import DEFAULT_TENANT, KeyFileError, KeyStore, Principal
from streams.web.responses import error

__all__ = ["Principal", "ApiKeyAuth", "OPEN_ROUTES", "UNLIMITED_ROUTES", "is_admin", "tenant_of", "may_see"]

log = logging.getLogger(__name__)

# route templates answered without a key: the page, the probes, and the API's description
OPEN_ROUTES = frozenset({"/", "/health", "/ready", "/metrics", "/api/v1/openapi.json"})
# probes are polled by orchestrators and scrapers: never rate limited
UNLIMITED_ROUTES = frozenset({"/health", "/ready", "/metrics"})
_REALM = 'Bearer realm="truevoice"'

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_admin(principal: Principal | None) -> bool:
    """None: no auth middleware installed (a test app, the embedded tools): everything is visible."""
    return principal is None or principal.admin


def tenant_of(campaign: Any) -> str:
    return getattr(campaign, "tenant", None) or DEFAULT_TENANT


def may_see(principal: Principal | None, campaign: Any) -> bool:
    """Whether ``principal`` may read ``campaign`` (a Campaign record, or None: unknown)."""
    if is_admin(principal):
        return True
    return campaign is not None and tenant_of(campaign) == principal.tenant


def _route_of(request: web.Request) -> str | None:
    """The matched route's template, "static" for static files, None when nothing matched."""
    route = request.match_info.route
    resource = route.resource
    if resource is None or request.match_info.http_exception is not None:
        return None
    if isinstance(resource, web.StaticResource):
        return "static"
    return resource.canonical


def _is_websocket(request: web.Request) -> bool:
    return request.method == "GET" and request.headers.get("Upgrade", "").lower() == "websocket"


def presented_key(request: web.Request) -> str | None:
    """The key the client sent: Authorization Bearer, X-API-Key, or (WebSocket only) ?key=."""
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if "X-API-Key" in request.headers:
        return request.headers["X-API-Key"].strip()
    if _is_websocket(request):
        return request.query.get("key")
    return None


class ApiKeyAuth:
    """The middleware: ``web.Application(middlewares=[ApiKeyAuth(...).middleware, ...])``."""

    def __init__(self, keys: KeyStore, per_minute: int) -> None:
        self.keys = keys
        self.limit = RateLimitItemPerMinute(per_minute)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def _over_limit(self, kind: str, who: str) -> web.Response | None:
        if self.limiter.hit(self.limit, kind, who):
            return None
        reset = self.limiter.get_window_stats(self.limit, kind, who).reset_time
        retry_after = max(1, math.ceil(reset - time.time()))
        what = "this API key" if kind == "key" else "your address"
        return error(429, f"too many requests from {what}: at most {self.limit.amount} a minute; "
                          f"retry in {retry_after} s", headers={"Retry-After": str(retry_after)})

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        route = _route_of(request)
        if route in UNLIMITED_ROUTES:
            return await handler(request)
        refused = self._over_limit("address", request.remote or "unknown")
        if refused is not None:
            return refused
        if route in OPEN_ROUTES or route == "static":
            return await handler(request)
        key = presented_key(request)
        if not key:
            return error(401, "an API key is required: send 'Authorization: Bearer <key>' or "
                              "'X-API-Key: <key>' (WebSockets: ?key=<key>); `truevoice keys create` makes one",
                         headers={"WWW-Authenticate": _REALM})
        try:
            principal = self.keys.authenticate(key)
        except KeyFileError as exc:
            log.error("API keys unavailable, refusing every key: %s", exc)
            return error(503, "API keys cannot be checked right now (the key file is unreadable)",
                         headers={"Retry-After": "30"})
        if principal is None:
            return error(401, "the API key is not valid (unknown, revoked or mistyped)",
                         headers={"WWW-Authenticate": f'{_REALM}, error="invalid_token"'})
        refused = self._over_limit("key", principal.key_id)
        if refused is not None:
            return refused
        request["principal"] = principal
        return await handler(request)
