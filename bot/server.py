"""The bot's aiohttp server: `/health`, `/metrics` and whatever the chat adapters mount.

    app = build_web_app(checks={"db": db_ping, "redis": redis_ping}, registry=registry,
                        mounts=[slack_mount(adapter)])
    await run_server(app, settings.server.host, settings.server.port)

Health checks are callables returning None/True when fine (raising or returning False
when not); `/health` answers 200 when all pass and 503 naming the failures otherwise.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest

log = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[bool | None]]
Mount = Callable[[web.Application], None]
CHECK_TIMEOUT_S = 3.0
MAX_BODY_BYTES = 1024 * 1024
REGISTRY_KEY = web.AppKey("registry", CollectorRegistry)
REQUESTS_KEY = web.AppKey("requests", Counter)


def build_web_app(
    *,
    checks: Mapping[str, HealthCheck] | None = None,
    registry: CollectorRegistry | None = None,
    mounts: Sequence[Mount] = (),
) -> web.Application:
    """The server app; `registry` is what `/metrics` exposes (a fresh one when None)."""
    registry = registry if registry is not None else CollectorRegistry()
    app = web.Application(middlewares=[_count_requests], client_max_size=MAX_BODY_BYTES)
    app[REGISTRY_KEY] = registry
    app[REQUESTS_KEY] = Counter(
        "opsconductor_http_requests",
        "HTTP requests served, by route and status",
        ["route", "status"],
        registry=registry,
    )
    health = _health_handler(dict(checks or {}))
    app.add_routes([web.get("/health", health), web.get("/metrics", _metrics)])
    for mount in mounts:
        mount(app)
    return app


async def run_server(app: web.Application, host: str, port: int) -> None:
    """Serve until cancelled; cleanup hooks (adapters' stop) run on the way out."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        log.info("listening on http://%s:%s", host, port)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


@web.middleware
async def _count_requests(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    try:
        response = await handler(request)
    except web.HTTPException as err:
        request.app[REQUESTS_KEY].labels(route, str(err.status)).inc()
        raise
    request.app[REQUESTS_KEY].labels(route, str(response.status)).inc()
    return response


def _health_handler(checks: dict[str, HealthCheck]) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def health(_: web.Request) -> web.Response:
        results = dict(zip(checks, await asyncio.gather(*(_run(c) for c in checks.values())), strict=True))
        ok = all(r == "ok" for r in results.values())
        body = {"status": "ok" if ok else "unavailable", "checks": results}
        return web.json_response(body, status=200 if ok else 503)

    return health


async def _run(check: HealthCheck) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            passed = await check()
    except TimeoutError:
        return f"timeout after {CHECK_TIMEOUT_S:g} s"
    except Exception as err:
        return f"error: {type(err).__name__}"
    return "ok" if passed is not False else "failed"


async def _metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[REGISTRY_KEY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
