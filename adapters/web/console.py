"""The web console at `/ui/`: server-rendered pages over the same backend as the HTTP API.

    /ui/login              sign in with Keycloak or an API token (adapters.web.signin)
    /ui/                   pending approvals with the whole plan; approve / reject
    /ui/executions         history with filters
    /ui/executions/{id}    one execution: steps, per-target output, audit; live progress (SSE)
    /ui/assets, /ui/tools, /ui/audit   the inventory (search, filters), the catalog, the audit chain

Every page authenticates the cookie's token like an API call (roles, rate limits), decisions go
through `adapters.api.executions.decide` (the buttons' rules), and every POST carries a CSRF
field derived from the session.
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from adapters.api import schemas as s
from adapters.api.executions import decide, execution_detail, history, undo
from adapters.api.problems import ApiProblem
from adapters.api.routes import BACKEND, ApiBackend, query_of
from adapters.web.oidc_client import OidcSignIn
from adapters.web.pages import page
from adapters.web.signin import PUBLIC_URL, SECURE, SIGNIN, add_signin, check_csrf, csrf_of, signed_in

FINISHED = {"succeeded", "failed", "refused", "rejected", "expired", "answered"}
UNDOABLE = {"succeeded", "failed"}  # a change that ran (somewhere); the kernel checks the rest
STATES = ["awaiting_approval", "running", "succeeded", "failed", "refused", "rejected", "expired", "answered"]


def build_console(
    api: ApiBackend, *, secure_cookie: bool = False, signin: OidcSignIn | None = None, public_url: str = ""
) -> web.Application:
    """The console app (mounted at /ui); `signin` adds "Sign in with Keycloak" (adapters.web.signin)."""
    app = web.Application()
    app[BACKEND] = api
    app[SECURE] = secure_cookie
    app[PUBLIC_URL] = public_url
    if signin is not None:
        app[SIGNIN] = signin
    add_signin(app)
    app.router.add_get("/", approvals)
    app.router.add_get("/executions", executions)
    app.router.add_get("/executions/{execution_id}", execution)
    app.router.add_get("/executions/{execution_id}/events", events)
    app.router.add_post("/executions/{execution_id}/decide", decision)
    app.router.add_post("/executions/{execution_id}/undo", undo_change)
    app.router.add_get("/assets", inventory)
    app.router.add_get("/tools", catalog)
    app.router.add_get("/audit", audit)
    return app


async def approvals(request: web.Request) -> web.Response:
    who, token = await signed_in(request)
    api = request.app[BACKEND]
    pending = [await execution_detail(api, row.id) for row in await api.history.pending_approvals()]
    flash = request.query.get("flash", "")
    return page(
        "approvals.html.j2", title="Approvals", who=who, csrf=csrf_of(token), pending=pending, flash=flash
    )


async def executions(request: web.Request) -> web.Response:
    who, token = await signed_in(request)
    q = query_of(request, s.ExecutionQuery)
    rows = await history(request.app[BACKEND], q)
    return page(
        "executions.html.j2", title="History", who=who, csrf=csrf_of(token), items=rows, q=q, states=STATES
    )


async def execution(request: web.Request) -> web.Response:
    who, token = await signed_in(request)
    try:
        detail = await execution_detail(request.app[BACKEND], request.match_info["execution_id"])
    except ApiProblem as err:
        raise web.HTTPNotFound(text=err.detail) from None
    live = detail.status not in FINISHED
    flash = request.query.get("flash", "")
    undoable = detail.status in UNDOABLE and any(st.risk != "read" for st in detail.steps)
    return page(
        "execution.html.j2",
        title=detail.request[:60],
        who=who,
        csrf=csrf_of(token),
        e=detail,
        live=live,
        flash=flash,
        undoable=undoable,
    )


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the execution's state and its steps' states, until it finishes."""
    await signed_in(request)
    api, execution_id = request.app[BACKEND], request.match_info["execution_id"]
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    for _ in range(600):  # at most ten minutes per connection; the browser reconnects
        row = await api.history.get(execution_id)
        if row is None:
            break
        finished = row.status in FINISHED
        data = {
            "status": row.status,
            "steps": {st.step_id: st.status for st in row.steps},
            "finished": finished,
        }
        await response.write(f"data: {json.dumps(data)}\n\n".encode())
        if finished:
            break
        await asyncio.sleep(1.0)
    return response


async def decision(request: web.Request) -> web.Response:
    who, token = await signed_in(request)
    form = await check_csrf(request, token)
    approve = form.get("decision") == "approve"
    execution_id = request.match_info["execution_id"]
    try:
        _, out = await decide(
            request.app[BACKEND], who, execution_id, approve, str(form.get("digest", "")), 2.0
        )
        flash = out.summary
    except ApiProblem as err:
        flash = err.detail
    raise web.HTTPSeeOther(f"/ui/executions/{execution_id}?flash={_quote(flash)}")


async def undo_change(request: web.Request) -> web.Response:
    """The Undo button: the inverse of a finished change, planned as the signed-in person's own
    request (the kernel's undo window, policy and approval); to the undo's own page."""
    who, token = await signed_in(request)
    await check_csrf(request, token)
    execution_id = request.match_info["execution_id"]
    try:
        _, out = await undo(request.app[BACKEND], who, execution_id, 2.0)
    except ApiProblem as err:
        raise web.HTTPSeeOther(f"/ui/executions/{execution_id}?flash={_quote(err.detail)}") from None
    shown = out.execution_id or execution_id
    raise web.HTTPSeeOther(f"/ui/executions/{shown}?flash={_quote(out.summary)}")


async def inventory(request: web.Request) -> web.Response:
    who, token = await signed_in(request)
    everything = await request.app[BACKEND].assets.snapshot()
    q = request.query.get("q", "").strip().lower()
    environment, kind = request.query.get("environment", ""), request.query.get("type", "")
    shown = [
        a
        for a in everything
        if (not environment or a.environment == environment)
        and (not kind or a.type == kind)
        and (not q or q in " ".join([a.name, a.address, a.location, *a.services, *a.tags.values()]).lower())
    ]
    return page(
        "assets.html.j2",
        title="Inventory",
        who=who,
        csrf=csrf_of(token),
        assets=shown,
        q=q,
        environment=environment,
        type=kind,
        environments=sorted({a.environment for a in everything if a.environment}),
        types=sorted({a.type for a in everything}),
    )


async def catalog(request: web.Request) -> web.Response:
    who, token = await signed_in(request)
    tools = sorted(request.app[BACKEND].registry, key=lambda t: t.name)
    return page("tools.html.j2", title="Catalog", who=who, csrf=csrf_of(token), tools=tools)


async def audit(request: web.Request) -> web.Response:
    who, token = await signed_in(request)
    log = request.app[BACKEND].audit
    report, head, records = await log.verify(), await log.head(), await log.entries(limit=100)
    return page(
        "audit.html.j2",
        title="Audit",
        who=who,
        csrf=csrf_of(token),
        report=report,
        head=head,
        records=list(reversed(records)),
    )


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text[:300])


__all__ = ["build_console"]
