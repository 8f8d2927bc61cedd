"""Requests in, executions out: submit, history, one execution in full, approve, reject, undo, cancel."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from adapters.api import schemas as s
from adapters.api.auth import Caller
from adapters.api.problems import ApiProblem, problem_response
from adapters.api.routes import API, ApiBackend, backend, body_of, caller, json_out, query_of
from db.execution_history import ExecutionRow, HistoryFilter
from pipeline.contracts import ApprovalPrompt, Decision, InboundMessage, Reply, Response, ToolCall, new_id
from pipeline.nlu.messages import structured


@API.route(
    "POST",
    "/requests",
    summary="Submit a request (plain text or a typed plan); 202 while it waits for approval or runs",
    tag="requests",
    roles=None,
    body=s.SubmitRequest,
    response=s.Submitted,
)
async def submit_request(request: web.Request) -> web.Response:
    body = await body_of(request, s.SubmitRequest)
    api, who = backend(request), caller(request)
    text = body.text if body.text is not None else _structured(api, body.steps or [])
    message = InboundMessage(
        identity=who.identity, text=text, channel=f"token:{who.token_id}", message_id=new_id()
    )
    recorded = api.recorded.expect(message.message_id)
    try:
        task = _keep(api, asyncio.ensure_future(api.submit(message)))
        response = await _within(task, body.wait_s)
        if response is None:
            either: set[asyncio.Future[Any]] = {task, recorded}
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            if not task.done():
                return _running(request, recorded.result())
            response = task.result()
    finally:
        api.recorded.forget(message.message_id)
        recorded.cancel()
    return _answer(request, response)


def _structured(api: ApiBackend, steps: list[s.TypedStep]) -> str:
    """The typed plan in the structured chat form, which the grammar plans exactly."""
    for step in steps:
        if step.tool not in api.registry:
            raise ApiProblem(422, f"unknown tool {step.tool!r}; GET /api/v1/tools lists them")
    calls = [ToolCall(tool=st.tool, args=dict(st.args), targets=tuple(st.targets)) for st in steps]
    return " then ".join(structured(call) for call in calls)


def _keep(api: ApiBackend, task: asyncio.Future[Response]) -> asyncio.Future[Response]:
    api.tasks.add(task)  # type: ignore[arg-type]
    task.add_done_callback(api.tasks.discard)
    return task


async def _within(task: asyncio.Future[Response], wait_s: float) -> Response | None:
    done, _ = await asyncio.wait({task}, timeout=wait_s)
    return task.result() if done else None


def _running(request: web.Request, execution_id: str) -> web.Response:
    out = s.Submitted(outcome="running", summary="Running.", execution_id=execution_id)
    return json_out(out, 202, {"Location": _location(execution_id)})


def _location(execution_id: str) -> str:
    return f"/api/v1/executions/{execution_id}"


def _answer(request: web.Request, response: Response) -> web.Response:
    try:
        status, out = _submitted(response)
    except ApiProblem as err:
        return problem_response(err.status, err.detail, instance=request.path, **err.extra)
    headers = {"Location": _location(out.execution_id)} if status == 202 and out.execution_id else None
    return json_out(out, status, headers)


def _submitted(response: Response) -> tuple[int, s.Submitted]:
    """The kernel's answer as the API tells it: 202 awaiting approval, 200 an answer; ApiProblem
    403 for a refusal by policy, 409 for one because of the state of what it acts on (an undo of
    a change already undone or changed since), 503 when a dependency failed before anything was
    recorded."""
    if isinstance(response, ApprovalPrompt):
        out = s.Submitted(
            outcome="awaiting_approval",
            summary=response.summary,
            execution_id=response.execution_id,
            digest=response.digest,
            four_eyes=response.four_eyes,
            expires_at=response.expires_at,
        )
        return 202, out
    if response.outcome == "refused":
        raise _refusal(response)
    if response.outcome == "error" and response.execution_id is None:
        raise ApiProblem(503, response.summary)
    return 200, _reply(response)


def _refusal(reply: Reply, execution_id: str | None = None) -> ApiProblem:
    """409 when the state of what is acted on refuses it (`Reply.conflict`), else 403."""
    return ApiProblem(
        409 if reply.conflict else 403, reply.summary, execution_id=reply.execution_id or execution_id
    )


def _reply(reply: Reply) -> s.Submitted:
    outcome: Any = reply.outcome
    return s.Submitted(
        outcome=outcome,
        summary=reply.summary,
        execution_id=reply.execution_id,
        sections=[
            s.Section(title=x.title, status=x.status, facts=list(x.facts), text=x.text)
            for x in reply.sections
        ],
        recommendations=list(reply.recommendations),
        suggestions=list(reply.suggestions),
    )


# --------------------------------------------------------------------------- history


@API.route(
    "GET",
    "/executions",
    summary="Executions, newest first (filters: person, tool, target, state, time)",
    tag="executions",
    query=s.ExecutionQuery,
    response=s.ExecutionPage,
)
async def list_executions(request: web.Request) -> web.Response:
    q = query_of(request, s.ExecutionQuery)
    items = [s.ExecutionSummary.model_validate(r) for r in await history(backend(request), q)]
    return json_out(s.ExecutionPage(items=items, limit=q.limit, offset=q.offset))


async def history(api: ApiBackend, q: s.ExecutionQuery) -> list[ExecutionRow]:
    """The executions `q` asks for, newest first (the API's list and the console's history page)."""
    where = HistoryFilter(q.person, q.tool, q.target, q.state, q.since, q.until)
    return await api.history.search(where, limit=q.limit, offset=q.offset)


@API.route(
    "GET",
    "/executions/{execution_id}",
    summary="One execution: its steps with per-target outputs, its approval and its audit records",
    tag="executions",
    response=s.ExecutionDetail,
)
async def get_execution(request: web.Request) -> web.Response:
    return json_out(await execution_detail(backend(request), request.match_info["execution_id"]))


async def execution_detail(api: ApiBackend, execution_id: str) -> s.ExecutionDetail:
    """One execution with its steps' outputs, its approval and its audit records (404 when unknown)."""
    row = await _row(api, execution_id)
    record = await api.approval(row.id)
    audit = await api.audit.entries(row.id, limit=1000)
    return s.ExecutionDetail(
        **s.ExecutionSummary.model_validate(row).model_dump(),
        message=str(row.plan.get("message", "")),
        steps=[_step(st) for st in row.steps],
        approval=s.ApprovalState(**record.model_dump()) if record else None,
        audit=[s.AuditRecordOut.model_validate(e) for e in audit],
    )


