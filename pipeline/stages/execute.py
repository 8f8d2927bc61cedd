"""Stage E: run a plan's steps in dependency order, fanning out per target, bounded.

The executor re-checks policy before every step (it never trusts earlier stages), claims
each step exactly once through the store (a retried or duplicated run executes nothing
twice), gives every target its own timeout so a dead host holds back nobody else, and
shields the writes that must happen (step results, status) while its driver holds the
execution's lease; once the lease is lost it writes nothing more (pipeline/lease.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pipeline import messages
from pipeline.cancel import CANCEL, CancelRequest, until_cancelled
from pipeline.contracts import (
    AssetRef,
    ExecutionResult,
    Plan,
    PlanStep,
    Principal,
    Progress,
    Risk,
    StepResult,
    TargetResult,
    TargetStatus,
    ToolOutput,
    utcnow,
)
from pipeline.dispatch import InProcessDispatcher, StepDispatcher, StepJob, TargetLocks, current_request_id
from pipeline.errors import (
    NotPermitted,
    OutcomeUncertain,
    TargetUnreachable,
    ToolError,
    ToolFailed,
    ToolTimeout,
)
from pipeline.lease import LEASE_LOST, must_write
from pipeline.leftovers import tracking_unconfirmed_stops
from pipeline.policy import Policy
from pipeline.ports import ExecutionStore, ProgressCallback
from pipeline.recovery import StepRecovery, settle_lost_step
from pipeline.registry import ToolContext, ToolFunc, ToolRegistry, ToolSpec
from pipeline.stages.streaming import OutputFeed

log = logging.getLogger(__name__)

Redact = Callable[[str], str]
GRACE_S = 5.0  # beyond a tool's own timeout, before the executor gives up on it (covers the kill)
LOCK_MARGIN_S = 60.0  # a lock outlives its step's timeout by this much, then lapses on its own
LOCK_POLL_S = 0.5

_STATUS_BY_ERROR: tuple[tuple[type[ToolError], TargetStatus], ...] = (
    (OutcomeUncertain, TargetStatus.UNCERTAIN),
    (TargetUnreachable, TargetStatus.UNREACHABLE),
    (ToolTimeout, TargetStatus.TIMEOUT),
    (ToolFailed, TargetStatus.FAILED),
)


def _no_redaction(text: str) -> str:
    return text


class Executor:
    """Runs plans. One instance serves the whole app; it holds no per-run state."""

    def __init__(
        self,
        registry: ToolRegistry,
        policy: Policy,
        store: ExecutionStore,
        *,
        services: dict[type[Any], Any] | None = None,
        max_concurrency: int = 200,
        redact: Redact = _no_redaction,
        dispatcher: StepDispatcher | None = None,
        locks: TargetLocks | None = None,
        lock_wait_s: float = 30.0,
        recovery: StepRecovery | None = None,
        retry_changes: bool = False,
        max_duration_s: float | None = None,
    ) -> None:
        self.registry = registry
        self.policy = policy
        self.store = store
        self.services = services if services is not None else {}
        self.max_concurrency = max_concurrency
        self.redact = redact
        self.dispatcher = dispatcher if dispatcher is not None else InProcessDispatcher(self.run_here)
        self.locks = locks  # write/critical steps lock their targets when set
        self.lock_wait_s = lock_wait_s
        self.recovery = recovery  # in-process runs only: settles steps a dead driver left mid-step
        self.retry_changes = retry_changes
        self.max_duration_s = max_duration_s  # a run's time limit: later targets time out, steps skip

    async def run(
        self,
        execution_id: str,
        plan: Plan,
        principal: Principal,
        progress: ProgressCallback | None = None,
        *,
        resumed: bool = False,
        lost: asyncio.Event | None = None,
        cancel: CancelRequest | None = None,
    ) -> ExecutionResult:
        """Run (or, `resumed`, finish after a dead driver) a plan; recorded steps never run again.

        `lost` is the driver's lease-lost event: once it is set (and the run cancelled),
        nothing more is written for this execution. `cancel`, once set, stops the tool calls
        still running (their commands stopped on the targets) and starts no further step.
        """
        token = LEASE_LOST.set(lost)
        cancelling = CANCEL.set(cancel)
        try:
            return await self._run(execution_id, plan, principal, progress, resumed)
        finally:
            CANCEL.reset(cancelling)
            LEASE_LOST.reset(token)

    async def _run(
        self,
        execution_id: str,
        plan: Plan,
        principal: Principal,
        progress: ProgressCallback | None,
        resumed: bool,
    ) -> ExecutionResult:
        started = utcnow()
        deadline = started + timedelta(seconds=self.max_duration_s) if self.max_duration_s else None
        await self._save_status(execution_id, "running")
        results: dict[str, StepResult] = {}
        digest = plan.digest()
        for step in order_steps(plan.steps):
            failed_deps = [d for d in step.depends_on if d in results and not results[d].ok]
            if failed_deps:
                result = self._skipped(step, f"skipped: step {', '.join(failed_deps)} did not succeed")
            elif (cancel := CANCEL.get()) is not None and cancel.requested:
                result = self._skipped(step, f"not started: {cancel.reason()}")
                await must_write(self.store.record_step(execution_id, result))
            elif deadline is not None and utcnow() >= deadline:
                result = self._skipped(step, f"not started: {self._limit_reached()}", TargetStatus.TIMEOUT)
                await must_write(self.store.record_step(execution_id, result))
            else:
                job = self._job(execution_id, step, principal, digest, deadline)
                result = await self._run_step(job, step, progress, resumed)
            results[step.id] = result
        ordered = tuple(results[s.id] for s in plan.steps if s.id in results)
        status = "succeeded" if all(r.ok for r in ordered) else "failed"
        await self._save_status(execution_id, status)
        finished = utcnow()
        return ExecutionResult(
            execution_id=execution_id,
            status=status,
            steps=ordered,
            started_at=started,
            finished_at=finished,
            timed_out=status == "failed" and deadline is not None and finished >= deadline,
        )

    def _limit_reached(self) -> str:
        limit = f" of {self.max_duration_s:g} s" if self.max_duration_s else ""
        return f"the run reached its time limit{limit}"

    @staticmethod
    def _job(
        execution_id: str, step: PlanStep, principal: Principal, digest: str, deadline: datetime | None
    ) -> StepJob:
        return StepJob(
            execution_id=execution_id,
            step_id=step.id,
            principal=principal,
            request_id=current_request_id(),
            plan_digest=digest,
            deadline=deadline,
        )

    async def _run_step(
        self, job: StepJob, step: PlanStep, progress: ProgressCallback | None, resumed: bool = False
    ) -> StepResult:
        try:
            self.policy.check_step(step, job.principal)
        except NotPermitted as err:
            return self._skipped(step, f"not permitted: {err}", TargetStatus.FAILED)
        if resumed:
            settled = await self._settle_lost(job, step)
            if settled is not None:
                return settled
        return await self.dispatcher.dispatch(job, step, progress)

    async def _settle_lost(self, job: StepJob, step: PlanStep) -> StepResult | None:
        """On resume: a step still 'running' died with its driver (steps ran in the driver's process).

        `recovery` is set only when steps run in-process: with a job queue the step ran on a
        worker, and the worker side recovers it (the dispatcher waits for that).
        """
        if self.recovery is None:
            return None
        claim = await self.recovery.state(job.idempotency_key)
        if claim is None or claim.status != "running":
            return None
        return await settle_lost_step(
            self.recovery, self.store, self.locks, job, step, claim.attempt, retry_changes=self.retry_changes
        )

    async def run_here(self, job: StepJob, step: PlanStep, progress: ProgressCallback | None) -> StepResult:
        """One step's whole run in this process (a StepRunner): policy again, claim, locks, record."""
        execution_id = job.execution_id
        try:
            self.policy.check_step(step, job.principal)
        except NotPermitted as err:
            return self._skipped(step, f"not permitted: {err}", TargetStatus.FAILED)
        if not await self.store.claim_step(execution_id, step.id):
            stored = await self.store.result(execution_id)
            earlier = [s for s in stored.steps if s.step_id == step.id] if stored else []
            return earlier[0] if earlier else self._skipped(step, "already running elsewhere")
        spec = self._spec(step)
        if spec is None or spec.digest != step.definition:
            source = spec.source if spec is not None else "no longer defined"
            result = self._skipped(step, messages.definition_changed(step.tool, source), TargetStatus.FAILED)
            await must_write(self.store.record_step(execution_id, result))
            return result
        locks = self.locks if self.locks is not None and _changes_targets(step, spec) else None
        busy = await self._lock(locks, execution_id, spec, step) if locks is not None else ""
        if busy:
            result = self._skipped(step, busy, TargetStatus.FAILED)
        else:
            with tracking_unconfirmed_stops() as unconfirmed:
                try:
                    guard = self.policy.guard(step, job.principal)
                    ctx = ToolContext(execution_id, step.id, self.services, progress, guard, check=step.check)
                    targets: Sequence[AssetRef | None] = step.targets if _per_target(spec, step) else (None,)
                    if spec.run_all is not None:  # a tool that takes its targets itself (a runbook)
                        results = await self._run_all(ctx, spec, step, job.deadline)
                    else:
                        results = await self._fan_out(ctx, spec, step, targets, progress, job.deadline)
                    unconfirmed.update(r.target for r in results if r.status is TargetStatus.UNCERTAIN)
                finally:
                    if locks is not None:
                        await must_write(self._release(locks, execution_id, unconfirmed))
            result = StepResult(step_id=step.id, tool=step.tool, results=tuple(results))
        await must_write(self.store.record_step(execution_id, result))
        return result

    @staticmethod
    async def _release(locks: TargetLocks, execution_id: str, unconfirmed: set[str]) -> None:
        """Release the step's locks, except on targets that may still run its command."""
        if unconfirmed:
            log.warning(
                "execution %s: stopping the command on %s was not confirmed; the lock stays until it expires",
                execution_id,
                ", ".join(sorted(unconfirmed)),
            )
        await locks.release(execution_id, keep=frozenset(unconfirmed))

    def _spec(self, step: PlanStep) -> ToolSpec | None:
        """The tool as declared now (a catalog edited since the last look is read again first);
        None when it is no longer defined."""
        self.registry.refresh()
        return self.registry.get(step.tool) if step.tool in self.registry else None

    async def _lock(self, locks: TargetLocks, execution_id: str, spec: ToolSpec, step: PlanStep) -> str:
        """'' once every target (and destination) is locked for this execution; why not, after
        `lock_wait_s`."""
        args = spec.parse_args(step.args)
        ttl = float(getattr(args, "timeout_s", step.timeout_s)) + GRACE_S + LOCK_MARGIN_S
        deadline = time.monotonic() + self.lock_wait_s
        names = [t.name for t in step.affected]  # a copy's destination is written too
        while held := await locks.acquire(execution_id, names, ttl):
            if time.monotonic() >= deadline:
                busy = ", ".join(f"{t} (execution {e or 'unknown'})" for t, e in sorted(held.items()))
                return f"busy: another run is changing {busy}"
            await asyncio.sleep(LOCK_POLL_S)
        return ""

    async def _run_all(
        self, ctx: ToolContext, spec: ToolSpec, step: PlanStep, deadline: datetime | None = None
    ) -> list[TargetResult]:
        assert spec.run_all is not None
        args = spec.parse_args(step.args)
        limit = step.timeout_s + GRACE_S
        left = (deadline - utcnow()).total_seconds() if deadline is not None else limit
        cut = left < limit  # the run's time limit comes first: the runbook gets what is left
        try:
            async with asyncio.timeout(max(min(limit, left), 0.0)):
                results = await spec.run_all(ctx, step.targets, args)
        except TimeoutError:
            why = f"cut short: {self._limit_reached()}" if cut else f"no end within {step.timeout_s:g} s"
            results = [
                TargetResult(target=t.name, status=TargetStatus.TIMEOUT, error=why) for t in step.targets
            ]
        except Exception as err:  # a bug must not take the run down; what changed is unknown
            log.exception("tool %s crashed", spec.name)
            why = f"internal error in {spec.name} ({type(err).__name__}); the hosts may have changed"
            status = TargetStatus.UNCERTAIN if spec.changes else TargetStatus.FAILED
            results = [TargetResult(target=t.name, status=status, error=why) for t in step.targets]
        return [
            r.model_copy(update={"output": self._redacted(r.output), "error": self.redact(r.error)})
            for r in results
        ]

    async def _fan_out(
        self,
        ctx: ToolContext,
        spec: ToolSpec,
        step: PlanStep,
        targets: Sequence[AssetRef | None],
        progress: ProgressCallback | None,
        deadline: datetime | None = None,
    ) -> list[TargetResult]:
        limit = asyncio.Semaphore(self.max_concurrency)
        args = spec.parse_args(step.args)
        timeout = float(getattr(args, "timeout_s", step.timeout_s)) + GRACE_S
        done = 0
        feed = OutputFeed(progress, ctx.execution_id, step, len(targets), self.redact) if progress else None
        ctx.stream = feed.feed if feed is not None else None
        if progress is not None:  # "started": lets chat show the decision before the first result
            await _safe_progress(
                progress,
                Progress(
                    execution_id=ctx.execution_id, step_id=step.id, tool=step.tool, done=0, total=len(targets)
                ),
            )

        async def one(target: AssetRef | None) -> TargetResult:
            nonlocal done
            async with limit:
                result = await self._call(spec, ctx, target, args, timeout, deadline)
            done += 1
            if feed is not None:
                feed.done = done
            if progress is not None:
                await _safe_progress(
                    progress,
                    Progress(
                        execution_id=ctx.execution_id,
                        step_id=step.id,
                        tool=step.tool,
                        done=done,
                        total=len(targets),
                        last=result,
                    ),
                )
            return result

        try:
            return list(await asyncio.gather(*(one(t) for t in targets)))
        finally:
            if feed is not None:
                await feed.close()

    async def _call(
        self,
        spec: ToolSpec,
        ctx: ToolContext,
        target: AssetRef | None,
        args: Any,
        timeout: float,
        deadline: datetime | None = None,
    ) -> TargetResult:
        left = (deadline - utcnow()).total_seconds() if deadline is not None else timeout
        cut = left < timeout  # the run's time limit comes first: the target gets what is left
        result = await call_tool(spec, ctx, target, args, max(min(timeout, left), 0.0))
        if cut and result.status is TargetStatus.TIMEOUT:
            result = result.model_copy(update={"error": f"cut short: {self._limit_reached()}"})
        return result.model_copy(
            update={"output": self._redacted(result.output), "error": self.redact(result.error)}
        )

    def _redacted(self, output: ToolOutput) -> ToolOutput:
        """Text and structured data alike (a process list's command lines live in `data`)."""
        if not (output.stdout or output.stderr or output.summary or output.data):
            return output
        return output.model_copy(
            update={
                "summary": self.redact(output.summary),
                "stdout": self.redact(output.stdout),
                "stderr": self.redact(output.stderr),
                "data": self._redacted_data(output.data),
            }
        )

    def _redacted_data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {k: self._redacted_data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self._redacted_data(v) for v in value)
        return value

    def _skipped(self, step: PlanStep, why: str, status: TargetStatus = TargetStatus.SKIPPED) -> StepResult:
        names = step.target_names or [""]
        return StepResult(
            step_id=step.id,
            tool=step.tool,
            results=tuple(TargetResult(target=n, status=status, error=why) for n in names),
        )

    async def _save_status(self, execution_id: str, status: Any) -> None:
        await must_write(self.store.set_status(execution_id, status))


async def call_tool(
    spec: ToolSpec, ctx: ToolContext, target: AssetRef | None, args: Any, timeout: float
) -> TargetResult:
    """One call of a tool on one target under `timeout`: its output, or the error as a status.

    Used by the executor for every target and by tools that run other tools (runbooks)."""
    name = target.name if target is not None else ""
    start = time.perf_counter()
    status, output, error = TargetStatus.OK, ToolOutput(), ""
    try:
        async with asyncio.timeout(timeout):
            output = await until_cancelled(_implementation(spec, ctx)(ctx, target, args))
        if not output.ok:
            status = TargetStatus.FAILED
    except TimeoutError:
        status, error = TargetStatus.TIMEOUT, f"no answer within {timeout - GRACE_S:g} s"
    except ToolError as err:
        status, error = _status_for(err), str(err)
        output = err.output or output
    except NotPermitted as err:  # the tool asked policy about what the run revealed
        status, error = TargetStatus.FAILED, f"not permitted: {err}"
    except Exception as err:  # a tool bug must not take the run down with it
        log.exception("tool %s crashed on %s", spec.name, name or "-")
        status, error = TargetStatus.FAILED, f"internal error in {spec.name} ({type(err).__name__})"
    return TargetResult(
        target=name,
        status=status,
        duration_ms=round((time.perf_counter() - start) * 1000, 2),
        output=output,
        error=error,
    )


def _changes_targets(step: PlanStep, spec: ToolSpec) -> bool:
    return spec.takes_targets and bool(step.targets) and step.risk.rank >= Risk.WRITE.rank and not step.check


def _implementation(spec: ToolSpec, ctx: ToolContext) -> ToolFunc:
    """The tool's function, or its read-only check for a check step."""
    if not ctx.check:
        return spec.func
    if spec.check is None:
        raise ToolFailed(f"{spec.name} declares no read-only check; nothing was run")
    return spec.check


def _status_for(err: ToolError) -> TargetStatus:
    for cls, status in _STATUS_BY_ERROR:
        if isinstance(err, cls):
            return status
    return TargetStatus.FAILED


async def _safe_progress(progress: Callable[[Progress], Awaitable[None]], event: Progress) -> None:
    try:
        await progress(event)
    except Exception:  # progress is best effort; the run goes on
        log.warning("progress callback failed", exc_info=True)


def order_steps(steps: Sequence[PlanStep]) -> list[PlanStep]:
    """Steps in an order that respects depends_on (stable; unknown ids are ignored)."""
    by_id = {s.id: s for s in steps}
    ordered: list[PlanStep] = []
    seen: set[str] = set()

    def visit(step: PlanStep, path: frozenset[str]) -> None:
        if step.id in seen:
            return
        if step.id in path:
            raise ValueError(f"dependency cycle through step {step.id}")
        for dep in step.depends_on:
            if dep in by_id:
                visit(by_id[dep], path | {step.id})
        seen.add(step.id)
        ordered.append(step)

    for step in steps:
        visit(step, frozenset())
    return ordered


def _per_target(spec: ToolSpec, step: PlanStep) -> bool:
    """The tool runs once per target; once without one when it takes none, or when it may run
    untargeted (`untargeted="none"`) and the step names none."""
    return spec.takes_targets and bool(step.targets or spec.phrasing.untargeted != "none")
