"""The API's route table: each handler declared once with what the OpenAPI document says about it.

    @API.route("GET", "/executions", summary="...", query=ExecutionQuery, response=ExecutionPage)
    async def list_executions(request: web.Request) -> web.Response: ...

`roles`: the caller needs one of them (None: any authenticated caller; the kernel's policy
decides what they may do). `public`: no token needed (the OpenAPI document and its docs page).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel

from adapters.api.announce import AnnouncingStore
from adapters.api.auth import Authenticator, Caller
from adapters.api.problems import ApiProblem
from db.assets import SqlAssetRepository
from db.audit import SqlAuditLog
from db.execution_history import SqlExecutionHistory
from db.templates import SqlTemplateStore
from pipeline.admission import Admission
from pipeline.contracts import Decision, InboundMessage, Response
from pipeline.ports import ApprovalRecord, Cache, ProgressCallback
from pipeline.registry import ToolRegistry

Handler = Callable[[web.Request], Awaitable[web.Response]]
M = TypeVar("M", bound=BaseModel)

ANY_ROLE = frozenset({"viewer", "operator", "approver", "admin"})  # reading needs one of these
ADMIN = frozenset({"admin"})


class Submit:
    """The kernel's submit as the API calls it (rate limits already counted at the door)."""

    def __init__(self, submit: Callable[..., Awaitable[Response]]) -> None:
        self._submit = submit

    async def __call__(self, message: InboundMessage, progress: ProgressCallback | None = None) -> Response:
        return await self._submit(message, progress, admitted=True)


@dataclass
class ApiBackend:
    """What the API handlers use, filled by the composition root."""

    submit: Submit
    recorded: AnnouncingStore  # the kernel's store: tells which execution a request became
    decide: Callable[[Decision], Awaitable[Response]]
    approval: Callable[[str], Awaitable[ApprovalRecord | None]]
    history: SqlExecutionHistory
    audit: SqlAuditLog
    assets: SqlAssetRepository
    registry: ToolRegistry
    templates: SqlTemplateStore
    authenticators: Sequence[Authenticator]
    cache: Cache
    admission: Admission | None = None
    retry_after_s: float = 60.0  # the rate-limit window, told to a refused caller
    alerts: Any = None  # adapters.alerts.AlertDiagnosis when alerts are enabled
    alerts_token: str = ""  # what the alert webhooks must send as their bearer token
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)  # submits that outlive their answer


BACKEND = web.AppKey("api_backend", ApiBackend)
CALLER: ContextVar[Caller | None] = ContextVar("api_caller", default=None)  # set per request


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    roles: frozenset[str] | None = ANY_ROLE
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    public: bool = False
    content: str = "application/json"
    auth: str = "caller"  # "caller": an API or Keycloak token; "alerts": the alerts shared token


class Routes:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def route(self, method: str, path: str, **meta: Any) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method, path, handler, **meta))
            return handler

        return register

    def of(self, handler: object) -> Route | None:
        return next((r for r in self.routes if r.handler is handler), None)


API = Routes()


def backend(request: web.Request) -> ApiBackend:
    return request.app[BACKEND]


def caller(_: web.Request) -> Caller:
    found = CALLER.get()
    if found is None:
        raise ApiProblem(401, "no caller")
    return found


def json_out(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=model.model_dump_json().encode(),
        content_type="application/json",
        headers=headers,
    )


async def body_of(request: web.Request, model: type[M]) -> M:
    """The request body as `model`; 415 for another media type, 422 when it does not validate."""
    if request.content_type != "application/json":
        raise ApiProblem(415, "send the body as application/json")
    return model.model_validate_json(await request.read())


def query_of(request: web.Request, model: type[M]) -> M:
    """The query string as `model`; empty parameters (a form's blank fields) count as absent."""
    return model.model_validate({k: v for k, v in request.query.items() if v})
