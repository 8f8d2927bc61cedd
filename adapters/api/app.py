"""The `/api/v1` sub-application: authentication, rate limits, roles, idempotency, then the routes.

    web_app.add_subapp(PREFIX, build_api_app(backend))   # bot.server mounts it on `serve`

Middlewares, outermost first: problems (every error is problem+json), the caller (bearer
token -> `Caller`; 401 otherwise), rate limits per token and per person (429 + Retry-After)
and the route's roles (403), `Idempotency-Key` replay, then the handler.
"""

from __future__ import annotations

import hmac
import json
from importlib.metadata import version

from aiohttp import web

from adapters.alerts import routes as alert_routes  # noqa: F401  (register their routes)
from adapters.api import catalog, executions, inventory  # noqa: F401
from adapters.api.auth import Caller, InvalidToken
from adapters.api.docs import add_docs
from adapters.api.idempotency import idempotency
from adapters.api.openapi import openapi_document
from adapters.api.problems import ApiProblem, Handler, problems
from adapters.api.routes import API, BACKEND, CALLER, ApiBackend, Route, backend
from pipeline.errors import RateLimited

PREFIX = "/api/v1"
SUBMIT_PATH = "/requests"  # the kernel counts the person itself for submissions


def build_api_app(api: ApiBackend) -> web.Application:
    app = web.Application(middlewares=[problems, _authenticate, idempotency])
    app[BACKEND] = api
    for route in API.routes:
        app.router.add_route(route.method, route.path, route.handler)
    document = json.dumps(openapi_document(API.routes, prefix=PREFIX, version=version("opsconductor")))
    app.router.add_get("/openapi.json", _serve(document))
    add_docs(app, PREFIX)
    app.on_cleanup.append(_stop_tasks)
    return app


def _serve(document: str) -> Handler:
    async def openapi_json(_: web.Request) -> web.Response:
        return web.Response(text=document, content_type="application/json")

    return openapi_json


PUBLIC = {"openapi_json", "docs_page", "docs_init"}


def _route_of(request: web.Request) -> Route | None:
    return API.of(request.match_info.route.handler)


@web.middleware
async def _authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    name = getattr(request.match_info.route.handler, "__name__", "")
    if name in PUBLIC or request.path.startswith(PREFIX + "/docs/static/"):
        return await handler(request)
    api = backend(request)
    route = _route_of(request)
    if route is not None and route.auth == "alerts":
        _alerts_token(api, request.headers.get("Authorization", ""))
        return await handler(request)
    found = await _caller(api, request.headers.get("Authorization", ""))
    scopes = {"token": found.token_id}
    if route is None or route.path != SUBMIT_PATH:
        scopes["person"] = found.principal.subject
    if api.admission is not None:
        try:
            await api.admission.admit(**scopes)
        except RateLimited as err:
            raise ApiProblem(
                429, f"Over the rate limit: {err}.", headers={"Retry-After": f"{api.retry_after_s:.0f}"}
            ) from None
    if route is not None and route.roles is not None and not (found.principal.roles & route.roles):
        raise ApiProblem(403, f"needs one of the roles: {', '.join(sorted(route.roles))}")
    bound = CALLER.set(found)
    try:
        return await handler(request)
    finally:
        CALLER.reset(bound)


async def _caller(api: ApiBackend, header: str) -> Caller:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiProblem(401, "send Authorization: Bearer <token>", headers={"WWW-Authenticate": "Bearer"})
    invalid = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    for authenticator in api.authenticators:
        try:
            found = await authenticator.authenticate(token.strip())
        except InvalidToken as err:
            raise ApiProblem(401, str(err), headers=invalid) from None
        if found is not None:
            return found
    raise ApiProblem(401, "the token is unknown, expired, revoked or not valid here", headers=invalid)


def _alerts_token(api: ApiBackend, header: str) -> None:
    scheme, _, token = header.partition(" ")
    expected = api.alerts_token
    if (
        not expected
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(token.strip().encode(), expected.encode())
    ):
        raise ApiProblem(
            401,
            "send Authorization: Bearer <alerts.token>",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )


async def _stop_tasks(app: web.Application) -> None:
    for task in list(app[BACKEND].tasks):
        task.cancel()
    if app[BACKEND].alerts is not None:
        app[BACKEND].alerts.stop()