async def _row(api: ApiBackend, execution_id: str) -> ExecutionRow:
    row = await api.history.get(execution_id)
    if row is None:
        raise ApiProblem(404, f"no execution {execution_id}")
    return row


def _step(step: Any) -> s.StepDetail:
    results = (step.result or {}).get("results", [])
    return s.StepDetail(
        step_id=step.step_id,
        tool=step.tool,
        args=step.args,
        targets=step.targets,
        risk=step.risk,
        status=step.status,
        started_at=step.started_at,
        finished_at=step.finished_at,
        results=[_outcome(r) for r in results],
    )


def _outcome(raw: dict[str, Any]) -> s.TargetOutcome:
    output = raw.get("output") or {}
    return s.TargetOutcome(
        target=raw.get("target", ""),
        status=raw.get("status", ""),
        duration_ms=raw.get("duration_ms", 0.0),
        summary=output.get("summary", ""),
        stdout=output.get("stdout", ""),
        stderr=output.get("stderr", ""),
        exit_code=output.get("exit_code"),
        error=raw.get("error", ""),
        data=output.get("data") or {},
    )


# --------------------------------------------------------------------------- decisions


@API.route(
    "POST",
    "/executions/{execution_id}/approve",
    summary="Approve a pending plan (same rules as the chat buttons: roles, four eyes, expiry, digest)",
    tag="approvals",
    roles=None,
    body=s.DecisionRequest,
    response=s.Decided,
)
async def approve_execution(request: web.Request) -> web.Response:
    return await _decide(request, approve=True)


@API.route(
    "POST",
    "/executions/{execution_id}/reject",
    summary="Reject a pending plan (the requester may also withdraw their own)",
    tag="approvals",
    roles=None,
    body=s.DecisionRequest,
    response=s.Decided,
)
async def reject_execution(request: web.Request) -> web.Response:
    return await _decide(request, approve=False)


async def _decide(request: web.Request, *, approve: bool) -> web.Response:
    body = await body_of(request, s.DecisionRequest)
    execution_id = request.match_info["execution_id"]
    status, out = await decide(backend(request), caller(request), execution_id, approve, body.digest)
    headers = {"Location": _location(execution_id)} if status == 202 else None
    return json_out(out, status, headers)


