"""/api/v1: campaigns, their mentions, predictions, ingest, SQL and alerts, for one worker.

Tenancy: every handler reads ``request["principal"]`` (streams.web.auth; None = no auth
installed = admin). A tenant's key gets 403 for another tenant's campaign AND for an id that does
not exist, the same answer, so a key cannot probe which ids exist; an admin gets 404 for an
unknown one. Bodies and query strings are parsed by the pydantic models of ``v1_models`` (which
the OpenAPI document is generated from): 415 for a body that is not JSON by its Content-Type,
413 over the size limit, 400 for JSON that does not parse, 422 for JSON that is not valid.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import uuid
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

from agents.validate import describe_validation_error
from schemas import Campaign, Mention, Topics
from schemas.records import Outcome
from streams.web import v1_insights
from streams.web import v1_models as m
from streams.web.auth import is_admin, may_see
from streams.web.feed import AlertFeed, latest_alerts
from streams.web.openapi import OpenApi, Parameter
from streams.web.openapi import mount as mount_openapi
from streams.web.responses import error, json_response

PREFIX = "/api/v1"
MAX_INGEST_BYTES = 8 * 1024 * 1024
MAX_JSON_BYTES = 256 * 1024  # every other body
MAX_BATCH = 10_000
HISTORY = 20  # predictions listed under "history"
SEEN_TIMEOUT = 5.0  # how long a campaign change waits to be read back from the topic
ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"

_M = TypeVar("_M", bound=BaseModel)


class Refusal(Exception):
    """A 4xx/5xx answer, raised from anywhere in a handler: {"error": message, **extra}."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.headers, self.extra = status, message, headers, extra

    def response(self) -> web.Response:
        return error(self.status, self.message, headers=self.headers, **self.extra)


