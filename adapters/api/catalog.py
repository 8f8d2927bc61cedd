"""Who am I, the catalog (tools and templates) and the audit chain over HTTP."""

from __future__ import annotations

from aiohttp import web

from adapters.api import schemas as s
from adapters.api.routes import API, backend, caller, json_out, query_of


@API.route("GET", "/me", summary="The caller: subject, roles and how they signed in", tag="me", response=s.Me)
async def me(request: web.Request) -> web.Response:
    who = caller(request)
    p = who.principal
    return json_out(s.Me(subject=p.subject, display_name=p.display_name, roles=sorted(p.roles), via=who.via))


@API.route(
    "GET",
    "/tools",
    summary="The catalog's tools and runbooks with their argument schemas",
    tag="catalog",
    response=s.ToolList,
)
async def list_tools(request: web.Request) -> web.Response:
    items = [
        s.ToolOut(
            name=t.name,
            risk=t.risk.value,
            description=t.description,
            takes_targets=t.takes_targets,
            timeout_s=t.timeout_s,
            args_schema=t.json_schema(),
        )
        for t in backend(request).registry
    ]
    return json_out(s.ToolList(items=items))


@API.route(
    "GET", "/templates", summary="Message templates for notifications", tag="catalog", response=s.TemplateList
)
async def list_templates(request: web.Request) -> web.Response:
    found = await backend(request).templates.list_templates()
    items = [s.TemplateOut(name=t.name, channel=t.channel, subject=t.subject, body=t.body) for t in found]
    return json_out(s.TemplateList(items=items))


@API.route(
    "GET",
    "/audit/records",
    summary="Audit records, newest last",
    tag="audit",
    query=s.AuditQuery,
    response=s.AuditList,
)
async def audit_records(request: web.Request) -> web.Response:
    q = query_of(request, s.AuditQuery)
    entries = await backend(request).audit.entries(q.execution_id, limit=q.limit)
    return json_out(s.AuditList(items=[s.AuditRecordOut.model_validate(e) for e in entries]))


@API.route(
    "GET",
    "/audit/head",
    summary="The audit chain's head (anchor it elsewhere)",
    tag="audit",
    response=s.AuditHead,
)
async def audit_head(request: web.Request) -> web.Response:
    seq, digest = await backend(request).audit.head()
    return json_out(s.AuditHead(seq=seq, hash=digest))


@API.route(
    "GET",
    "/audit/verify",
    summary="Walk the audit chain and report where it breaks",
    tag="audit",
    response=s.AuditVerify,
)
async def audit_verify(request: web.Request) -> web.Response:
    report = await backend(request).audit.verify()
    return json_out(s.AuditVerify.model_validate(report))
