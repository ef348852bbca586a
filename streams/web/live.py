"""The live part of the API: realtime numbers and the WebSockets.

* ``GET /api/v1/realtime/{campaign_id}``: the campaign's realtime numbers from the window buckets
  (``streams.web.realtime``); ``*`` is every mention (admins only: it spans every tenant).
* ``WS /api/v1/ws/{campaign_id}``: that campaign's alerts as they are published and, every
  ``tick_seconds``, a ``tick`` with its realtime numbers (the GET's body plus ``"type": "tick"``).
* ``WS /api/v1/ws/alerts``: every alert the caller may see and a ``tick`` with the pipeline's
  throughput, backlog, consumer lag and connected WebSocket clients.
* ``WS /ws/alerts`` (unversioned, kept for one release): alerts only, no ticks, as before.

Every message is a JSON object with a ``type``: ``alert`` (the alert record), ``tick``, or
``dropped`` (``count`` messages this client was too slow to take were dropped; see
``streams.web.feed``). ``?recent=N`` (0-100) first sends the latest state of the N most recent
incidents this worker has seen (of those the client may see).

Tenancy: the principal the auth middleware leaves on the request (``request["principal"]``, with
``.tenant`` and ``.admin``; none installed = admin) may open a campaign's routes only for its own
tenant's campaigns (403 otherwise) and gets only its tenant's alerts on the alert routes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Annotated, Any, Callable

import orjson
from aiohttp import WSMsgType, web
from pydantic import TypeAdapter, ValidationError

from schemas import Campaign
from streams.web.auth import is_admin, may_see
from streams.web.feed import AlertFeed, FeedClient, alert_message, latest_alerts
from streams.web.responses import error
from streams.web.realtime import realtime_numbers

log = logging.getLogger(__name__)

LEGACY_ALERTS_ROUTE = "/ws/alerts"
ALERTS_ROUTE = "/api/v1/ws/alerts"
CAMPAIGN_ROUTE = "/api/v1/ws/{campaign_id}"
REALTIME_ROUTE = "/api/v1/realtime/{campaign_id}"
WS_ROUTES = (LEGACY_ALERTS_ROUTE, ALERTS_ROUTE, CAMPAIGN_ROUTE)
ALL_CAMPAIGNS = "*"  # the windows count every mention under this pseudo-campaign too

TICK_SECONDS = 2.0
# a client that answers no ping for 1.5 heartbeats is closed (it vanished, or stopped reading)
HEARTBEAT_SECONDS = 15.0
MAX_RECENT = 100
# clients send nothing the server needs: a big frame from one is refused, not buffered
MAX_CLIENT_FRAME_BYTES = 64 * 1024
# each client may hold a full queue in memory: past this many, new ones are refused (503)
MAX_CLIENTS = 1000

# the same allow-list as a campaign's own id: nothing else can name a campaign (or a window key)
campaign_id_adapter: TypeAdapter[str] = TypeAdapter(
    Annotated[(str, *Campaign.model_fields["campaign_id"].metadata)])  # type: ignore[misc]


class LiveApi:
    """The live routes of one worker's API over its ``AlertFeed``; ``tv`` is the worker
    (``streams.web.api.Worker``: ``view``, ``registry``, ``pipeline``)."""

    def __init__(self, tv: Any, feed: AlertFeed, tick_seconds: float = TICK_SECONDS) -> None:
        self.tv = tv
        self.feed = feed
        self.tick_seconds = tick_seconds
        self._ticker: asyncio.Task | None = None
        self._throughput = {"scored_per_second": 0.0, "stored_per_second": 0.0}
        self._last_sample: tuple[float, int, int] | None = None

    def mount(self, app: web.Application) -> None:
        self.feed.routes.update(WS_ROUTES)
        app.add_routes([
            web.get(REALTIME_ROUTE, self.realtime),
            web.get(LEGACY_ALERTS_ROUTE, self.ws_alerts),
            web.get(ALERTS_ROUTE, self.ws_alerts),  # before the campaign route: "alerts" is not a campaign here
            web.get(CAMPAIGN_ROUTE, self.ws_campaign),
        ])
        app.on_startup.append(self._start_ticks)
        app.on_cleanup.append(self._stop_ticks)

    # -- access ---------------------------------------------------------------------------------
    def campaign_refusal(self, request: web.Request, campaign_id: str) -> web.Response | None:
        """Why the caller may not read ``campaign_id`` (400, 403, 404), or None when it may."""
        principal = request.get("principal")
        if campaign_id == ALL_CAMPAIGNS:
            if is_admin(principal):
                return None
            return error(403, "'*' counts every tenant's mentions: only an admin key may read it")
        try:
            campaign_id_adapter.validate_python(campaign_id)
        except ValidationError:
            return error(400, f"{campaign_id[:140]!r} is not a campaign id: 1 to 128 letters, digits, "
                                "'_', '.', ':' or '-' (or '*' for every mention)")
        campaign = self.tv.registry.campaigns.get(campaign_id)
        if not may_see(principal, campaign):
            # unknown and another tenant's answer alike: a key cannot probe which ids exist
            return error(403, f"campaign {campaign_id!r} is not one of this key's tenant's campaigns "
                                "(GET /api/campaigns lists them)")
        if campaign is None:
            return error(404, f"unknown campaign {campaign_id!r}; GET /api/campaigns lists them")
        return None

    def alerts_for(self, principal: Any) -> Callable[[dict], bool]:
        """Which alerts a caller on the alert routes receives: all, or its tenant's campaigns'."""
        if is_admin(principal):
            return lambda alert: True
        campaigns = self.tv.registry.campaigns
        return lambda alert: may_see(principal, campaigns.get(alert["campaign_id"]))

    # -- handlers -------------------------------------------------------------------------------
    async def realtime(self, request: web.Request) -> web.Response:
        campaign_id = request.match_info["campaign_id"]
        refused = self.campaign_refusal(request, campaign_id)
        if refused is not None:
            return refused
        return web.json_response(realtime_numbers(self.tv.view, campaign_id),
                                 dumps=lambda o: orjson.dumps(o).decode())

    async def ws_campaign(self, request: web.Request) -> web.StreamResponse:
        campaign_id = request.match_info["campaign_id"]
        refused = self.campaign_refusal(request, campaign_id)
        if refused is not None:
            return refused
        return await self._serve(request, CAMPAIGN_ROUTE, lambda alert: alert.get("campaign_id") == campaign_id,
                                 campaign_id=campaign_id, ticks=True)

    async def ws_alerts(self, request: web.Request) -> web.StreamResponse:
        legacy = request.match_info.route.resource.canonical == LEGACY_ALERTS_ROUTE
        return await self._serve(request, LEGACY_ALERTS_ROUTE if legacy else ALERTS_ROUTE,
                                 self.alerts_for(request.get("principal")), campaign_id=None, ticks=not legacy)

    async def _serve(self, request: web.Request, route: str, accepts: Callable[[dict], bool], *,
                     campaign_id: str | None, ticks: bool) -> web.StreamResponse:
        try:
            recent = int(request.query.get("recent", "0"))
        except ValueError:
            return error(400, f"recent must be an integer from 0 to {MAX_RECENT}")
        if not 0 <= recent <= MAX_RECENT:
            return error(400, f"recent must be an integer from 0 to {MAX_RECENT}")
        if len(self.feed.clients) >= MAX_CLIENTS:
            return error(503, f"this worker serves {MAX_CLIENTS} WebSocket clients already; retry later "
                                "or on another worker")
        ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, max_msg_size=MAX_CLIENT_FRAME_BYTES)
        if not ws.can_prepare(request).ok:
            return error(400, "this is a WebSocket route: open it with a WebSocket client (Upgrade: websocket)")
        await ws.prepare(request)
        client = FeedClient(ws, route, accepts, campaign_id=campaign_id, ticks=ticks)
        if recent:
            for alert in [a for a in latest_alerts(self.feed.recent) if accepts(a)][-recent:]:
                client.offer(alert_message(alert))
        self.feed.add(client)  # before its first tick, which counts the connected clients
        if ticks:
            self._offer_tick(client, {})  # the numbers at once, not a tick later
        try:
            async for msg in ws:
                if msg.type == WSMsgType.ERROR:
                    break
        finally:
            await self.feed.remove(client)
            # a client that stopped reading leaves unsent bytes that would keep its socket open
            if request.transport is not None and request.transport.is_closing():
                request.transport.abort()
        return ws

    # -- ticks ----------------------------------------------------------------------------------
    async def _start_ticks(self, app: web.Application) -> None:
        self._ticker = asyncio.create_task(self._tick_forever(), name="ws-ticks")

    async def _stop_ticks(self, app: web.Application) -> None:
        if self._ticker is not None:
            self._ticker.cancel()

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self.tick_seconds)  # the tick's period, not a wait on anything
            self.tick()

    def tick(self) -> None:
        """Offer every ticking client its tick; each campaign's numbers are read once."""
        self._sample_throughput()
        made: dict[str | None, str | None] = {}
        for client in list(self.feed.clients):
            if client.ticks:
                self._offer_tick(client, made)

    def _offer_tick(self, client: FeedClient, made: dict[str | None, str | None]) -> None:
        """Offer ``client`` its tick, made once per campaign (``made``: the ticks made so far, None
        where making one failed: its clients skip this tick, the others still get theirs)."""
        key = client.campaign_id
        if key not in made:
            made[key] = None
            try:
                body = realtime_numbers(self.tv.view, key) if key is not None else self.pipeline_numbers()
                made[key] = orjson.dumps({"type": "tick", **body}).decode()
            except Exception:  # noqa: BLE001 - e.g. the window table not ready yet
                log.exception("WebSocket tick for %s failed", key or "the pipeline")
        tick = made[key]
        if tick is not None:
            client.offer(tick)

    def _sample_throughput(self) -> None:
        p = self.tv.pipeline
        now = time.monotonic()
        scored = p.score_agent.scored if p.score_agent else 0
        stored = p.sink_agent.rows if p.sink_agent else 0
        if self._last_sample is not None:
            then, scored_then, stored_then = self._last_sample
            elapsed = max(now - then, 1e-9)
            self._throughput = {"scored_per_second": round((scored - scored_then) / elapsed, 1),
                                "stored_per_second": round((stored - stored_then) / elapsed, 1)}
        self._last_sample = (now, scored, stored)

    def pipeline_numbers(self) -> dict[str, Any]:
        """The pipeline's throughput (over the last tick), backlog, lag and WebSocket clients."""
        p = self.tv.pipeline
        backlog = p.backlog
        return {
            "as_of": round(time.time(), 3),
            "pipeline": {
                **self._throughput,
                "ready": not p.problems(),
                "backlog_records": backlog.lag if backlog else 0,
                "capacity_per_second": round(backlog.capacity, 1) if backlog else 0.0,
                "consumer_lag_records": [{"group": g, "topic": t, "records": n}
                                         for (g, t), n in sorted((backlog.lag_by_topic if backlog else {}).items())],
            },
            "websocket_clients": dict(self.feed.clients_by_route()),
        }