def answers(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
            ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The handler's answer, or its Refusal as a JSON error."""
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except Refusal as refusal:
            return refusal.response()
    return wrapped


async def read_json(request: web.Request, limit: int = MAX_JSON_BYTES) -> Any:
    """The body as JSON: 415 unless its Content-Type is JSON, 413 over ``limit``, 400 if it does not parse."""
    if request.content_type != "application/json" and not request.content_type.endswith("+json"):
        raise Refusal(415, f"send the body as JSON with 'Content-Type: application/json' "
                           f"(got {request.content_type or 'none'!r})")
    if request.content_length is not None and request.content_length > limit:
        raise Refusal(413, f"the body is {request.content_length} bytes; at most {limit} are accepted here")
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > limit:
            raise Refusal(413, f"the body is over {limit} bytes, the most accepted here")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Refusal(400, f"the body is not valid JSON: {exc}") from exc


def parse(model: type[_M], data: Any, what: str = "body") -> _M:
    if not isinstance(data, dict):
        raise Refusal(422, f"the {what} must be a JSON object, not {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Refusal(422 if what == "body" else 400, f"{what}: {describe_validation_error(exc)}") from exc


def query(model: type[_M], request: web.Request) -> _M:
    """The query string through ``model``; a repeated parameter is a mistake (400)."""
    repeated = sorted({k for k in request.query if len(request.query.getall(k)) > 1})
    if repeated:
        raise Refusal(400, f"query parameter {repeated[0]!r} is given more than once")
    return parse(model, dict(request.query), "query")


def path_id(request: web.Request, name: str) -> str:
    value = request.match_info[name]
    if not 1 <= len(value) <= 128 or not all(c.isascii() and (c.isalnum() or c in "_.:-") for c in value):
        raise Refusal(400, f"{name} {value[:140]!r} is not valid: 1 to 128 letters, digits, '_', '.', ':' or '-'")
    return value


def validate_mentions(items: list[Any]) -> tuple[list[Mention], list[dict[str, Any]]]:
    """The valid mentions, and {"index", "error"} for each invalid item."""
    good: list[Mention] = []
    errors: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append({"index": i, "error": f"expected an object, got {type(item).__name__}"})
            continue
        try:
            good.append(Mention.model_validate(item))
        except ValidationError as exc:
            errors.append({"index": i, "error": describe_validation_error(exc)})
    return good, errors


def encode_cursor(posted_at: datetime, event_id: str) -> str:
    ms = int(posted_at.timestamp() * 1000)
    return base64.urlsafe_b64encode(orjson.dumps([ms, event_id])).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    """(posted_at in ms, event_id) of the row a page ended on; 400 for anything this API did not give."""
    try:
        value = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise Refusal(400, "cursor is not one this API gave: pass next_cursor from the previous page") from exc
    if (not isinstance(value, list) or len(value) != 2 or type(value[0]) is not int or not isinstance(value[1], str)
            or not 0 <= value[0] < 2**53 or len(value[1]) > 128):
        raise Refusal(400, "cursor is not one this API gave: pass next_cursor from the previous page")
    return value[0], value[1]


def utc(t: datetime | None) -> datetime | None:
    return t.replace(tzinfo=timezone.utc) if t is not None and t.tzinfo is None else t


class V1Api:
    """The handlers of /api/v1 over one worker (``streams.web.api.Worker``)."""

    def __init__(self, tv: Any, feed: AlertFeed) -> None:
        self.tv = tv
        self.feed = feed

    def mount(self, app: web.Application) -> OpenApi:
        """Add the routes and the OpenAPI document (``app[openapi.OPENAPI]``, for other modules'
        routes); returns the document."""
        doc = OpenApi("TrueVoice API", "1.0.0", "Real-time social listening: campaigns, mentions, predictions, "
                      "alerts and analyst SQL. Errors are JSON {\"error\": \"...\"}. A tenant's key sees its own "
                      "campaigns only: 403 for another tenant's campaign and for an unknown id alike.")
        routes: list[tuple[str, str, Callable]] = [
            ("get", "/campaigns", self.list_campaigns),
            ("post", "/campaigns", self.create_campaign),
            ("get", "/campaigns/{campaign_id}", self.get_campaign),
            ("patch", "/campaigns/{campaign_id}", self.patch_campaign),
            ("delete", "/campaigns/{campaign_id}", self.delete_campaign),
            ("get", "/campaigns/{campaign_id}/mentions", self.campaign_mentions),
            ("get", "/predictions/{campaign_id}", self.prediction_report),
            ("post", "/predictions/{prediction_id}/actuals", self.record_actual),
            ("post", "/mentions", self.ingest),
            ("post", "/sql", self.sql),
            ("get", "/alerts", self.alerts),
            ("post", "/analyze/meme", self.analyze_meme),
        ]
        for method, path, handler in routes:
            app.router.add_route(method.upper(), PREFIX + path, answers(handler))
        describe(doc)
        mount_openapi(app, doc, PREFIX + "/openapi.json")
        return doc

    # -- access -----------------------------------------------------------------------------------
    def owned(self, request: web.Request, campaign_id: str, *, deleted_too: bool = False) -> Campaign | None:
        """The campaign if the caller may read it; Refusal 403 (a tenant: another's or unknown) or
        404 (an admin: unknown). ``deleted_too``: a deleted campaign still belongs to its tenant."""
        principal = request.get("principal")
        registry = self.tv.registry
        campaign = registry.campaigns.get(campaign_id)
        if campaign is None and deleted_too:
            campaign = registry.deleted.get(campaign_id)
        if not may_see(principal, campaign):
            raise Refusal(403, f"campaign {campaign_id!r} is not one of this key's tenant's campaigns "
                               "(GET /api/v1/campaigns lists them)")
        if campaign is None and not deleted_too:
            raise Refusal(404, f"unknown campaign {campaign_id!r}; GET /api/v1/campaigns lists them")
        return campaign

    async def publish(self, campaign: Campaign) -> None:
        """Publish on the campaigns topic (every worker's matcher follows it) and wait until this
        worker's registry read it back, so a GET right after answers the new state."""
        await self.tv.pipeline.publish_campaigns([campaign])
        await self.tv.registry.seen(campaign, SEEN_TIMEOUT)

    @staticmethod
    def checked(fields: dict[str, Any]) -> Campaign:
        from scoring.campaigns import CampaignMatcher, CampaignQueryError

        try:
            campaign = Campaign.model_validate(fields)
            CampaignMatcher([campaign])
        except ValidationError as exc:
            raise Refusal(422, describe_validation_error(exc)) from exc
        except CampaignQueryError as exc:
            raise Refusal(422, f"query: {exc}") from exc
        return campaign

    # -- campaigns --------------------------------------------------------------------------------
    async def list_campaigns(self, request: web.Request) -> web.Response:
        principal = request.get("principal")
        mine = [c.model_dump(mode="json") for c in self.tv.registry.campaigns.values() if may_see(principal, c)]
        return json_response({"campaigns": sorted(mine, key=lambda c: c["campaign_id"])})

    async def create_campaign(self, request: web.Request) -> web.Response:
        body = parse(m.CampaignCreate, await read_json(request))
        principal = request.get("principal")
        if is_admin(principal):
            tenant = body.tenant or "default"
        elif body.tenant not in (None, principal.tenant):
            raise Refusal(403, f"this key belongs to tenant {principal.tenant!r}; it cannot make campaigns "
                               "for another tenant")
        else:
            tenant = principal.tenant
        registry = self.tv.registry
        cid = body.campaign_id or f"c-{uuid.uuid4().hex[:16]}"
        if cid in registry.campaigns:
            if not may_see(principal, registry.campaigns[cid]):
                raise Refusal(403, f"campaign id {cid!r} is taken by another tenant; choose another")
            raise Refusal(409, f"campaign {cid!r} exists; PATCH /api/v1/campaigns/{cid} changes it")
        if cid in registry.deleted and not may_see(principal, registry.deleted[cid]):
            raise Refusal(403, f"campaign id {cid!r} is taken by another tenant; choose another")
        campaign = self.checked({**body.model_dump(exclude={"campaign_id", "tenant"}), "campaign_id": cid,
                                 "tenant": tenant})
        await self.publish(campaign)
        return json_response(campaign.model_dump(mode="json"), 201,
                             {"Location": f"{PREFIX}/campaigns/{cid}"})

    async def get_campaign(self, request: web.Request) -> web.Response:
        campaign = self.owned(request, path_id(request, "campaign_id"))
        return json_response(campaign.model_dump(mode="json"))

    async def patch_campaign(self, request: web.Request) -> web.Response:
        campaign = self.owned(request, path_id(request, "campaign_id"))
        patch = parse(m.CampaignPatch, await read_json(request))
        merged = self.checked({**campaign.model_dump(), **patch.model_dump(exclude_unset=True)})
        await self.publish(merged)
        return json_response(merged.model_dump(mode="json"))

    async def delete_campaign(self, request: web.Request) -> web.Response:
        """The campaign is published once more with ``deleted``: the compacted topic keeps that last
        record, so every worker (and one that re-reads the topic after a restart) drops it."""
        campaign = self.owned(request, path_id(request, "campaign_id"))
        await self.publish(campaign.model_copy(update={"deleted": True}))
        return json_response({"campaign_id": campaign.campaign_id, "deleted": True})

    # -- mentions ---------------------------------------------------------------------------------
    async def campaign_mentions(self, request: web.Request) -> web.Response:
        cid = path_id(request, "campaign_id")
        self.owned(request, cid, deleted_too=True)
        f = query(m.MentionFilters, request)
        since, until = utc(f.since), utc(f.until)
        if since and until and since >= until:
            raise Refusal(400, "since must be before until")
        after = decode_cursor(f.cursor) if f.cursor else None
        rows = await self._blocking(lambda: self.tv.store.mentions_page(
            cid, limit=f.limit, platform=f.platform, sentiment_label=f.sentiment, credible=f.credible,
            min_credibility=f.min_credibility, since=since, until=until, text=f.q, after=after))
        cursor = encode_cursor(rows[-1]["posted_at"], rows[-1]["event_id"]) if len(rows) == f.limit else None
        return json_response({"mentions": rows, "next_cursor": cursor})

    async def ingest(self, request: web.Request) -> web.Response:
        """A batch: the valid mentions go to mentions.raw, the invalid ones come back with the reason."""
        pipeline = self.tv.pipeline
        if not pipeline.accepting:
            raise Refusal(503, "TrueVoice is shutting down and accepts no new mentions; retry on another worker",
                          {"Retry-After": "5"})
        body = await read_json(request, MAX_INGEST_BYTES)
        items = body if isinstance(body, list) else [body]
        if not 1 <= len(items) <= MAX_BATCH:
            raise Refusal(400, f"send one mention object or a list of 1 to {MAX_BATCH}")
        busy = pipeline.backpressure()
        if busy:
            message, retry_after = busy
            raise Refusal(503, message, {"Retry-After": str(retry_after)})
        good, errors = validate_mentions(items)
        result = {"accepted": len(good), "rejected": len(errors), "event_ids": [g.event_id for g in good],
                  "errors": errors[:100]}
        if not good:
            raise Refusal(422, f"all {len(items)} mentions are invalid; none were accepted", **result)
        producer = pipeline.producer
        sends = [await producer.send(Topics.RAW, g.dumps(), key=g.event_id.encode()) for g in good]
        await asyncio.gather(*sends)
        return json_response(result, 202)

    # -- predictions ------------------------------------------------------------------------------
    async def prediction_report(self, request: web.Request) -> web.Response:
        cid = request.match_info["campaign_id"]
        if cid == "*":
            if not is_admin(request.get("principal")):
                raise Refusal(403, "'*' counts every tenant's mentions: only an admin key may read it")
        else:
            self.owned(request, path_id(request, "campaign_id"), deleted_too=True)
        rows = await self._blocking(lambda: self.tv.store.predictions(cid, HISTORY))
        if not rows:
            raise Refusal(404, f"no prediction for campaign {cid!r} yet: one is made every "
                               f"{self.tv.settings.predict_interval_seconds:g} s once it has mentions")
        history = [self._prediction(r) for r in rows]
        insights, advice = v1_insights.write(history[0])
        return json_response({"campaign_id": cid, "latest": history[0], "history": history,
                              "insights": [i.model_dump() for i in insights],
                              "recommendations": [a.model_dump() for a in advice]})

    @staticmethod
    def _prediction(row: dict[str, Any]) -> dict[str, Any]:
        """A stored row in the Prediction's shape: its items, not their one-line summaries."""
        out = {k: v for k, v in row.items() if k not in ("risk_items", "opportunity_items")}
        out["risks"], out["opportunities"] = row.get("risk_items", []), row.get("opportunity_items", [])
        return out

    async def record_actual(self, request: web.Request) -> web.Response:
        pid = path_id(request, "prediction_id")
        body = parse(m.ActualRequest, await read_json(request))
        row = await self._blocking(lambda: self.tv.store.prediction(pid))
        if row is None:
            raise Refusal(404, f"unknown prediction {pid!r}; GET /api/v1/predictions/{{campaign_id}} lists them")
        campaign_id = row["campaign_id"]
        if campaign_id != "*" or not is_admin(request.get("principal")):
            self.owned(request, campaign_id, deleted_too=True)
        try:
            outcome = Outcome(campaign_id=campaign_id, metric=body.metric, value=body.value,
                              observed_at=utc(body.observed_at) or datetime.now(timezone.utc), source=body.source)
        except ValidationError as exc:
            raise Refusal(422, describe_validation_error(exc)) from exc
        store = self.tv.store

        def write() -> None:
            store.record_actual(outcome.campaign_id, outcome.metric, outcome.value, outcome.observed_at,
                                outcome.source)
            store.record_outcome(pid, **{outcome.metric: outcome.value}, observed_at=outcome.observed_at,
                                 source=outcome.source)

        await self._blocking(write)
        rows = await self.tv.pipeline.predictor.check_accuracy()
        mine = [r for r in rows if r["campaign_id"] == campaign_id and r["metric"] == outcome.metric]
        return json_response({"prediction_id": pid, "outcome": outcome.model_dump(mode="json"), "accuracy": mine},
                             201)

    # -- analysts ---------------------------------------------------------------------------------
    async def sql(self, request: web.Request) -> web.Response:
        from tables.clickhouse.analyst import TooManyQueriesError
        from tables.clickhouse.connection import ClickHouseUnavailableError, QueryError
        from tables.clickhouse.guard import FormatClauseError, QuerySyntaxError, UnsafeQueryError

        body = parse(m.SqlRequest, await read_json(request))
        principal = request.get("principal")
        try:
            result = await self.tv.store.analyst.aquery(
                body.sql, tenant=None if is_admin(principal) else principal.tenant)
        except FormatClauseError:
            raise Refusal(400, "FORMAT is not supported: /api/v1/sql always answers JSON "
                               "{\"columns\": [...], \"rows\": [[...]]}; remove the FORMAT clause") from None
        except QuerySyntaxError as exc:
            raise Refusal(400, str(exc)) from None
        except UnsafeQueryError as exc:
            raise Refusal(403, str(exc)) from None
        except TooManyQueriesError as exc:
            raise Refusal(429, str(exc), {"Retry-After": "2"}) from None
        except ClickHouseUnavailableError as exc:
            raise Refusal(503, f"ClickHouse cannot answer now: {exc}", {"Retry-After": "5"}) from None
        except QueryError as exc:
            raise Refusal(400, str(exc)) from None
        return json_response({"columns": result.columns, "rows": result.rows})

    async def alerts(self, request: web.Request) -> web.Response:
        """Incidents from ClickHouse (they survive restarts) and what the feed saw since, newest last."""
        from tables.incidents import stored_alerts

        f = query(m.AlertFilters, request)
        principal = request.get("principal")
        if f.campaign_id is not None:
            self.owned(request, f.campaign_id, deleted_too=True)
        stored = await asyncio.get_running_loop().run_in_executor(self.tv.alerts.executor, stored_alerts,
                                                                  self.tv.store, 1_000_000)
        registry = self.tv.registry

        def wanted(a: dict) -> bool:
            cid = a.get("campaign_id")
            owner = registry.campaigns.get(cid) or registry.deleted.get(cid)
            return ((f.campaign_id is None or cid == f.campaign_id) and (f.status is None or a.get("status") == f.status)
                    and may_see(principal, owner))

        return json_response({"alerts": [a for a in latest_alerts(stored + self.feed.recent) if wanted(a)][-f.limit:]})

    async def analyze_meme(self, request: web.Request) -> web.Response:
        raise Refusal(501, "the meme analyser does not exist yet; this route is declared so clients can "
                           "find it and will answer once it does")

    async def _blocking(self, fn: Callable[[], Any]) -> Any:
        """A store read in the predictor's thread pool, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.tv.pipeline.predictor.executor, fn)


# -- the document -----------------------------------------------------------------------------------

def _query_parameters(model: type[BaseModel]) -> list[Parameter]:
    """Query parameters from a query model's own JSON schema (one per field)."""
    schema = model.model_json_schema()
    return [Parameter(name, "query", prop, prop.get("description", ""), name in schema.get("required", []))
            for name, prop in schema["properties"].items()]


def _path(name: str, description: str, pattern: str = ID_PATTERN) -> Parameter:
    return Parameter(name, "path", {"type": "string", "pattern": pattern}, description, True)


CAMPAIGN = _path("campaign_id", "a campaign id")
RECENT_INCIDENTS = Parameter("recent", "query", {"type": "integer", "minimum": 0, "maximum": 100, "default": 0},
                             "first send the latest state of this many recent incidents")
LIVE_CAMPAIGN = _path("campaign_id", "a campaign id ('*': every mention, admin keys)", r"^(\*|[A-Za-z0-9_.:-]{1,128})$")
E = m.ErrorBody
BAD_ID = (400, ("the id is not valid", E))
FORBIDDEN = (403, ("another tenant's campaign, or (for a tenant's key) an unknown id", E))
UNKNOWN = (404, ("no such campaign (admin keys)", E))
NOT_JSON = {400: ("the body is not valid JSON", E), 413: ("the body is too large", E),
            415: ("the body is not application/json", E), 422: ("the body is not valid (the reason says why)", E)}


def describe(doc: OpenApi) -> None:
    """Every /api/v1 route, this module's and the live API's (streams.web.live)."""
    p = PREFIX
    doc.add("get", f"{p}/campaigns", "The campaigns this key may see", {200: ("campaigns", m.CampaignList)},
            tags=("campaigns",))
    doc.add("post", f"{p}/campaigns", "Create a campaign; monitoring starts at once",
            {201: ("the campaign as stored", Campaign), **NOT_JSON,
             403: ("another tenant, or an id another tenant holds", E), 409: ("the id exists: PATCH it", E)},
            body=m.CampaignCreate, tags=("campaigns",))
    doc.add("get", f"{p}/campaigns/{{campaign_id}}", "One campaign", {200: ("the campaign", Campaign),
            **dict([BAD_ID, FORBIDDEN, UNKNOWN])}, parameters=[CAMPAIGN], tags=("campaigns",))
    doc.add("patch", f"{p}/campaigns/{{campaign_id}}", "Change a campaign (the merged campaign is validated)",
            {200: ("the changed campaign", Campaign), **NOT_JSON, **dict([BAD_ID, FORBIDDEN, UNKNOWN])},
            body=m.CampaignPatch, parameters=[CAMPAIGN], tags=("campaigns",))
    doc.add("delete", f"{p}/campaigns/{{campaign_id}}", "Delete a campaign: it stops matching new mentions",
            {200: ("deleted", m.DeletedCampaign), **dict([BAD_ID, FORBIDDEN, UNKNOWN])},
            parameters=[CAMPAIGN], tags=("campaigns",),
            description="Its stored mentions, alerts and predictions are kept and stay readable by its tenant.")
    doc.add("get", f"{p}/campaigns/{{campaign_id}}/mentions", "A campaign's mentions, newest first, a page at a time",
            {200: ("one page", m.MentionPage), 400: ("a filter or the cursor is not valid", E), FORBIDDEN[0]: FORBIDDEN[1]},
            parameters=[CAMPAIGN, *_query_parameters(m.MentionFilters)], tags=("mentions",),
            description="Each post once. Pages are ordered by (posted_at, event_id) descending; next_cursor "
                        "continues exactly after the last row.")
    doc.add("post", f"{p}/mentions", "Ingest a batch of mentions (partial acceptance)",
            {202: ("the valid ones were accepted", m.IngestResult), 400: ("not JSON, or not 1 to 10000 items", E),
             413: ("the body is over 8 MiB", E), 415: ("the body is not application/json", E),
             422: ("every item was invalid", m.IngestRejected), 503: ("shutting down or the backlog is full", E)},
            body=m.IngestBatch, tags=("mentions",))
    doc.add("get", f"{p}/predictions/{{campaign_id}}", "The latest prediction, its history, insights and advice",
            {200: ("the report", m.PredictionReport), 400: BAD_ID[1], FORBIDDEN[0]: FORBIDDEN[1],
             404: ("no prediction for the campaign yet", E)},
            parameters=[_path("campaign_id", "a campaign id ('*': every mention, admin keys)",
                              r"^(\*|[A-Za-z0-9_.:-]{1,128})$")], tags=("predictions",))
    doc.add("post", f"{p}/predictions/{{prediction_id}}/actuals", "Record what actually happened; answers the accuracy",
            {201: ("recorded", m.ActualResult), **NOT_JSON, BAD_ID[0]: BAD_ID[1], FORBIDDEN[0]: FORBIDDEN[1],
             404: ("unknown prediction", E)},
            body=m.ActualRequest, parameters=[_path("prediction_id", "a prediction id")], tags=("predictions",))
    doc.add("post", f"{p}/sql", "Read-only analyst SQL over ClickHouse (a tenant's key: its rows only)",
            {200: ("the result", m.SqlResult), **NOT_JSON,
             400: ("the query does not parse or fails, or has a FORMAT clause (results are always JSON)", E),
             403: ("the query does something not allowed (writes, files, other databases, SETTINGS)", E),
             503: ("ClickHouse cannot answer now", E)}, body=m.SqlRequest, tags=("analysts",))
    doc.add("get", f"{p}/alerts", "Spike incidents (latest revision each), from ClickHouse",
            {200: ("alerts, newest last", m.AlertList), 400: ("a filter is not valid", E),
             FORBIDDEN[0]: FORBIDDEN[1]}, parameters=_query_parameters(m.AlertFilters), tags=("alerts",))
    doc.add("post", f"{p}/analyze/meme", "Meme analysis (not built yet)",
            {501: ("the meme analyser does not exist yet", E)}, tags=("analysis",))
    # the live routes (streams.web.live)
    doc.add("get", f"{p}/realtime/{{campaign_id}}", "Velocity, mentions, sentiment and credible share now",
            {200: ("per platform and summed, over 1, 5 and 60 minutes", m.RealtimeNumbers),
             400: BAD_ID[1], FORBIDDEN[0]: FORBIDDEN[1], 404: UNKNOWN[1]},
            parameters=[LIVE_CAMPAIGN], tags=("live",))
    for path, what in ((f"{p}/ws/{{campaign_id}}", "a campaign's alerts and a metrics tick every few seconds"),
                       (f"{p}/ws/alerts", "every alert this key may see, and ticks")):
        doc.add("get", path, f"WebSocket: {what}",
                {101: ("switching to the WebSocket protocol; every message is JSON with a 'type'", None),
                 400: ("not a WebSocket handshake, or a bad id", E), 403: FORBIDDEN[1], 404: UNKNOWN[1],
                 503: ("too many WebSocket clients on this worker", E)},
                parameters=([LIVE_CAMPAIGN] if "{" in path else []) + [RECENT_INCIDENTS],
                tags=("live",),
                description="Browsers cannot set headers on a WebSocket: the key may come as ?key=. Every "
                            "message is a JSON object with a 'type': 'alert' (the alert record), 'tick' (the "
                            "realtime numbers, or on /ws/alerts the pipeline's), or 'dropped' ('count' messages "
                            "this client was too slow to take were dropped).")


# -- the old unversioned routes ---------------------------------------------------------------------

# each old route and its successor; they keep working for one release
SUCCESSORS = {
    "/api/sql": f"{PREFIX}/sql",
    "/api/windows": f"{PREFIX}/realtime/{{campaign_id}}",
    "/api/mentions": f"{PREFIX}/mentions",
    "/api/campaigns": f"{PREFIX}/campaigns",
    "/api/alerts": f"{PREFIX}/alerts",
    "/api/predictions": f"{PREFIX}/predictions/{{campaign_id}}",
    "/api/outcomes": f"{PREFIX}/predictions/{{prediction_id}}/actuals",
    "/api/accuracy": f"{PREFIX}/predictions/{{prediction_id}}/actuals",
    "/ws/alerts": f"{PREFIX}/ws/alerts",
}
# RFC 9745: the moment the routes were deprecated, as a structured-field date
DEPRECATED_SINCE = "@" + str(int(datetime(2026, 12, 4, tzinfo=timezone.utc).timestamp()))


async def _mark_deprecated(request: web.Request, response: web.StreamResponse) -> None:
    resource = request.match_info.route.resource
    successor = SUCCESSORS.get(resource.canonical) if resource is not None else None
    if successor is not None:
        response.headers["Deprecation"] = DEPRECATED_SINCE
        response.headers["Link"] = f'<{successor}>; rel="successor-version"'


def mark_deprecated(app: web.Application) -> None:
    """Answers of the old /api routes carry ``Deprecation`` and ``Link: <successor>; rel="successor-version"``."""
    app.on_response_prepare.append(_mark_deprecated)


__all__ = ["V1Api", "describe", "mark_deprecated", "SUCCESSORS"]
