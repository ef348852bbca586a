"""The OpenAPI 3.1 document of /api/v1, built from the operations registered on it.

Each module that serves /api/v1 routes registers its operations (:meth:`OpenApi.add`) with the
pydantic models of their bodies; the schemas are generated from those models
(``pydantic.json_schema.models_json_schema``), never written by hand, so the document cannot drift
from what the handlers validate. Another module adds its routes with the same call, e.g.
``app[OPENAPI].add("get", "/api/v1/realtime/{campaign_id}", ...)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from streams.web.v1_models import ErrorBody

JSON = "application/json"
REF = "#/components/schemas/{model}"
# answers any keyed route may give, whatever the handler does (streams.web.auth)
COMMON_ERRORS = {401: "no API key, or not a valid one", 429: "too many requests (see Retry-After)"}


@dataclass
class Parameter:
    name: str
    where: Literal["path", "query", "header"]
    schema: dict[str, Any]
    description: str = ""
    required: bool = False

    def as_openapi(self) -> dict[str, Any]:
        return {"name": self.name, "in": self.where, "required": self.required or self.where == "path",
                "description": self.description, "schema": self.schema}


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    responses: dict[int, tuple[str, type[BaseModel] | None]]
    body: type[BaseModel] | None = None
    body_description: str = ""
    parameters: list[Parameter] = field(default_factory=list)
    description: str = ""
    tags: tuple[str, ...] = ()
    keyed: bool = True


class OpenApi:
    def __init__(self, title: str, version: str, description: str) -> None:
        self.info = {"title": title, "version": version, "description": description}
        self.operations: list[Operation] = []
        self._document: dict[str, Any] | None = None

    def add(self, method: str, path: str, summary: str, responses: dict[int, tuple[str, type[BaseModel] | None]],
            **details: Any) -> None:
        """Describe one route: ``responses`` maps each status to (description, body model or None).
        ``details``: the other fields of :class:`Operation`."""
        self.operations.append(Operation(method.lower(), path, summary, responses, **details))
        self._document = None

    def document(self) -> dict[str, Any]:
        if self._document is None:
            self._document = self._build()
        return self._document

    def _build(self) -> dict[str, Any]:
        inputs = {op.body for op in self.operations if op.body is not None}
        outputs = {m for op in self.operations for _, m in op.responses.values() if m is not None} | {ErrorBody}
        pairs = [(m, "validation") for m in inputs] + [(m, "serialization") for m in outputs]
        pairs.sort(key=lambda p: (p[0].__name__, p[1]))  # the same document on every start
        refs, defs = models_json_schema(pairs, ref_template=REF)
        paths: dict[str, dict[str, Any]] = {}
        for op in self.operations:
            paths.setdefault(op.path, {})[op.method] = self._operation(op, refs)
        return {
            "openapi": "3.1.0",
            "info": self.info,
            "servers": [{"url": "/"}],
            "paths": paths,
            "components": {
                "schemas": defs.get("$defs", {}),
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer",
                               "description": "an API key (truevoice keys create) as 'Authorization: Bearer <key>'"},
                    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                },
            },
            "security": [{"bearer": []}, {"apiKey": []}],
        }

    @staticmethod
    def _operation(op: Operation, refs: dict[tuple[Any, str], dict[str, Any]]) -> dict[str, Any]:
        error = refs[(ErrorBody, "serialization")]
        responses: dict[str, Any] = {}
        for status, (description, model) in sorted({**({s: (d, ErrorBody) for s, d in COMMON_ERRORS.items()}
                                                         if op.keyed else {}), **op.responses}.items()):
            entry: dict[str, Any] = {"description": description}
            if model is not None:
                entry["content"] = {JSON: {"schema": refs[(model, "serialization")] if model is not ErrorBody else error}}
            responses[str(status)] = entry
        out: dict[str, Any] = {
            "operationId": f"{op.method}_{op.path}".replace("/api/v1/", "").replace("/", "_").replace("{", "")
                           .replace("}", ""),
            "summary": op.summary,
            "responses": responses,
        }
        if op.description:
            out["description"] = op.description
        if op.tags:
            out["tags"] = list(op.tags)
        if op.parameters:
            out["parameters"] = [p.as_openapi() for p in op.parameters]
        if op.body is not None:
            out["requestBody"] = {"required": True, "description": op.body_description,
                                  "content": {JSON: {"schema": refs[(op.body, "validation")]}}}
        if not op.keyed:
            out["security"] = []
        return out


OPENAPI: web.AppKey[OpenApi] = web.AppKey("openapi", OpenApi)


def mount(app: web.Application, api: OpenApi, path: str) -> None:
    """Serve ``api``'s document at ``path`` and keep it in ``app[OPENAPI]`` for other modules."""
    app[OPENAPI] = api

    async def serve(request: web.Request) -> web.Response:
        return web.json_response(api.document())

    app.router.add_get(path, serve)
