"""Requests: a message admitted (rate limits, identity), planned (stages A-C under a time limit),
put through policy, change freezes and impact, recorded and audited, then answered, asked for
approval or run; also the plans and ticks of schedules."""

from __future__ import annotations

from datetime import timedelta

from pipeline import messages
from pipeline.checks import as_check
from pipeline.contracts import (
    ApprovalPrompt,
    ExecutionStatus,
    FreezeOverride,
    InboundMessage,
    Plan,
    Principal,
    Reply,
    Response,
)
from pipeline.errors import OpsError
from pipeline.freezes import split_override
from pipeline.impact import assess
from pipeline.kernel.base import channel_of, chat_of
from pipeline.kernel.runs import RunFlow
from pipeline.ports import PendingApproval, ProgressCallback
from pipeline.previews import previews
from pipeline.readiness import unready
from pipeline.schedule_phrasing import read_schedule
from pipeline.schedules import Destination
from pipeline.stages.answer import describe_plan, plan_reply, understood_by


class RequestFlow(RunFlow):
    """Messages in: admitted, planned, checked and recorded, then answered, prompted or run."""

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
