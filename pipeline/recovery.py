"""What happens to a step whose runner died mid-step (its claim is 'running', no result).

Shared by every path that finds such a claim: the arq worker taking over a lost job and
the executor resuming a plan whose driving replica died (in-process steps die with it).
Policy: read steps are released and run again; steps that change things are closed as
failed ("stopped mid-step") unless `retry_changes` (never half-run twice silently).
Each move is one conditional write, so of two recoverers only one wins.
"""

from __future__ import annotations

import logging
from typing import Protocol

from pipeline.contracts import PlanStep, StepResult, TargetResult, TargetStatus
from pipeline.dispatch import StepJob, TargetLocks
from pipeline.lease import must_write
from pipeline.ports import ExecutionStore

log = logging.getLogger(__name__)

LOST_CHANGE = "the worker running this step stopped mid-step; not retried (it changes things)"


class ClaimState(Protocol):
    """A step's claim as stored: status (planned, running, succeeded, failed, skipped), attempt."""

    @property
    def status(self) -> str: ...

    @property
    def attempt(self) -> int: ...


class StepRecovery(Protocol):
    """Moves lost claims (adapters.jobs.SqlStepRecovery); `key` is the step's idempotency key."""

    async def state(self, key: str) -> ClaimState | None: ...

    async def release(self, key: str, attempt: int) -> bool: ...

    async def close_failed(self, key: str, attempt: int) -> bool: ...


def lost_result(step: PlanStep, why: str) -> StepResult:
    names = step.target_names or [""]
    return StepResult(
        step_id=step.id,
        tool=step.tool,
        results=tuple(TargetResult(target=n, status=TargetStatus.FAILED, error=why) for n in names),
    )


async def settle_lost_step(
    recovery: StepRecovery,
    store: ExecutionStore,
    locks: TargetLocks | None,
    job: StepJob,
    step: PlanStep,
    attempt: int,
    *,
    retry_changes: bool = False,
) -> StepResult | None:
    """Release a lost read step for another run (None: go ahead), or close a lost change as failed."""
    if step.risk.value == "read" or retry_changes:
        released = await recovery.release(job.idempotency_key, attempt)
        log.warning("step %s lost its runner; released for another run: %s", job.idempotency_key, released)
        return None
    result = lost_result(step, LOST_CHANGE)
    if await recovery.close_failed(job.idempotency_key, attempt):
        await must_write(store.record_step(job.execution_id, result))
        if locks is not None:
            await locks.release(job.execution_id)
        log.warning("step %s lost its runner; marked failed by policy", job.idempotency_key)
    return result
