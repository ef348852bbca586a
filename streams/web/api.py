"""The HTTP API: health, readiness, Prometheus metrics, read-only SQL, windows, ingest, campaigns,
and a WebSocket feed of spike alerts. Bad input gets a 4xx with a message, never a 500.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any, Protocol

import mode
import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError

from agents.validate import describe_validation_error
from schemas import Campaign, Topics
from schemas.records import PLATFORMS
from streams.metrics import Metrics, WorkerCollector, status_class
from streams.web import live, v1
from streams.web.auth import ApiKeyAuth, is_admin, may_see
from streams.web.feed import AlertFeed, latest_alerts
from streams.web.readiness import Readiness
from streams.web.request_id import install as install_request_ids
from streams.web.responses import error, json_response
from tables.combiner import window_key



class Worker(Protocol):
    """What the API reads from the worker that serves it (``streams.app.TrueVoiceApp``)."""

    settings: Any  # streams.settings.Settings
    store: Any  # tables.clickhouse.store.ClickHouseStore
    pipeline: Any  # streams.app.Pipeline: producer, loops, problems(), backpressure()
    view: Any  # tables.windows.WindowView
    applier: Any  # agents.alerts.DeltaApplier
    alerts: Any  # agents.alerts.AlertPublisher (its executor reads stored alerts)
    registry: Any  # agents.campaigns.CampaignRegistry
    metrics: Metrics

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024 * 1024
# the dashboard: plain files served as they are (no build step), open without a key like `/`
STATIC_DIR = Path(__file__).with_name("static")
PROBES = frozenset({"/health", "/ready", "/metrics"})


def _add_rows(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Two platforms' hopping rows of the same window, summed (the window bounds kept)."""
    return {k: (v if k in ("window_start", "window_end") else v + b[k]) for k, v in a.items()}


@web.middleware
async def errors_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        # aiohttp's own answers (no such route, method not allowed, body too large) are plain
        # text; every error a client gets is JSON with a message
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        headers = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After")}
        return error(exc.status, f"{exc.reason}: {request.method} {request.path}" if exc.status in (404, 405)
                     else exc.text or exc.reason, headers=headers)
    except Exception as exc:  # noqa: BLE001 - a client never sees a bare 500 traceback
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error(503, f"the server could not handle the request right now: {type(exc).__name__}")


