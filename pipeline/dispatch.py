"""Where a plan's steps run: the `StepDispatcher` port and its in-process implementation.

    Executor.run --(per step)--> StepDispatcher.dispatch(StepJob, step, progress) -> StepResult
        InProcessDispatcher   runs the step in this process (the embedded default)
        adapters.jobs         enqueues it on Redis (arq); an `opsconductor worker` runs it

Whoever runs a step runs it through a `StepRunner` (`Executor.run_here`): re-check policy,
claim the step once (idempotency key ``execution_id:step_id``), lock its targets when it
changes things, fan out, record the result. A dispatcher only decides *where* that happens.

The request id (`REQUEST_ID`) follows a request through replicas and workers: adapters or
the server bind it, dispatchers carry it in the job, workers bind it again.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from contextvars import ContextVar
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from pipeline.contracts import PlanStep, Principal, StepResult
from pipeline.ports import ProgressCallback

REQUEST_ID: ContextVar[str] = ContextVar("opsconductor_request_id", default="")


def current_request_id() -> str:
    """The request id bound in this context ('' when none)."""
    return REQUEST_ID.get()


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


class StepJob(BaseModel):
    """What a worker needs to run one step; the plan itself is reloaded from the store."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    execution_id: str
    step_id: str
    principal: Principal
    request_id: str = ""
    plan_digest: str = ""  # of the plan the driver runs: a worker refuses a stored plan that differs
    deadline: datetime | None = None  # the run's time limit: targets still running then time out

    @property
    def idempotency_key(self) -> str:
        """Same key as the step row's (`execution_id:step_id`): one job, one claim per step."""
        return f"{self.execution_id}:{self.step_id}"


class StepRunner(Protocol):
    """Runs one step here and now: policy, claim, locks, fan-out, record."""

    async def __call__(
        self, job: StepJob, step: PlanStep, progress: ProgressCallback | None
    ) -> StepResult: ...


class StepDispatcher(Protocol):
    """Runs a step somewhere and returns its result.

    Contract: a step runs at most once per idempotency key, however often `dispatch` is
    called for it (retries, duplicate deliveries, several replicas); when the step already
    ran, its stored result comes back.
    """

    async def dispatch(
        self, job: StepJob, step: PlanStep, progress: ProgressCallback | None
    ) -> StepResult: ...


class InProcessDispatcher:
    """The embedded default: the step runs in this process, in the caller's task."""

    def __init__(self, runner: StepRunner) -> None:
        self.runner = runner

    async def dispatch(self, job: StepJob, step: PlanStep, progress: ProgressCallback | None) -> StepResult:
        return await self.runner(job, step, progress)


class TargetLocks(Protocol):
    """Per-target execution locks shared by every process (db.locks.SqlTargetLocks).

    `acquire` takes all targets or none; it returns {} on success, else {target: holder}.
    Locks expire after `ttl_s`, so a crashed process's locks lapse by themselves.
    `release` drops the execution's locks except those on `keep`, which are left to expire
    (targets where a stopped command may still be running, see pipeline/leftovers.py).
    """

    async def acquire(self, execution_id: str, targets: Iterable[str], ttl_s: float) -> dict[str, str]: ...

    async def release(self, execution_id: str, keep: Collection[str] = ()) -> int: ...
