"""Stage E as the kernel drives it: an execution run under its driver lease, re-checked first
(approval binding, change freezes), its results audited and answered; stalled runs resumed.

While it runs an execution, the kernel holds a driver lease on it in the store and renews
it every `driver_lease_s / 3` seconds; a lease that lapses marks the run as abandoned. A
driver whose renewal is refused (it was paused past its lease and another replica took the
execution over) cancels its run, writes nothing more for it, audits execution.lease_lost
and tells the requester the execution goes on elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from pipeline import messages
from pipeline.approvals import binding_problem, digests
from pipeline.cancel import CancelRequest, watch_store
from pipeline.checks import is_check
from pipeline.contracts import ExecutionResult, InboundMessage, Plan, Principal, Reply
from pipeline.errors import OpsError
from pipeline.kernel.base import KernelBase
from pipeline.ports import ProgressCallback
from pipeline.stages.answer import result_reply, summarised
from pipeline.undo import offer

log = logging.getLogger(__name__)


class RunFlow(KernelBase):
    """Executions: run under a lease, refused when no longer approved or frozen, resumed."""

    def _frozen_now(self, plan: Plan) -> str | None:
        """Before a run: the freeze windows open now that the plan's override does not cover."""
        allowed = set(plan.freeze_override.windows) if plan.freeze_override else set()
        hits = [h for h in self.policy.freeze_hits(plan, self.clock()) if h.window.name not in allowed]
        return "; ".join(hit.describe() for hit in hits) or None

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