async def decide(
    api: ApiBackend, who: Caller, execution_id: str, approve: bool, digest: str, wait_s: float = 10.0
) -> tuple[int, s.Decided]:
    """Approve or reject as `who`, with the buttons' rules; ApiProblem when it does not take effect.

    (200, decided) when done within `wait_s`, (202, running) when an approved plan still runs.
    """
    record = await api.approval(execution_id)
    if record is None:
        await _row(api, execution_id)  # 404 when there is no such execution
        raise ApiProblem(409, "this execution has no approval to decide")
    if record.state != "pending":
        raise ApiProblem(
            409, f"already {record.state}" + (f" by {record.decided_by}" if record.decided_by else "")
        )
    if approve and digest != record.digest:
        raise ApiProblem(
            409,
            "the digest does not name the plan awaiting approval: read it again "
            f"(GET {_location(execution_id)}) and approve what it shows",
        )
    decision = Decision(
        execution_id=execution_id, approve=approve, identity=who.identity, digest=digest, any_workspace=True
    )
    task = _keep(api, asyncio.ensure_future(api.decide(decision)))
    response = await _within(task, wait_s)
    if response is None:
        summary = "Approved; running."
        return 202, s.Decided(outcome="running", summary=summary, execution_id=execution_id, state="approved")
    if isinstance(response, ApprovalPrompt):  # a decision never asks again; answer what is stored
        response = Reply(outcome="approval_result", summary=response.summary, execution_id=execution_id)
    if response.outcome == "refused":
        raise _refusal(response, execution_id)
    latest = await api.approval(execution_id)
    state = latest.state if latest else "unknown"
    if response.outcome == "error" and state == "pending":
        raise ApiProblem(503, response.summary)
    return 200, s.Decided(
        outcome=response.outcome, summary=response.summary, execution_id=execution_id, state=state
    )


@API.route(
    "POST",
    "/executions/{execution_id}/undo",
    summary="Undo a finished change (the Undo button's rules: undo window, policy, approval, audit); "
    "202 with the undo plan awaiting approval",
    tag="approvals",
    roles=None,
    response=s.Submitted,
)
async def undo_execution(request: web.Request) -> web.Response:
    status, out = await undo(backend(request), caller(request), request.match_info["execution_id"])
    headers = {"Location": _location(out.execution_id)} if status == 202 and out.execution_id else None
    return json_out(out, status, headers)


async def undo(
    api: ApiBackend, who: Caller, execution_id: str, wait_s: float = 10.0
) -> tuple[int, s.Submitted]:
    """Plan the inverse of a finished change as `who`'s own request, like the Undo button; it is
    an execution of its own that names the one it undoes and waits for its approval."""
    await _row(api, execution_id)  # 404 when there is no such execution
    decision = Decision(
        execution_id=execution_id, approve=True, action="undo", identity=who.identity, any_workspace=True
    )
    task = _keep(api, asyncio.ensure_future(api.decide(decision)))
    response = await _within(task, wait_s)
    if response is None:
        return 202, s.Submitted(outcome="running", summary="Undoing.")
    return _submitted(response)


@API.route(
    "POST",
    "/executions/{execution_id}/cancel",
    summary="Cancel a running execution (the Cancel button's rules: its requester or an approver); "
    "202 while its running commands are stopped on their targets and later steps are skipped",
    tag="approvals",
    roles=None,
    response=s.Decided,
)
async def cancel_execution(request: web.Request) -> web.Response:
    execution_id = request.match_info["execution_id"]
    out = await cancel(backend(request), caller(request), execution_id)
    return json_out(out, 202, {"Location": _location(execution_id)})


async def cancel(api: ApiBackend, who: Caller, execution_id: str) -> s.Decided:
    """Ask, as `who`, to cancel a running execution; ApiProblem when it is refused or not running."""
    await _row(api, execution_id)  # 404 when there is no such execution
    decision = Decision(
        execution_id=execution_id, approve=False, action="cancel", identity=who.identity, any_workspace=True
    )
    response = await api.decide(decision)
    if isinstance(response, Reply) and response.outcome == "refused":
        raise ApiProblem(403, response.summary, execution_id=execution_id)
    if not isinstance(response, Reply) or response.outcome != "answer":
        raise ApiProblem(409, response.summary, execution_id=execution_id)
    summary = response.summary
    return s.Decided(outcome="cancelling", summary=summary, execution_id=execution_id, state="running")
