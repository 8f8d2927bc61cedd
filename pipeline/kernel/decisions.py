"""Decisions: the clicks on a prompt or a result (approve, reject, Check first, Cancel, Undo),
each by a person resolved afresh in the same workspace, idempotent across retries, double
clicks and replicas; and the expiry of approvals nobody decided."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from pipeline import messages
from pipeline.approvals import binding_problem, digests
from pipeline.checks import as_check
from pipeline.contracts import (
    ClosedApproval,
    Decision,
    ExecutionResult,
    ExecutionStatus,
    InboundMessage,
    Plan,
    Principal,
    Reply,
    Response,
    new_id,
)
from pipeline.errors import ApprovalClosed, OpsError, RateLimited
from pipeline.kernel.base import channel_of
from pipeline.kernel.requests import RequestFlow
from pipeline.ports import ProgressCallback
from pipeline.stages.answer import describe_plan, plan_reply
from pipeline.undo import changed_since, undo_steps


class DecisionFlow(RequestFlow):
    """Clicks in: approvals decided, checks run first, runs cancelled, changes undone."""

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


def _conflict(summary: str, execution_id: str) -> Reply:
    """A refusal because of the state of what is acted on, not of who asks (HTTP 409)."""
    return Reply(outcome="refused", summary=summary, execution_id=execution_id, conflict=True)


def _same_workspace(message: InboundMessage, decision: Decision) -> bool:
    if decision.any_workspace:  # a door that authenticates people itself (HTTP API)
        return True
    a, b = message.identity, decision.identity
    return a.platform == b.platform and a.tenant == b.tenant
