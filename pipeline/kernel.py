"""The pipeline's front door: a message in, a Reply or an ApprovalPrompt out.

    submit(message)  -> rate limit (channel) -> identity -> rate limit (person)
                        -> plan (A-C) -> policy -> change freezes (or an admin's override, audited)
                        -> impact (changes: what they reach) -> persist
                        -> ApprovalPrompt (write/critical, bound to the plan's digest)
                           or execute (E) -> answer (D)
    decide(click)    -> approver identity + tenant -> plan digest (stored plan = shown plan)
                        -> policy (four eyes) -> atomic decision -> execute -> answer
                        "Check first": the pending plan as a check, run now, approval left open
                        "Undo": within the window, the finished change's inverse as a new plan
                           -> policy -> freezes -> impact -> persist -> ApprovalPrompt
    resume_stalled() -> executions whose driver lease lapsed (their replica died mid-plan)
                        -> take over (one replica each) -> execute the rest -> answer

While it runs an execution, the kernel holds a driver lease on it in the store and renews
it every `driver_lease_s / 3` seconds; a lease that lapses marks the run as abandoned. A
driver whose renewal is refused (it was paused past its lease and another replica took the
execution over) cancels its run, writes nothing more for it, audits execution.lease_lost
and tells the requester the execution goes on elsewhere.

An approval is bound to `plan_digest` of the plan its prompt showed (stored with the
approval, shown in short form, carried back by the buttons where the platform allows): an
approval is refused when the stored plan's digest differs (an edit in the database after the
prompt) or when the click came from a prompt for another plan, and a run is refused when the
plan about to run is not the approved one (checked again in `_execute`, which resumed runs pass
through too; workers compare the digest the driver sent them). Each refusal is audited.

Identity resolution and planning (understanding included, LLM calls included) each run under
a time limit (`KernelConfig`); an overrun is answered through the error tree, nothing runs.
Every admitted request is recorded (execution row + audit records), whatever its outcome.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar, cast

from pydantic import BaseModel

from pipeline import messages
from pipeline.admission import Admission
from pipeline.approvals import binding_problem, digests
from pipeline.cancel import CancelRequest, watch_store
from pipeline.checks import as_check, is_check
from pipeline.contracts import (
    ApprovalPrompt,
    ChatIdentity,
    ClosedApproval,
    Decision,
    ExecutionResult,
    ExecutionStatus,
    FreezeOverride,
    InboundMessage,
    Plan,
    Principal,
    Reply,
    Response,
    new_id,
    utcnow,
)
from pipeline.errors import (
    ApprovalClosed,
    DependencyError,
    IdentityUnavailable,
    OpsError,
    RateLimited,
    StageTimeout,
    UserError,
)
from pipeline.freezes import split_override
from pipeline.history import HistoryDoor
from pipeline.impact import assess
from pipeline.policy import Policy
from pipeline.ports import (
    AttachedFiles,
    AuditLog,
    ExecutionStore,
    IdentityResolver,
    ImpactFacts,
    PendingApproval,
    Planner,
    ProgressCallback,
)
from pipeline.previews import previews
from pipeline.readiness import unready
from pipeline.redaction import Redactor
from pipeline.schedule_phrasing import read_schedule
from pipeline.schedules import Destination, ScheduleDoor
from pipeline.stages.answer import (
    ResultSummarizer,
    describe_plan,
    plan_reply,
    result_reply,
    summarised,
    understood_by,
)
from pipeline.stages.execute import Executor
from pipeline.undo import changed_since, offer, undo_steps

log = logging.getLogger(__name__)
_R = TypeVar("_R", bound=BaseModel)


@dataclass(frozen=True)
class KernelConfig:
    approval_ttl_s: float = 900.0
    max_message_chars: int = 10_000
    driver_lease_s: float = 60.0  # a running execution whose driver missed renewing this long is resumed
    cancel_poll_s: float = 1.0  # how often the driver of a run looks for a cancel request
    identity_timeout_s: float = 15.0  # resolving who someone is (roles file, Keycloak)
    plan_timeout_s: float = 60.0  # understanding and planning (stages A-C), LLM calls included
    undo_ttl_s: float = 1800.0  # a finished change may be undone this long (its Undo button)
    summary_timeout_s: float = 45.0  # the optional LLM summary of results; then the templated answer


def default_driver_id() -> str:
    """This process, uniquely: host, pid and a random suffix (pids repeat across restarts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def chat_of(message: InboundMessage) -> str:
    ident = message.identity
    return ":".join(p for p in (ident.platform, ident.tenant, message.channel, message.thread) if p)


class Kernel:
    """Wires stages A-E, policy, persistence and audit; adapters call `submit` and `decide`."""

    def __init__(
        self,
        *,
        planner: Planner,
        policy: Policy,
        identity: IdentityResolver,
        store: ExecutionStore,
        audit: AuditLog,
        executor: Executor,
        config: KernelConfig = KernelConfig(),
        clock: Callable[[], datetime] = utcnow,
        driver: str | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        admission: Admission | None = None,
        impact: ImpactFacts | None = None,
        schedules: ScheduleDoor | None = None,
        history: HistoryDoor | None = None,
        redactor: Redactor | None = None,
        files: AttachedFiles | None = None,
        summarizer: ResultSummarizer | None = None,
    ) -> None:
        self.planner = planner
        self.policy = policy
        self.identity = identity
        self.store = store
        self.audit = audit
        self.executor = executor
        self.config = config
        self.clock = clock
        self.driver = driver or default_driver_id()
        self.sleep = sleep  # between lease renewals
        self.admission = admission  # rate limits per channel and person; None: unlimited
        self.impact = impact  # dependants, locks, recent changes; None: targets alone
        self.schedules = schedules  # "every 5 minutes ping ...": None, schedules are not offered
        self.history = history  # "how has latency to db-01 changed?": None, the past is not asked
        self.redactor = redactor  # masks every response before it leaves (chat, --json, prompts)
        self.files = files  # fetched files kept elsewhere, copied here to be attached; None: as given
        self.summarizer = summarizer  # an LLM summary over results; None: the templated answer alone

    # ------------------------------------------------------------------ requests

    async def submit(
        self, message: InboundMessage, progress: ProgressCallback | None = None, *, admitted: bool = False
    ) -> Response:
        """Handle one chat message; never raises for user or dependency problems.

        What comes back is masked (`shown`): a secret in a command reaches the target, never
        the chat, the approval prompt or `--json`. `admitted`: the door already counted this
        request against its rate limits (the HTTP API admits per token and person before it
        calls), so it is not counted twice.
        """
        return self.shown(await self._submit(message, progress, admitted))

    def shown(self, response: _R) -> _R:
        """`response` as it may leave the kernel: every text and argument redacted."""
        if self.redactor is None:
            return response
        return type(response).model_validate(self.redactor.redact(response.model_dump(mode="json")))

    async def _submit(
        self, message: InboundMessage, progress: ProgressCallback | None, admitted: bool = False
    ) -> Response:
        text = message.text.strip()
        if not text:
            return Reply(outcome="no_action", summary=messages.EMPTY)
        if len(text) > self.config.max_message_chars:
            return Reply(
                outcome="error",
                summary=messages.TOO_LONG.format(length=len(text), limit=self.config.max_message_chars),
            )
        try:
            if not admitted:
                await self._admit(channel=channel_of(message))
            principal = await self._resolve(message.identity)
            if principal is None:
                await self._audit("request.unknown_person", message.identity.user_id, message)
                return Reply(outcome="refused", summary=messages.UNKNOWN_PERSON)
            if not admitted:
                await self._admit(person=principal.subject)
            return await self._handle(message.model_copy(update={"text": text}), principal, progress)
        except OpsError as err:
            return self._error_reply(err)

    async def _handle(
        self, message: InboundMessage, principal: Principal, progress: ProgressCallback | None
    ) -> Response:
        await self._audit("request", principal.subject, message, {"text": message.text})
        managed = await self.schedules.manage(message, principal) if self.schedules is not None else None
        if managed is not None:  # "pause the disk check schedule": about schedules, nothing to plan
            return managed
        asked = read_schedule(message.text) if self.schedules is not None else None
        if asked is not None and self.schedules is not None:
            where = Destination(platform=message.identity.platform, channel=asked.channel or message.channel)
            request = message.model_copy(update={"text": asked.text})
            _schedule, reply = await self.schedules.create(request, asked.cadence, where, asked.notify)
            return reply
        answered = await self.history.answer(message, principal) if self.history is not None else None
        if answered is not None:
            return await self._answered(answered, message, principal)
        override, text = split_override(message.text)
        planned = await self._plan(text, principal, chat_of(message))
        if message.check:
            planned = as_check(planned, self.executor.registry)
        plan = self._freeze(self.policy.apply(planned, principal), principal, override, text)
        plan = self._ready(plan)
        if plan.requires_approval:
            plan = await self._assess(plan, principal)
        return await self._record_and_answer(plan, principal, message, progress)

    def _ready(self, plan: Plan) -> Plan:
        """The plan turned into a clarification when this bot's setup cannot run a step (e.g. a
        notification channel nobody configured): said now, not after someone approved it."""
        executor = self.executor
        problems = unready(plan, executor.registry, executor.services) if plan.outcome == "plan" else []
        if not problems:
            return plan
        why = messages.NOT_READY.format(problems="; ".join(problems))
        return plan.model_copy(update={"outcome": "clarify", "message": why, "requires_approval": False})

    async def _record_and_answer(
        self,
        plan: Plan,
        principal: Principal,
        message: InboundMessage,
        progress: ProgressCallback | None,
        extra: dict[str, object] | None = None,
    ) -> Response:
        """Persist the policy-applied plan, audit it, then ask for approval or run it."""
        status = {"plan": "running", "refused": "refused"}.get(plan.outcome, "answered")
        if plan.requires_approval:
            status = "awaiting_approval"
        approval = self._pending_approval(plan, principal) if plan.requires_approval else None
        execution_id = await self.store.create(plan, message, principal, status, approval)  # type: ignore[arg-type]
        await self._audit(
            "plan",
            principal.subject,
            message,
            {
                "outcome": plan.outcome,
                "steps": describe_plan(plan),
                "message": plan.message,
                **understood_by(plan),
                **(extra or {}),
            },
            execution_id,
        )
        if plan.freeze_override is not None:
            await self._audit(
                "freeze.override", principal.subject, message, plan.freeze_override.model_dump(), execution_id
            )
        if plan.outcome != "plan":
            return plan_reply(plan).model_copy(update={"execution_id": execution_id})
        if approval is not None:
            return await self._ask_approval(execution_id, plan, principal, approval, message)
        return await self._execute(execution_id, plan, principal, message, progress)

    def _freeze(self, plan: Plan, principal: Principal, override: str, request: str) -> Plan:
        """The plan refused when a change freeze covers its targets, unless overridden with a
        reason by someone policy lets override (then the override travels with the plan)."""
        hits = self.policy.freeze_hits(plan, self.clock()) if plan.outcome == "plan" else []
        if not hits:
            return plan
        named = "; ".join(hit.describe() for hit in hits)
        if not override:
            why = messages.FREEZE_REFUSED.format(windows=named, request=request)
        elif not self.policy.may_override_freeze(principal):
            roles = ", ".join(self.policy.data.freezes.override) or "nobody"
            why = messages.FREEZE_NOT_YOURS.format(windows=named, roles=roles)
        else:
            windows = tuple(hit.window.name for hit in hits)
            done = FreezeOverride(by=principal.subject, reason=override, windows=windows, described=named)
            return plan.model_copy(update={"freeze_override": done})
        return plan.model_copy(update={"outcome": "refused", "message": why, "requires_approval": False})

    def _frozen_now(self, plan: Plan) -> str | None:
        """Before a run: the freeze windows open now that the plan's override does not cover."""
        allowed = set(plan.freeze_override.windows) if plan.freeze_override else set()
        hits = [h for h in self.policy.freeze_hits(plan, self.clock()) if h.window.name not in allowed]
        return "; ".join(hit.describe() for hit in hits) or None

    async def _assess(self, plan: Plan, principal: Principal) -> Plan:
        """The plan with its impact; four eyes when the policy's impact rules ask for it."""
        impact = await assess(plan, principal, self.policy, self.impact, self.clock())
        impact = impact.model_copy(update={"previews": await previews(plan, principal, self.executor)})
        return plan.model_copy(
            update={"impact": impact, "four_eyes": plan.four_eyes or bool(impact.four_eyes)}
        )

    async def _answered(self, reply: Reply, message: InboundMessage, principal: Principal) -> Reply:
        """A question answered from the record: recorded and audited like any request."""
        plan = Plan(outcome="no_action", message=reply.summary[:2000])
        execution_id = await self.store.create(plan, message, principal, "answered")
        detail: dict[str, object] = {"outcome": reply.outcome, "files": len(reply.files)}
        await self._audit("history.answer", principal.subject, message, detail, execution_id)
        return reply.model_copy(update={"execution_id": execution_id})

    def _pending_approval(self, plan: Plan, principal: Principal) -> PendingApproval:
        expires = self.clock() + timedelta(seconds=self.config.approval_ttl_s)
        return PendingApproval(
            requester=principal.subject, four_eyes=plan.four_eyes, expires_at=expires, digest=plan.digest()
        )

    async def _ask_approval(
        self,
        execution_id: str,
        plan: Plan,
        principal: Principal,
        approval: PendingApproval,
        message: InboundMessage,
    ) -> ApprovalPrompt:
        """The prompt for an execution created with its approval already open."""
        expires, digest = approval.expires_at, approval.digest
        why = "a second person must approve" if plan.four_eyes else "someone with the approver role"
        await self._audit(
            "approval.requested",
            principal.subject,
            message,
            {
                "four_eyes": plan.four_eyes,
                "plan_digest": digest,
                "impact": plan.impact.risk if plan.impact else "",
                "four_eyes_because": list(plan.impact.four_eyes) if plan.impact else [],
            },
            execution_id,
        )
        return ApprovalPrompt(
            execution_id=execution_id,
            plan=plan,
            requester=principal.subject,
            requester_name=principal.display_name or principal.subject,
            risk=plan.risk,
            four_eyes=plan.four_eyes,
            expires_at=expires,
            summary=messages.APPROVAL_NEEDED.format(why=why),
            digest=digest,
        )

    async def _execute(
        self,
        execution_id: str,
        plan: Plan,
        principal: Principal,
        message: InboundMessage,
        progress: ProgressCallback | None,
        *,
        resumed: bool = False,
    ) -> Reply:
        if not await self._renew_lease(execution_id):
            return Reply(outcome="error", summary=messages.DRIVEN_ELSEWHERE, execution_id=execution_id)
        refusal = await self._unapproved(execution_id, plan, message)
        if refusal is not None:
            return refusal
        frozen = self._frozen_now(plan)
        if frozen is not None:
            await self._audit("execution.refused", "system", message, {"freeze": frozen}, execution_id)
            await self.store.set_status(execution_id, "refused")
            summary = messages.FREEZE_OPENED.format(windows=frozen)
            return Reply(outcome="refused", summary=summary, execution_id=execution_id)
        result = await self._run_leased(execution_id, plan, principal, progress, resumed)
        if result is None:  # another replica took over: it records the run and answers
            await self._audit(
                "execution.lease_lost", "system", message, {"driver": self.driver}, execution_id
            )
            return Reply(outcome="error", summary=messages.LEASE_LOST, execution_id=execution_id)
        for step in result.steps:
            await self._audit(
                "step.result",
                principal.subject,
                message,
                {
                    "step": step.step_id,
                    "tool": step.tool,
                    "results": {r.target or "-": r.status.value for r in step.results},
                },
                execution_id,
            )
        if result.timed_out:
            limit: dict[str, object] = {"limit_s": self.executor.max_duration_s}
            await self._audit("execution.timed_out", principal.subject, message, limit, execution_id)
        await self._audit(
            "execution.finished", principal.subject, message, {"status": result.status}, execution_id
        )
        reply = result_reply(plan, result)
        if self.summarizer is not None:  # it reads results as the person would: masked
            reply = await summarised(
                self.shown(reply), message.text, self.summarizer, self.config.summary_timeout_s
            )
        if is_check(plan):
            reply = reply.model_copy(update={"summary": messages.CHECK_DONE.format(summary=reply.summary)})
        if plan.undo_of:
            summary = messages.UNDO_OF.format(execution_id=plan.undo_of, summary=reply.summary)
            reply = reply.model_copy(update={"summary": summary})
        if result.cancelled_by:
            await self._audit(
                "execution.cancelled", result.cancelled_by, message, {"status": result.status}, execution_id
            )
            note = messages.RUN_CANCELLED.format(who=result.cancelled_by)
            reply = reply.model_copy(update={"summary": f"{note} {reply.summary}"})
        if result.timed_out:
            note = messages.RUN_TIMED_OUT.format(limit=f"{self.executor.max_duration_s or 0:g}")
            reply = reply.model_copy(update={"summary": f"{note} {reply.summary}"})
        until = (result.finished_at or self.clock()) + timedelta(seconds=self.config.undo_ttl_s)
        undo = offer(plan, result, self.executor.registry, until)
        return reply.model_copy(update={"undo": undo, "files": await self._local_files(reply.files)})

    async def _local_files(self, refs: tuple[str, ...]) -> tuple[str, ...]:
        """The run's files as paths here (a worker kept them in the shared store); a file that
        cannot be had is left out, and the reply still says what was fetched."""
        if self.files is None:
            return refs
        paths: list[str] = []
        for ref in refs:
            try:
                path = await self.files.local(ref)
            except OpsError:
                log.warning("could not copy the attached file %s here", ref, exc_info=True)
                continue
            if path:
                paths.append(path)
        return tuple(paths)

    # ------------------------------------------------------------------ schedules

    async def plan_request(self, message: InboundMessage) -> tuple[Principal | None, Plan]:
        """Stages A-C and policy for a request that is not run now (a schedule being created)."""
        principal = await self._resolve(message.identity, fresh=True)
        if principal is None:
            return None, Plan(outcome="refused", message=messages.UNKNOWN_PERSON)
        planned = await self._plan(message.text, principal, chat_of(message))
        plan = self.policy.apply(planned, principal)
        return principal, await self._assess(plan, principal) if plan.requires_approval else plan

    async def run_scheduled(self, plan: Plan, message: InboundMessage, schedule_id: str) -> Reply:
        """One tick of a schedule: an ordinary, leased, audited execution of its stored plan.

        The owner is resolved afresh and the policy applied again (roles may have changed since
        the schedule was made); the approval a change needed was given when it was created.
        """
        try:
            principal = await self._resolve(message.identity, fresh=True)
            if principal is None:
                await self._audit(
                    "schedule.refused", message.identity.user_id, message, {"schedule": schedule_id}
                )
                return Reply(outcome="refused", summary=messages.UNKNOWN_PERSON)
            checked = self.policy.apply(plan, principal)
            status: ExecutionStatus = "running" if checked.outcome == "plan" else "refused"
            execution_id = await self.store.create(checked, message, principal, status)
            detail: dict[str, object] = {
                "schedule": schedule_id,
                "outcome": checked.outcome,
                "steps": describe_plan(checked),
            }
            await self._audit("schedule.run", principal.subject, message, detail, execution_id)
            if checked.outcome != "plan":
                return plan_reply(checked).model_copy(update={"execution_id": execution_id})
            return await self._execute(execution_id, checked, principal, message, None)
        except OpsError as err:
            return self._error_reply(err)

    # ------------------------------------------------------------------ approvals

    async def decide(self, decision: Decision, progress: ProgressCallback | None = None) -> Response:
        """Apply an approve/reject click; idempotent across retries, double clicks and replicas."""
        try:
            if decision.action == "check":
                return self.shown(await self._check_first(decision, progress))
            if decision.action == "undo":
                return self.shown(await self._undo(decision))
            if decision.action == "cancel":
                return self.shown(await self._cancel(decision))
            return self.shown(await self._decide(decision, progress))
        except RateLimited as err:  # the same budgets as requests: clicks cost a fresh identity lookup
            verb = {"check": "check", "undo": "undo", "cancel": "cancel"}.get(decision.action)
            verb = verb or ("approval" if decision.approve else "rejection")
            summary = messages.DECISION_RATE_LIMITED.format(detail=err, verb=verb)
            return self.shown(Reply(outcome="error", summary=summary, execution_id=decision.execution_id))
        except OpsError as err:
            return self.shown(self._error_reply(err))

    async def _clicked(self, decision: Decision) -> tuple[Principal, Plan, InboundMessage, str] | Reply:
        """Who clicked (current roles) and the execution clicked on, from the same workspace."""
        await self._admit(channel=channel_of(decision))
        person = await self._resolve(decision.identity, fresh=True)
        if person is None:
            return Reply(outcome="refused", summary=messages.UNKNOWN_PERSON)
        await self._admit(person=person.subject)
        loaded = await self.store.load(decision.execution_id)
        if loaded is None or not _same_workspace(loaded[1], decision):
            raise ApprovalClosed(messages.APPROVAL_UNKNOWN)
        return (person, *loaded)

    async def _decide(self, decision: Decision, progress: ProgressCallback | None) -> Response:
        clicked = await self._clicked(decision)
        if isinstance(clicked, Reply):
            return clicked
        approver, plan, message, _status = clicked
        record = await self.store.approval(decision.execution_id)
        if record is None:
            raise ApprovalClosed(messages.APPROVAL_UNKNOWN)
        if record.state != "pending":
            return self._closed_reply(record.state, record.decided_by, record.decided_at, decision)
        if decision.approve:
            mismatch = binding_problem(plan, record.digest, decision.digest)
            if mismatch is not None:
                detail = digests(plan, record, decision.digest)
                await self._audit(
                    "approval.plan_mismatch", approver.subject, message, detail, decision.execution_id
                )
                return Reply(outcome="refused", summary=mismatch, execution_id=decision.execution_id)
        denial = self.policy.approval_denial(plan, approver, record.requester)
        cancels_own = not decision.approve and approver.subject == record.requester
        if denial and not cancels_own:
            await self._audit(
                "approval.denied", approver.subject, message, {"why": denial}, decision.execution_id
            )
            return Reply(
                outcome="refused", summary=f"Not permitted: {denial}.", execution_id=decision.execution_id
            )
        via = decision.identity.platform  # another door than the request's thread: the sweeper tells it
        record, won = await self.store.decide_approval(
            decision.execution_id, decision.approve, approver.subject, self.clock(), via
        )
        if not won:
            return self._closed_reply(record.state, record.decided_by, record.decided_at, decision)
        await self._audit(f"approval.{record.state}", approver.subject, message, {}, decision.execution_id)
        if record.state != "approved":
            await self.store.set_status(
                decision.execution_id, "rejected" if record.state == "rejected" else "expired"
            )
            who = approver.display_name or approver.subject
            return Reply(
                outcome="approval_result",
                summary=messages.APPROVAL_REJECTED.format(who=who),
                execution_id=decision.execution_id,
                plan=plan,
            )
        requester = await self._resolve(message.identity, fresh=True)
        if requester is None:
            return Reply(outcome="refused", summary=messages.UNKNOWN_PERSON)
        return await self._execute(decision.execution_id, plan, requester, message, progress)

    async def _check_first(self, decision: Decision, progress: ProgressCallback | None) -> Response:
        """ "Check first" on a prompt: the pending plan as a check, run now as the clicker, recorded
        as its own execution that references the prompt's; the approval stays open."""
        clicked = await self._clicked(decision)
        if isinstance(clicked, Reply):
            return clicked
        clicker, original, asked, _status = clicked
        fresh = original.model_copy(update={"request_id": new_id(), "impact": None, "freeze_override": None})
        plan = self.policy.apply(as_check(fresh, self.executor.registry), clicker)
        message = asked.model_copy(
            update={
                "identity": decision.identity,
                "text": f"check first: {asked.text}",
                "message_id": new_id(),
            }
        )
        status: ExecutionStatus = "running" if plan.outcome == "plan" else "answered"
        execution_id = await self.store.create(
            plan, message.model_copy(update={"check": True}), clicker, status
        )
        detail: dict[str, object] = {"of": decision.execution_id, "steps": describe_plan(plan)}
        await self._audit("check.requested", clicker.subject, message, detail, execution_id)
        if plan.outcome != "plan":
            return plan_reply(plan).model_copy(update={"execution_id": execution_id})
        reply = await self._execute(execution_id, plan, clicker, message, progress)
        summary = reply.summary.removeprefix(messages.CHECK_DONE.format(summary=""))
        return reply.model_copy(
            update={"summary": messages.CHECK_OF.format(execution_id=decision.execution_id, summary=summary)}
        )

    async def _cancel(self, decision: Decision) -> Reply:
        """Cancel (the progress's button, `opsconductor cancel`): by the requester or an approver,
        on a running execution. Stored, so the replica driving the run sees it at its next poll
        (`cancel_poll_s`) and stops the commands on the targets."""
        clicked = await self._clicked(decision)
        if isinstance(clicked, Reply):
            return clicked
        clicker, plan, message, status = clicked
        execution_id = decision.execution_id
        if status != "running":
            summary = messages.CANCEL_NOT_RUNNING.format(execution_id=execution_id, status=status)
            return Reply(outcome="error", summary=summary, execution_id=execution_id)
        requester = await self._resolve(message.identity)
        denial = self.policy.cancel_denial(plan, clicker, requester.subject if requester else "")
        if denial:
            await self._audit("cancel.denied", clicker.subject, message, {"why": denial}, execution_id)
            return Reply(outcome="refused", summary=f"Not permitted: {denial}.", execution_id=execution_id)
        if not await self.store.request_cancel(execution_id, clicker.subject):
            return Reply(
                outcome="error",
                summary=messages.CANCEL_ALREADY.format(execution_id=execution_id),
                execution_id=execution_id,
            )
        await self._audit("execution.cancel_requested", clicker.subject, message, {}, execution_id)
        summary = messages.CANCELLING.format(execution_id=execution_id)
        return Reply(outcome="answer", summary=summary, execution_id=execution_id)

    async def _undo(self, decision: Decision) -> Response:
        """The Undo button (or `opsconductor undo`): plan the inverse of a finished change as the
        clicker's own request, within the undo window; policy, freezes, impact and approval apply."""
        clicked = await self._clicked(decision)
        if isinstance(clicked, Reply):
            return clicked
        clicker, plan, asked, status = clicked
        original = decision.execution_id
        result = await self.store.result(original)
        if result is None:
            raise ApprovalClosed(messages.APPROVAL_UNKNOWN)
        refusal = self._undo_refusal(original, status, result) or await self._undone(original)
        if refusal is None:
            steps, none = undo_steps(plan, result, self.executor.registry)
            why = "; ".join(none) or "it changed nothing"
            summary = messages.UNDO_NOTHING.format(execution_id=original, why=why)
            refusal = None if steps else _conflict(summary, original)
        if refusal is not None:
            await self._audit("undo.refused", clicker.subject, asked, {"why": refusal.summary}, original)
            return refusal
        undo = Plan(
            steps=tuple(steps),
            undo_of=original,
            message=messages.UNDO_OF.format(execution_id=original, summary=""),
        )
        message = asked.model_copy(
            update={
                "identity": decision.identity,
                "text": f"undo {original}",
                "message_id": new_id(),
                "check": False,
            }
        )
        await self._audit("request", clicker.subject, message, {"text": message.text, "undo_of": original})
        checked = self._freeze(self.policy.apply(undo, clicker), clicker, "", message.text)
        if checked.outcome == "plan":  # permitted: has what it would put back been changed since?
            changed = await changed_since(checked.steps, clicker, self.executor)
            if changed:
                summary = messages.UNDO_CHANGED.format(execution_id=original, why="; ".join(changed))
                await self._audit("undo.refused", clicker.subject, asked, {"why": summary}, original)
                return _conflict(summary, original)
        if checked.requires_approval:
            checked = await self._assess(checked, clicker)
        return await self._record_and_answer(
            checked, clicker, message, None, {"undo_of": original, "none": none}
        )

    def _undo_refusal(self, execution_id: str, status: str, result: ExecutionResult) -> Reply | None:
        """A conflict when the change is not finished or its undo window has closed."""
        if status not in {"succeeded", "failed"}:
            summary = messages.UNDO_NOT_FINISHED.format(execution_id=execution_id, status=status)
            return _conflict(summary, execution_id)
        until = (result.finished_at or self.clock()) + timedelta(seconds=self.config.undo_ttl_s)
        if self.clock() > until:
            when = until.strftime("%Y-%m-%d %H:%M UTC")
            summary = messages.UNDO_EXPIRED.format(execution_id=execution_id, when=when)
            return _conflict(summary, execution_id)
        return None

    async def _undone(self, execution_id: str) -> Reply | None:
        """A conflict when another undo of the change is waiting, running or done."""
        found = await self.store.undone_by(execution_id)
        if found is None:
            return None
        summary = messages.UNDO_ALREADY.format(execution_id=execution_id, undo=found[0], status=found[1])
        return _conflict(summary, execution_id)

    async def expire_due(self) -> list[tuple[InboundMessage, Reply]]:
        """Expire overdue approvals; what to tell each requester (each expiry reported once)."""
        now = self.clock()
        told: list[tuple[InboundMessage, Reply]] = []
        for execution_id in await self.store.expire_approvals(now):
            loaded = await self.store.load(execution_id)
            if loaded is None:
                continue
            plan, message, _status = loaded
            await self._audit("approval.expired", "system", message, {}, execution_id)
            stamp = now.strftime("%Y-%m-%d %H:%M UTC")
            summary = messages.APPROVAL_EXPIRED.format(when=stamp)
            told.append(
                (
                    message,
                    self.shown(
                        Reply(
                            outcome="approval_result", summary=summary, execution_id=execution_id, plan=plan
                        )
                    ),
                )
            )
        return told

    # ------------------------------------------------------------------ recovery

    async def resume_stalled(self) -> list[tuple[InboundMessage, Reply]]:
        """Finish executions whose driving replica died mid-plan; what to tell each requester.

        Each stalled execution is taken over by exactly one caller (across replicas); steps
        already recorded are not run again, a step its driver left mid-way is settled by the
        executor's recovery policy.
        """
        lease_s = self.config.driver_lease_s
        told: list[tuple[InboundMessage, Reply]] = []
        for execution_id in await self.store.claim_stalled(self.clock(), self.driver, lease_s):
            try:
                resumed = await self._resume(execution_id)
            except OpsError as err:
                log.warning("could not resume execution %s: %s", execution_id, err)
                continue
            if resumed is not None:
                told.append((resumed[0], self.shown(resumed[1])))
        return told

    async def _resume(self, execution_id: str) -> tuple[InboundMessage, Reply] | None:
        loaded = await self.store.load(execution_id)
        if loaded is None:
            return None
        plan, message, _status = loaded
        await self._audit("execution.resumed", "system", message, {"driver": self.driver}, execution_id)
        requester = await self._resolve(message.identity, fresh=True)
        if requester is None:  # nobody to run it for any more: close it, run nothing further
            await self.store.set_status(execution_id, "failed")
            await self._audit("execution.finished", "system", message, {"status": "failed"}, execution_id)
            return message, Reply(
                outcome="refused", summary=messages.UNKNOWN_PERSON, execution_id=execution_id
            )
        reply = await self._execute(execution_id, plan, requester, message, None, resumed=True)
        if reply.summary == messages.LEASE_LOST:
            return message, reply
        return message, reply.model_copy(update={"summary": messages.RESUMED + reply.summary})

    async def _run_leased(
        self,
        execution_id: str,
        plan: Plan,
        principal: Principal,
        progress: ProgressCallback | None,
        resumed: bool,
    ) -> ExecutionResult | None:
        """Run the plan while renewing its lease; None if another driver took the lease over.

        Losing the lease cancels the run at once and sets its `lost` event, so the executor
        writes nothing more; any other cancellation keeps its writes shielded.
        """
        lost, cancel = asyncio.Event(), CancelRequest()
        run = asyncio.create_task(
            self.executor.run(
                execution_id, plan, principal, progress, resumed=resumed, lost=lost, cancel=cancel
            )
        )
        keeper = asyncio.create_task(self._keep_lease(execution_id))
        watcher = asyncio.create_task(self._watch_cancel(execution_id, cancel))
        try:
            await asyncio.wait((run, keeper), return_when=asyncio.FIRST_COMPLETED)
            if run.done():
                result = run.result()
                return result.model_copy(update={"cancelled_by": cancel.by}) if cancel.requested else result
            keeper.result()  # returns only when the lease was refused
            lost.set()
            return None
        finally:
            run.cancel()
            keeper.cancel()
            watcher.cancel()
            await asyncio.gather(run, keeper, watcher, return_exceptions=True)

    async def _watch_cancel(self, execution_id: str, cancel: CancelRequest) -> None:
        """Every `cancel_poll_s`: has someone (on any replica) asked to cancel the run?"""
        await watch_store(self.store.cancel_requested, execution_id, cancel, self.config.cancel_poll_s)

    async def _keep_lease(self, execution_id: str) -> None:
        """Renew every `driver_lease_s / 3` s; returns once another driver holds the lease."""
        while True:
            await self.sleep(self.config.driver_lease_s / 3)
            try:
                if not await self._renew_lease(execution_id):
                    log.warning(
                        "execution %s: driver lease taken over by another replica; stopping", execution_id
                    )
                    return
            except OpsError:  # store blip: the next renewal tries again well within the lease
                log.warning("execution %s: could not renew the driver lease", execution_id, exc_info=True)

    async def _unapproved(self, execution_id: str, plan: Plan, message: InboundMessage) -> Reply | None:
        """Before a run: a plan that had an approval runs only if approved and still the same plan."""
        record = await self.store.approval(execution_id)
        if record is None:
            return None  # a plan that needed no approval (the policy decided at submit)
        problem = binding_problem(plan, record.digest) if record.state == "approved" else None
        if record.state == "approved" and problem is None:
            return None
        await self._audit(
            "execution.refused",
            "system",
            message,
            {**digests(plan, record), "state": record.state},
            execution_id,
        )
        await self.store.set_status(execution_id, "failed")
        summary = problem or messages.NOT_APPROVED.format(state=record.state)
        return Reply(outcome="refused", summary=summary, execution_id=execution_id)

    async def _renew_lease(self, execution_id: str) -> bool:
        until = self.clock() + timedelta(seconds=self.config.driver_lease_s)
        return await self.store.renew_lease(execution_id, self.driver, until)

    def _closed_reply(self, state: str, who: str | None, when: datetime | None, decision: Decision) -> Reply:
        stamp = when.strftime("%Y-%m-%d %H:%M UTC") if when else "an earlier time"
        if state == "expired":
            summary = messages.APPROVAL_EXPIRED.format(when=stamp)
        else:
            summary = messages.APPROVAL_ALREADY.format(state=state, who=who or "someone", when=stamp)
        closed = cast(ClosedApproval, state) if state != "pending" else None
        return Reply(
            outcome="approval_result", summary=summary, execution_id=decision.execution_id, closed=closed
        )

    # ------------------------------------------------------------------ plumbing

    async def _admit(self, **keys: str) -> None:
        if self.admission is not None:
            await self.admission.admit(**keys)

    async def _resolve(self, identity: ChatIdentity, *, fresh: bool = False) -> Principal | None:
        limit = self.config.identity_timeout_s
        try:
            async with asyncio.timeout(limit):
                return await self.identity.resolve(identity, fresh=fresh)
        except TimeoutError:
            raise IdentityUnavailable(f"no answer within {limit:g} s") from None

    async def _plan(self, text: str, principal: Principal, conversation: str) -> Plan:
        limit = self.config.plan_timeout_s
        try:
            async with asyncio.timeout(limit):
                return await self.planner.plan(text, principal, conversation)
        except TimeoutError:
            raise StageTimeout(f"understanding your request (limit {limit:g} s)") from None

    async def _audit(
        self,
        event: str,
        actor: str,
        message: InboundMessage,
        detail: dict[str, object] | None = None,
        execution_id: str | None = None,
    ) -> None:
        await self.audit.record(
            event, actor=actor, execution_id=execution_id, chat=chat_of(message), detail=detail or {}
        )

    def _error_reply(self, err: OpsError) -> Reply:
        if not isinstance(err, UserError | DependencyError):
            log.warning("request failed: %s", err)
        return Reply(outcome="error", summary=messages.error_reply(err))


def _conflict(summary: str, execution_id: str) -> Reply:
    """A refusal because of the state of what is acted on, not of who asks (HTTP 409)."""
    return Reply(outcome="refused", summary=summary, execution_id=execution_id, conflict=True)


def channel_of(message: InboundMessage | Decision) -> str:
    """The conversation a message or click came from (its thread aside), for per-channel rate limits."""
    ident = message.identity
    return ":".join((ident.platform, ident.tenant, message.channel or f"dm:{ident.user_id}"))


def _same_workspace(message: InboundMessage, decision: Decision) -> bool:
    if decision.any_workspace:  # a door that authenticates people itself (HTTP API)
        return True
    a, b = message.identity, decision.identity
    return a.platform == b.platform and a.tenant == b.tenant
