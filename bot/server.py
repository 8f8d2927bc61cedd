"""The bot's aiohttp server: `/health`, `/metrics` and whatever the chat adapters mount.

`opsconductor serve` calls ``await serve(settings, app)`` (app: bot.app.App); the parts:

    web_app = build_serve_app(settings, app)   # health checks, metrics, enabled adapters
    await run_server(web_app, settings.server.host, settings.server.port)

or, by hand: ``build_web_app(checks={"db": ping}, registry=r, mounts=[slack_mount(adapter)])``.

Health checks are callables returning None/True when fine (raising or returning False
when not); `/health` answers 200 when all pass and 503 naming the failures otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.catalog import reload_on_sighup
from bot.metrics import Front, instrument, queue_refresher
from bot.settings import Settings, inbound_doors
from bot.sweeper import Deliver, expiry_sweeper
from pipeline.dispatch import REQUEST_ID, new_request_id
from pipeline.elsewhere import Teller
from pipeline.ports import Cache
from pipeline.redaction import Redactor

log = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[bool | None]]
Mount = Callable[[web.Application], None]
CHECK_TIMEOUT_S = 3.0
REQUEST_ID_SHAPE = re.compile(r"[A-Za-z0-9._:-]{1,64}")
MAX_BODY_BYTES = 1024 * 1024
NO_PLATFORM = (
    "no chat platform is enabled, so nobody can talk to this bot in chat: set "
    "OPSCONDUCTOR_SLACK__ENABLED=true (docs/slack/INSTALL.md) or OPSCONDUCTOR_TEAMS__ENABLED=true "
    "(docs/teams/INSTALL.md); serving only %s"
)
REGISTRY_KEY = web.AppKey("registry", CollectorRegistry)
REQUESTS_KEY = web.AppKey("requests", Counter)
Refresher = Callable[[], Awaitable[None]]
REFRESHERS_KEY = web.AppKey("refreshers", list[Refresher])


def build_web_app(
    *,
    checks: Mapping[str, HealthCheck] | None = None,
    registry: CollectorRegistry | None = None,
    mounts: Sequence[Mount] = (),
    refreshers: Sequence[Refresher] = (),
) -> web.Application:
    """The server app; `registry` is what `/metrics` exposes (a fresh one when None).

    `refreshers` run before each scrape (e.g. reading the job queue's depth).
    """
    registry = registry if registry is not None else CollectorRegistry()
    app = web.Application(middlewares=[_bind_request_id, _count_requests], client_max_size=MAX_BODY_BYTES)
    app[REGISTRY_KEY] = registry
    app[REFRESHERS_KEY] = list(refreshers)
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


class Running(Protocol):
    """What the server needs from the running app (bot.app.App)."""

    kernel: Any  # .submit / .decide
    cache: Cache
    engine: AsyncEngine
    redactor: Redactor


def build_serve_app(settings: Settings, app: Running, extra_mounts: Sequence[Mount] = ()) -> web.Application:
    """The server for `opsconductor serve`: db (and Redis) health, metrics, Slack and Teams when enabled."""
    registry = CollectorRegistry()
    checks: dict[str, HealthCheck] = {"db": _db_check(app.engine)}
    if settings.redis.url:
        checks["redis"] = _cache_check(app.cache)
    mounts = list(extra_mounts)
    for door in inbound_doors(settings):  # production refused these already (bot.settings)
        if door.problem:
            log.warning(
                "%s does not verify its callers (%s): for local testing only", door.name, door.problem
            )
    if not (settings.slack.enabled or settings.teams.enabled):
        log.warning(NO_PLATFORM, _served_without_chat(settings))
    deliverers: dict[str, Deliver] = {}
    chats: dict[str, Any] = {}  # the chat adapters, for alert threads
    metrics, front = instrument(app.kernel, registry, settings.security.approval_ttl_s)
    if settings.slack.enabled:
        mounts.append(_slack_mount(settings, app, registry, deliverers, front, chats))
    if settings.teams.enabled:
        mounts.append(_teams_mount(settings, app, registry, deliverers, front, chats))
    if settings.api.enabled and getattr(app, "sessions", None) is not None:  # bot.app.App has them
        mounts.append(_api_mount(settings, app, front, chats, deliverers))
    store = getattr(app.kernel, "store", None)  # stand-in kernels may have none
    teller = Teller(store, tuple(deliverers)) if store is not None else None  # platforms posted to here
    mounts.append(
        expiry_sweeper(
            app.kernel.expire_due,
            deliverers,
            settings.server.sweep_interval_s,
            resume_stalled=app.kernel.resume_stalled,
            decided_elsewhere=teller.due if teller is not None else None,
        )
    )
    scheduler = getattr(app.kernel, "schedules", None)  # bot.app wires one; stand-in kernels may not
    if not settings.schedules.enabled:
        scheduler = None
    audit = getattr(app.kernel, "audit", None)  # as for the scheduler: stand-in kernels may lack one
    jobs = [_retention_job(settings, app, audit)] if settings.retention.enabled and audit is not None else []
    if scheduler is not None or jobs:
        mounts.append(_schedule_mount(settings, scheduler, deliverers, jobs))
    refreshers = [queue_refresher(getattr(app, "dispatcher", None), metrics)]
    return build_web_app(checks=checks, registry=registry, mounts=mounts, refreshers=refreshers)


def _served_without_chat(settings: Settings) -> str:
    served = []
    if settings.api.enabled:
        served.append("the HTTP API (/api/v1)")
        if settings.api.console:
            served.append("the web console (/ui/)")
    return ", ".join([*served, "/health and /metrics"])


async def serve(settings: Settings, app: Running) -> None:
    tools = getattr(app, "registry", None)
    if tools is not None:
        reload_on_sighup(tools)
    await run_server(build_serve_app(settings, app), settings.server.host, settings.server.port)


def _schedule_mount(
    settings: Settings, scheduler: Any, deliverers: dict[str, Deliver], jobs: list[Any]
) -> Mount:
    from bot.scheduling import TickLoop, tick_loop_mount

    section = settings.schedules
    return tick_loop_mount(TickLoop(scheduler, deliverers, section.tick_s, section.max_running, jobs))


def _retention_job(settings: Settings, app: Running, audit: Any) -> Any:
    from bot.retention import retention_job
    from pipeline.kernel import default_driver_id

    by = getattr(app.kernel, "driver", None) or default_driver_id()
    return retention_job(settings, app.engine, audit, by)


def _slack_mount(
    settings: Settings,
    app: Running,
    registry: CollectorRegistry,
    deliverers: dict[str, Deliver],
    front: Front,
    chats: dict[str, Any],
) -> Mount:
    from adapters.slack import SlackAdapter, SlackConfig, SlackMetrics, slack_mount  # bot.extras

    adapter = SlackAdapter(
        SlackConfig.from_section(settings.slack),
        submit=front.submit,
        decide=front.decide,
        cache=app.cache,
        metrics=SlackMetrics(registry),
        redact=app.redactor.redact_text,
    )
    deliverers["slack"] = adapter.deliver
    chats["slack"] = adapter
    return slack_mount(adapter)


def _teams_mount(
    settings: Settings,
    app: Running,
    registry: CollectorRegistry,
    deliverers: dict[str, Deliver],
    front: Front,
    chats: dict[str, Any],
) -> Mount:
    from adapters.teams import TeamsAdapter, TeamsConfig, TeamsMetrics, teams_mount  # bot.extras

    adapter = TeamsAdapter(
        TeamsConfig.from_section(settings.teams),
        submit=front.submit,
        decide=front.decide,
        cache=app.cache,
        metrics=TeamsMetrics(registry),
    )
    deliverers["teams"] = adapter.deliver
    chats["teams"] = adapter
    return teams_mount(adapter)


def _api_mount(
    settings: Settings, app: Any, front: Front, chats: dict[str, Any], deliverers: dict[str, Deliver]
) -> Mount:
    """The HTTP API (adapters.api) on the same server; `app` is a bot.app.App."""
    from adapters.api import PREFIX, ApiBackend, Submit, TokenAuthenticator, build_api_app
    from adapters.api.announce import AnnouncingStore
    from adapters.api.auth import ALERTS_PLATFORM
    from db.api_tokens import SqlApiTokens
    from db.execution_history import SqlExecutionHistory
    from db.templates import SqlTemplateStore

    sessions = app.sessions
    oidc = _oidc(settings, app.cache)
    app.kernel.store = recorded = AnnouncingStore(app.kernel.store)
    alerts = _alerts(settings, app, front, chats)
    if alerts is not None:  # diagnoses resumed after a restart post their findings in their threads
        deliverers[ALERTS_PLATFORM] = alerts.deliver
    backend = ApiBackend(
        submit=Submit(front.submit),
        recorded=recorded,
        decide=front.decide,
        approval=app.kernel.store.approval,
        history=SqlExecutionHistory(sessions),
        audit=app.audit,
        assets=app.assets,
        registry=app.registry,
        templates=SqlTemplateStore(sessions),
        authenticators=[TokenAuthenticator(app.api_tokens or SqlApiTokens(sessions)), *oidc],
        cache=app.cache,
        admission=app.kernel.admission,
        retry_after_s=settings.rate_limits.window_s,
        alerts=alerts,
        alerts_token=settings.alerts.token.get_secret_value(),
    )

    def mount(web_app: web.Application) -> None:
        web_app.add_subapp(PREFIX, build_api_app(backend))
        if settings.api.console:
            from adapters.web.console import build_console

            secure = settings.security.environment == "production"
            signin = _console_signin(settings, oidc, app.cache)
            console = build_console(
                backend, secure_cookie=secure, signin=signin, public_url=settings.api.public_url
            )
            web_app.add_subapp("/ui", console)
        web_app.on_cleanup.append(close_oidc)

    async def close_oidc(_: web.Application) -> None:
        for authenticator in oidc:
            await authenticator.aclose()

    return mount


def _alerts(settings: Settings, app: Any, front: Front, chats: dict[str, Any]) -> Any:
    """Alert diagnosis when enabled, posting to the Slack and / or Teams channel configured."""
    a = settings.alerts
    if not a.enabled:
        return None
    posters = _alert_posters(settings, chats)
    if not posters:
        log.warning(
            "alerts.enabled needs alerts.channel with slack.enabled, or alerts.teams_channel and "
            "alerts.teams_service_url with teams.enabled: the alert webhooks answer 404"
        )
        return None
    from adapters.alerts import AlertConfig, AlertDiagnosis

    config = AlertConfig(
        labels=tuple(a.labels),
        runbook=a.runbook,
        runbooks=dict(a.runbooks),
        remember_s=a.remember_s,
        arguments=dict(a.arguments),
    )
    return AlertDiagnosis(front.submit, app.assets, app.registry, app.cache, posters, config)


def _alert_posters(settings: Settings, chats: dict[str, Any]) -> list[Any]:
    a, posters = settings.alerts, list[Any]()
    if "slack" in chats and a.channel:
        from adapters.slack.alerts import SlackAlertPoster

        posters.append(SlackAlertPoster(chats["slack"], a.channel))
    if "teams" in chats and a.teams_channel and a.teams_service_url:
        from adapters.teams.alerts import TeamsAlertPoster

        tenant = a.teams_tenant_id or settings.teams.app_tenant_id
        posters.append(TeamsAlertPoster(chats["teams"], a.teams_channel, a.teams_service_url, tenant))
    return posters


def _oidc(settings: Settings, cache: Cache) -> list[Any]:
    """The Keycloak access-token authenticator when a realm is configured (else API tokens only)."""
    issuer = settings.api.issuer
    if not issuer:
        return []
    from adapters.api.oidc import OidcAuthenticator, OidcConfig

    audience = settings.api.oidc_audience or settings.keycloak.client_id
    config = OidcConfig(
        issuer=issuer,
        audience=audience,
        jwks_url=settings.api.oidc_jwks_url,
        leeway_s=settings.api.oidc_leeway_s,
        remember_s=settings.security.approval_ttl_s + 3600,
    )
    return [OidcAuthenticator(config, cache)]


def _console_signin(settings: Settings, oidc: list[Any], cache: Cache) -> Any:
    """The console's Keycloak sign-in over the API's token checks (None: API tokens only)."""
    if not oidc:
        return None
    from adapters.web.oidc_client import OidcSignIn, SignInConfig

    a = settings.api
    config = SignInConfig(
        issuer=a.issuer,
        client_id=a.console_client_id or oidc[0].config.audience,
        client_secret=a.console_client_secret.get_secret_value(),
    )
    return OidcSignIn(config, oidc[0], cache)


def _db_check(engine: AsyncEngine) -> HealthCheck:
    async def check() -> bool:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    return check


def _cache_check(cache: Cache) -> HealthCheck:
    async def check() -> bool:
        await cache.get("health:ping")
        return True

    return check


@web.middleware
async def _bind_request_id(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """One id per request (a caller's X-Request-Id when sane), in logs, step jobs and the reply."""
    given = request.headers.get("X-Request-Id", "")
    request_id = given if REQUEST_ID_SHAPE.fullmatch(given) else new_request_id()
    token = REQUEST_ID.set(request_id)
    try:
        response = await handler(request)
    finally:
        REQUEST_ID.reset(token)
    response.headers["X-Request-Id"] = request_id
    return response


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
    for refresh in request.app[REFRESHERS_KEY]:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_S):
                await refresh()
        except Exception:  # a scrape still answers with what it has
            log.warning("metrics refresh failed", exc_info=True)
    body = generate_latest(request.app[REGISTRY_KEY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