class WebServer(mode.Service):
    def __init__(self, tv: Worker, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tv = tv
        self.feed = AlertFeed()
        self.runner: web.AppRunner | None = None
        tv.metrics.registry.register(WorkerCollector(tv, self.feed))
        self.readiness = Readiness(tv)

    def make_app(self) -> web.Application:
        from streams.keystore import KeyStore

        s = self.tv.settings
        auth = ApiKeyAuth(KeyStore(s.resolved_api_keys_file), s.rate_limit_per_minute)
        app = web.Application(client_max_size=MAX_BODY,
                              middlewares=[self.http_metrics, auth.middleware, errors_middleware])
        app.add_routes([
            web.get("/", self.index),
            web.static("/static", STATIC_DIR),
            web.get("/health", self.health),
            web.get("/ready", self.ready),
            web.get("/metrics", self.metrics),
            web.post("/api/sql", self.sql),
            web.get("/api/windows", self.windows),
            web.post("/api/mentions", self.ingest),
            web.get("/api/campaigns", self.list_campaigns),
            web.post("/api/campaigns", self.create_campaign),
            web.get("/api/alerts", self.alerts),
            web.get("/api/predictions", self.list_predictions),
            web.post("/api/predictions", self.predict_now),
            web.post("/api/outcomes", self.record_outcome),
            web.get("/api/accuracy", self.accuracy),
        ])
        live.LiveApi(self.tv, self.feed).mount(app)  # /api/v1/realtime, /api/v1/ws/..., /ws/alerts
        v1.V1Api(self.tv, self.feed).mount(app)  # /api/v1 (streams.web.v1) and /api/v1/openapi.json
        v1.mark_deprecated(app)  # the routes above /api/v1: Deprecation and Link: successor-version
        install_request_ids(app)  # X-Request-ID: the correlation id of every log line of a request
        return app

    async def on_start(self) -> None:
        s = self.tv.settings
        await self.feed.start(s.bootstrap_servers)
        # handler_cancellation: a client that goes away cancels its handler (and its SQL query)
        self.runner = web.AppRunner(self.make_app(), access_log=None, handler_cancellation=True)
        await self.runner.setup()
        await web.TCPSite(self.runner, s.web_host, s.web_port).start()
        log.info("API on http://%s:%d", s.web_host, s.web_port)

    async def on_stop(self) -> None:
        # running analyst queries are killed first: the HTTP server's cleanup waits for handlers
        self.tv.store.analyst.close()
        await self.feed.stop()
        self.readiness.close()
        if self.runner:
            await self.runner.cleanup()

    # -- health ---------------------------------------------------------------------------
    async def index(self, request: web.Request) -> web.StreamResponse:
        """The dashboard for browsers; the list of endpoints for clients that ask for JSON."""
        if request.headers.get("Accept", "").startswith("application/json"):
            return self.endpoints()
        return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    @staticmethod
    def endpoints() -> web.Response:
        return json_response({
            "service": "truevoice",
            "endpoints": ["/health", "/ready", "/metrics", "POST /api/sql", "/api/windows?campaign=&platform=",
                          "POST /api/mentions", "/api/campaigns", "/api/alerts?limit=", "/ws/alerts?recent=",
                          "/api/v1/realtime/{campaign_id}", "WS /api/v1/ws/{campaign_id}?recent=",
                          "WS /api/v1/ws/alerts?recent=",
                          "/api/predictions?campaign=", "POST /api/predictions", "POST /api/outcomes", "/api/accuracy"],
        })

    async def health(self, request: web.Request) -> web.Response:
        return json_response({"status": "ok"})

    async def ready(self, request: web.Request) -> web.Response:
        """Ready = started, not failing, the backlog within its bound, and the broker, ClickHouse
        and the models answering now (streams.web.readiness); 503 with the reasons otherwise."""
        problems = await self.readiness.problems()
        body = {"ready": not problems, "problems": problems}
        return json_response(body, status=200 if not problems else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        # counts and states are read at scrape time (streams.metrics.WorkerCollector)
        return web.Response(body=generate_latest(self.tv.metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    @web.middleware
    async def http_metrics(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Each request counted by route template, method and status; its latency observed (a
        WebSocket's is how long the client stayed, so it is only counted). 499: the client went away."""
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except asyncio.CancelledError:
            status = 499
            raise
        finally:
            metrics = self.tv.metrics
            seconds = time.perf_counter() - started
            metrics.http_requests.labels(route, request.method, str(status)).inc()
            if route not in live.WS_ROUTES:
                metrics.http_seconds.labels(route, request.method, status_class(status)).observe(seconds)
            # the access line, under the request's correlation id: the route template, never the
            # path or query (ids, text, a ?key=); probes at DEBUG, they come every few seconds
            log.log(logging.DEBUG if route in PROBES else logging.INFO, "%s %s -> %d in %.1f ms", request.method,
                    route, status, seconds * 1000, extra={"method": request.method, "route": route,
                                                          "status": status, "duration_ms": round(seconds * 1000, 2)})

    # -- analysts ---------------------------------------------------------------------------
    async def _json_body(self, request: web.Request) -> Any:
        try:
            return orjson.loads(await request.read())
        except orjson.JSONDecodeError as exc:
            raise web.HTTPBadRequest(body=orjson.dumps({"error": f"body is not valid JSON: {exc}"}),
                                     content_type="application/json") from exc

    async def sql(self, request: web.Request) -> web.Response:
        """Analyst SQL: checked by the guard, run in its own pool under limits; cancelled when the
        client goes away (aiohttp cancels the handler, the query is killed)."""
        from tables.clickhouse.analyst import TooManyQueriesError
        from tables.clickhouse.connection import ClickHouseUnavailableError, QueryError
        from tables.clickhouse.guard import QuerySyntaxError, UnsafeQueryError

        body = await self._json_body(request)
        query = body.get("sql") if isinstance(body, dict) else None
        if not isinstance(query, str) or not query.strip():
            return error(400, 'send {"sql": "SELECT ..."}')
        try:
            principal = request.get("principal")
            result = await self.tv.store.analyst.aquery(query, tenant=None if is_admin(principal) else principal.tenant)
        except QuerySyntaxError as exc:
            return error(400, str(exc))
        except UnsafeQueryError as exc:
            return error(403, str(exc))
        except TooManyQueriesError as exc:
            return error(429, str(exc), headers={"Retry-After": "2"})
        except ClickHouseUnavailableError as exc:
            return error(503, f"ClickHouse cannot answer now: {exc}", headers={"Retry-After": "5"})
        except QueryError as exc:
            return error(400, str(exc))
        return json_response({"columns": result.columns, "rows": result.rows})

    async def windows(self, request: web.Request) -> web.Response:
        """One campaign's windows on one platform, or (no ``platform``) summed over all platforms."""
        campaign = request.query.get("campaign", "*")
        if not self._may_see(request, campaign):
            return self._not_yours(campaign)
        platform = request.query.get("platform") or None
        if platform is not None and platform not in PLATFORMS:
            return error(400, f"unknown platform {platform!r}; one of {', '.join(PLATFORMS)} (or none: all platforms)")
        try:
            count = min(int(request.query.get("windows", "60")), 24 * 60)
        except ValueError:
            return error(400, "windows must be an integer")
        if count < 1:
            return error(400, "windows must be at least 1")
        now = time.time()
        minute = int(now) // 60 * 60
        view = self.tv.view
        if platform is not None:
            key = window_key(campaign, platform)
            tumbling = view.minutes(key, minute, count)
            hopping = view.hopping(key, now=now, windows=min(count, 60))
        else:
            tumbling, hopping = {}, []
            for p in PLATFORMS:
                for m, sums in view.minutes(window_key(campaign, p), minute, count).items():
                    tumbling[m] = tumbling[m] + sums if m in tumbling else sums
                rows = view.hopping(window_key(campaign, p), now=now, windows=min(count, 60))
                hopping = rows if not hopping else [_add_rows(a, b) for a, b in zip(hopping, rows)]
        return json_response({
            "campaign": campaign,
            "platform": platform or "*",
            "tumbling_1m": [{"minute": m, **sums.model_dump()} for m, sums in sorted(tumbling.items())],
            "hopping_1h_1m": hopping,
        })

    async def alerts(self, request: web.Request) -> web.Response:
        """The latest state of each recent incident: ClickHouse (so a restarted worker still lists
        them) merged with what the feed saw since (newer revisions win)."""
        try:
            limit = max(1, min(int(request.query.get("limit", "100")), 1000))
        except ValueError:
            return error(400, "limit must be an integer")
        from tables.incidents import stored_alerts

        loop = asyncio.get_running_loop()
        try:
            stored = await loop.run_in_executor(self.tv.alerts.executor, stored_alerts, self.tv.store, limit)
        except Exception as exc:  # noqa: BLE001 - ClickHouse busy or down: what the feed holds still answers
            log.warning("/api/alerts: ClickHouse unavailable (%s); answering from the feed only", exc)
            stored = []
        mine = [a for a in latest_alerts(stored + self.feed.recent) if self._may_see(request, a.get("campaign_id"))]
        return json_response({"alerts": mine[-limit:]})

    # -- ingest ---------------------------------------------------------------------------------
    async def ingest(self, request: web.Request) -> web.Response:
        """POST one mention or a list; each is validated here so the client learns what is wrong."""
        pipeline = self.tv.pipeline
        if not pipeline.accepting:
            return error(503, "TrueVoice is shutting down and accepts no new mentions; retry on another worker")
        busy = pipeline.backpressure()
        if busy:
            message, retry_after = busy
            return error(503, message, headers={"Retry-After": str(retry_after)})
        body = await self._json_body(request)
        items = body if isinstance(body, list) else [body]
        if not items or len(items) > 10_000:
            return error(400, "send one mention object or a list of 1 to 10000")
        good, errors = v1.validate_mentions(items)
        if errors:
            return error(422, f"{len(errors)} of {len(items)} mentions are invalid; none were accepted", errors=errors[:100])
        producer = self.tv.pipeline.producer
        assert producer is not None
        sends = [await producer.send(Topics.RAW, m.dumps(), key=m.event_id.encode()) for m in good]
        await asyncio.gather(*sends)
        return json_response({"accepted": len(good), "event_ids": [m.event_id for m in good]}, status=202)

    # -- predictions ----------------------------------------------------------------------------
    async def list_predictions(self, request: web.Request) -> web.Response:
        campaign = request.query.get("campaign") or None
        if campaign is not None and not self._may_see(request, campaign):
            return self._not_yours(campaign)
        try:
            limit = max(1, min(int(request.query.get("limit", "20")), 1000))
        except ValueError:
            return error(400, "limit must be an integer")
        if campaign is None and not is_admin(request.get("principal")):
            # a tenant's list is its campaigns' predictions, not the newest `limit` of everyone's
            mine = [c for c in self.tv.registry.campaigns if self._may_see(request, c)]
            rows = await asyncio.get_running_loop().run_in_executor(
                self.tv.pipeline.predictor.executor,
                lambda: sorted((r for c in mine for r in self.tv.store.predictions(c, limit)),
                               key=lambda r: r["made_at"], reverse=True)[:limit])
            return json_response({"predictions": rows})
        rows = await asyncio.get_running_loop().run_in_executor(
            self.tv.pipeline.predictor.executor, lambda: self.tv.store.predictions(campaign, limit))
        return json_response({"predictions": rows})

    async def predict_now(self, request: web.Request) -> web.Response:
        """Predict one campaign (or ``*``) now: ``{"campaign_id": "..."}``."""
        body = await self._json_body(request)
        cid = body.get("campaign_id") if isinstance(body, dict) else None
        if not isinstance(cid, str) or not cid:
            return error(400, 'send {"campaign_id": "..."} ("*" for every mention)')
        if not self._may_see(request, cid):
            return self._not_yours(cid)
        if cid != "*" and cid not in self.tv.registry.campaigns:
            return error(404, f"unknown campaign {cid!r}; GET /api/campaigns lists them")
        made = await self.tv.pipeline.predictor.predict([cid])
        if not made:
            return error(404, f"campaign {cid!r} has no mentions in the last "
                              f"{self.tv.pipeline.predictor.window_hours} h to predict from")
        return json_response(made[0].model_dump(mode="json"), status=201)

    async def record_outcome(self, request: web.Request) -> web.Response:
        """What actually happened: ``{"campaign_id", "metric", "value", "observed_at"?, "source"?}``."""
        from schemas.records import Outcome

        body = await self._json_body(request)
        if not isinstance(body, dict):
            return error(400, "send a JSON object")
        try:
            outcome = Outcome.model_validate({"observed_at": time.time(), **body})
        except ValidationError as exc:
            return error(422, describe_validation_error(exc))
        if not self._may_see(request, outcome.campaign_id):
            return self._not_yours(outcome.campaign_id)
        predictor = self.tv.pipeline.predictor
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(predictor.executor, lambda: self.tv.store.record_actual(
            outcome.campaign_id, outcome.metric, outcome.value, outcome.observed_at, outcome.source))
        rows = await predictor.check_accuracy()
        mine = [r for r in rows if r["campaign_id"] == outcome.campaign_id and r["metric"] == outcome.metric]
        return json_response({"outcome": outcome.model_dump(mode="json"), "accuracy": mine}, status=201)

    async def accuracy(self, request: web.Request) -> web.Response:
        rows = await self.tv.pipeline.predictor.check_accuracy()
        return json_response({"accuracy": [r for r in rows if self._may_see(request, r["campaign_id"])]})

    # -- campaigns: a tenant key sees and makes its tenant's only (streams.web.auth) ------------
    def _may_see(self, request: web.Request, campaign_id: Any) -> bool:
        """Admins see everything, "*" (every mention, every tenant) included; a tenant its campaigns."""
        return may_see(request.get("principal"), self.tv.registry.campaigns.get(campaign_id)
                       if isinstance(campaign_id, str) else None)

    @staticmethod
    def _not_yours(campaign_id: Any) -> web.Response:
        return error(403, f"campaign {campaign_id!r} is not one of this key's tenant's campaigns "
                          "(GET /api/campaigns lists them)")

    async def list_campaigns(self, request: web.Request) -> web.Response:
        return json_response({"campaigns": [c.model_dump(mode="json") for cid, c in self.tv.registry.campaigns.items()
                                            if self._may_see(request, cid)]})

    async def create_campaign(self, request: web.Request) -> web.Response:
        from scoring.campaigns import CampaignMatcher, CampaignQueryError

        body = await self._json_body(request)
        principal = request.get("principal")
        if isinstance(body, dict) and not is_admin(principal):
            if body.get("tenant", principal.tenant) != principal.tenant:
                return error(403, f"this key belongs to tenant {principal.tenant!r}; it cannot make campaigns "
                                  "for another tenant")
            body = {**body, "tenant": principal.tenant}
            existing = self.tv.registry.campaigns.get(body.get("campaign_id"))
            if existing is not None and not may_see(principal, existing):
                return error(403, f"campaign id {body['campaign_id']!r} is taken by another tenant; choose another")
        try:
            campaign = Campaign.model_validate(body)
            CampaignMatcher([campaign])
        except ValidationError as exc:
            return error(422, describe_validation_error(exc))
        except CampaignQueryError as exc:
            return error(422, f"query: {exc}")
        await self.tv.pipeline.publish_campaigns([campaign])
        return json_response(campaign.model_dump(mode="json"), status=201)
