"""Plan steps as arq jobs on Redis: `ArqDispatcher` (replica side) and `StepJobHandler` (worker side).

    replica: Executor -> ArqDispatcher.dispatch -> enqueue_job(job id = step:<execution>:<step>)
                                                -> wait for the job's result (or the stored one)
    worker:  arq Worker -> StepJobHandler -> (recover a lost earlier attempt) -> StepRunner

Why these guarantees hold:
- one job per step: arq refuses a second job with the same id while the first is queued,
  running or its result is kept; the runner's `claim_step` refuses a second run after that.
- a killed worker: the handler keeps arq's in-progress key alive as a lease (`lease_s`);
  when the worker dies the lease lapses, another worker takes the job (job_try + 1) and the
  handler finds the step still 'running': read steps are released and run again, steps that
  change things are closed as failed unless `retry_changes` (never half-run twice).
- Redis is not the record: the step row in PostgreSQL is. A replica that finds no job and
  no result re-reads the step row and re-enqueues only a step that never started.
- a cancelled run: the replica publishes the cancel on the step's channel, the worker stops
  the step's commands; the worker also polls the execution row, so it never misses one
  (adapters/jobs/cancel.py), and a job that starts after the cancel does not run its step.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from arq.constants import in_progress_key_prefix
from arq.jobs import Job
from arq.worker import Worker, func

from pipeline import messages
from pipeline.contracts import PlanStep, Progress, StepResult, TargetResult, TargetStatus
from pipeline.dispatch import REQUEST_ID, StepJob, StepRunner, TargetLocks
from pipeline.ports import ExecutionStore, ProgressCallback
from pipeline.recovery import settle_lost_step

from .cancel import forwarded, watched
from .recovery import SqlStepRecovery

log = logging.getLogger(__name__)

FUNCTION = "run_step"
DRAIN_S = 0.05  # after a step's result, wait this long for its last progress events
FINISHED_STEP = {"succeeded", "failed", "skipped"}
StepObserver = Callable[[StepJob, StepResult, int], None]


@dataclass(frozen=True)
class JobsConfig:
    """The `jobs` settings section as the engine sees it."""

    redis_url: str
    queue_name: str = "opsconductor:steps"
    max_jobs: int = 50
    job_timeout_s: float = 3600.0
    max_tries: int = 3
    lease_s: float = 30.0
    retry_changes: bool = False
    poll_s: float = 0.1
    cancel_poll_s: float = 2.0  # a worker running a step looks in the store for a missed cancel

    @property
    def wait_s(self) -> float:
        """How long a replica waits for a step: every try, each with its lease to lapse."""
        return self.max_tries * (self.job_timeout_s + self.lease_s) + 30.0


def _dumps(data: dict[str, Any]) -> bytes:
    return json.dumps(data, default=str).encode()


def _loads(raw: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(raw)
    return data


async def open_pool(config: JobsConfig) -> ArqRedis:
    """A Redis pool speaking arq's job format (JSON, never pickle)."""
    return await create_pool(
        RedisSettings.from_dsn(config.redis_url),
        job_serializer=_dumps,
        job_deserializer=_loads,
        default_queue_name=config.queue_name,
    )


def job_id(job: StepJob) -> str:
    return f"step:{job.idempotency_key}"


class ArqDispatcher:
    """StepDispatcher that hands each step to an `opsconductor worker` and waits for its result."""

    def __init__(self, pool: ArqRedis, store: ExecutionStore, config: JobsConfig) -> None:
        self.pool = pool
        self.store = store
        self.config = config

    async def dispatch(self, job: StepJob, step: PlanStep, progress: ProgressCallback | None) -> StepResult:
        if progress is None:
            return await self._dispatch(job, step)
        await _started(progress, job, step)
        async with _relayed(self.pool, progress_channel(self.config, job), progress):
            return await self._dispatch(job, step)

    async def _dispatch(self, job: StepJob, step: PlanStep) -> StepResult:
        async with forwarded(self.pool, cancel_channel(self.config, job)):
            return await self._wait_for(job, step)

    async def _wait_for(self, job: StepJob, step: PlanStep) -> StepResult:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.wait_s
        for _ in range(self.config.max_tries + 1):
            arq_job = await self._enqueue(job)
            try:
                raw = await arq_job.result(timeout=deadline - loop.time(), poll_delay=self.config.poll_s)
                return StepResult.model_validate(raw)
            except TimeoutError:
                break
            except Exception as err:  # failed for good, or the job vanished from Redis
                log.warning("step job %s ended without a result (%s)", arq_job.job_id, type(err).__name__)
            stored = await self._stored(job)
            if stored is not None:
                return stored
            if await arq_job.result_info() is not None:  # arq gave up on it (tries exhausted)
                return _lost(step, "the step's job failed on every try")
            await asyncio.sleep(self.config.poll_s)  # no job, no result: enqueue it again
        return (await self._stored(job)) or _lost(step, "no worker finished the step in time")

    async def _enqueue(self, job: StepJob) -> Job:
        queued = await self.pool.enqueue_job(FUNCTION, job.model_dump(mode="json"), _job_id=job_id(job))
        return queued or Job(job_id(job), self.pool, _queue_name=self.config.queue_name, _deserializer=_loads)

    async def _stored(self, job: StepJob) -> StepResult | None:
        stored = await self.store.result(job.execution_id)
        found = [s for s in stored.steps if s.step_id == job.step_id] if stored else []
        return found[0] if found else None

    async def queue_depth(self) -> int:
        """Steps waiting for a worker (arq's queue: queued, deferred and running jobs)."""
        return int(await self.pool.zcard(self.config.queue_name))

    async def close(self) -> None:
        await self.pool.aclose()


class StepJobHandler:
    """The worker's arq function: one step job in, its StepResult (as JSON) out."""

    def __init__(
        self,
        runner: StepRunner,
        store: ExecutionStore,
        recovery: SqlStepRecovery,
        config: JobsConfig,
        *,
        locks: TargetLocks | None = None,
        observe: StepObserver | None = None,
    ) -> None:
        self.runner = runner
        self.store = store
        self.recovery = recovery
        self.config = config
        self.locks = locks
        self.observe = observe

    async def run(self, ctx: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        """The arq function (a coroutine function, as arq requires)."""
        job = StepJob.model_validate(payload)
        token = REQUEST_ID.set(job.request_id or job.execution_id)
        try:
            async with _lease(ctx["redis"], ctx["job_id"], self.config.lease_s):
                publish = _publisher(ctx["redis"], progress_channel(self.config, job))
                result = await self._run(job, int(ctx.get("job_try", 1)), publish, redis=ctx["redis"])
        finally:
            REQUEST_ID.reset(token)
        if self.observe is not None:
            self.observe(job, result, int(ctx.get("job_try", 1)))
        return result.model_dump(mode="json")

    async def _run(
        self,
        job: StepJob,
        job_try: int,
        progress: ProgressCallback | None = None,
        *,
        redis: ArqRedis | None = None,  # where a cancel is published at once (else: the store alone)
    ) -> StepResult:
        loaded = await self.store.load(job.execution_id)
        step = next((s for s in loaded[0].steps if s.id == job.step_id), None) if loaded else None
        if step is None:
            return StepResult(
                step_id=job.step_id,
                tool="",
                results=(TargetResult(target="", status=TargetStatus.FAILED, error="unknown step"),),
            )
        if job.plan_digest and loaded is not None and loaded[0].digest() != job.plan_digest:
            log.warning("step %s refused: the stored plan differs from the one sent", job.idempotency_key)
            return _lost(step, messages.PLAN_EDITED)
        log.info("step %s (%s) try %d", job.idempotency_key, step.tool, job_try)
        closed = await self._settle_claim(job, step, job_try)
        if closed is not None:
            return closed
        channel = cancel_channel(self.config, job)
        poll_s = self.config.cancel_poll_s
        async with watched(redis, channel, self.store.cancel_requested, job.execution_id, poll_s) as cancel:
            if cancel.requested:  # cancelled before it started here (a retry after a lost worker, say)
                result = _lost(step, f"not started: {cancel.reason()}", TargetStatus.SKIPPED)
                await self.store.record_step(job.execution_id, result)
                return result
            result = await self.runner(job, step, progress)
        log.info("step %s done: %s", job.idempotency_key, "ok" if result.ok else "not ok")
        return result

    async def _settle_claim(self, job: StepJob, step: PlanStep, job_try: int) -> StepResult | None:
        """Settle a 'running' claim left by a lost run; None when the runner may go ahead.

        A lost run shows as a retried job (arq took it from a dead worker: try > 1) or, should
        Redis have lost the job itself, as a claim older than any step may run. A younger claim
        without a retry is waited out (arq's job timeout bounds the wait, then retries).
        """
        stale_after_s = self.config.job_timeout_s + self.config.lease_s
        while True:
            claim = await self.recovery.state(job.idempotency_key)
            if claim is None or claim.status != "running":
                return None  # unclaimed (the runner claims it) or finished (the runner returns it)
            if job_try > 1 or claim.older_than(stale_after_s):
                return await self._recover(job, step, claim.attempt)
            await asyncio.sleep(self.config.lease_s)

    async def _recover(self, job: StepJob, step: PlanStep, attempt: int) -> StepResult | None:
        """Release a lost read step for another run, or close a lost write/critical step as failed."""
        return await settle_lost_step(
            self.recovery, self.store, self.locks, job, step, attempt, retry_changes=self.config.retry_changes
        )


def progress_channel(config: JobsConfig, job: StepJob) -> str:
    return f"{config.queue_name}:progress:{job.idempotency_key}"


def cancel_channel(config: JobsConfig, job: StepJob) -> str:
    return f"{config.queue_name}:cancel:{job.idempotency_key}"


def _publisher(redis: ArqRedis, channel: str) -> ProgressCallback:
    """Worker side: each per-target progress event goes to the dispatching replica (pub/sub)."""

    async def publish(event: Progress) -> None:
        if event.done or event.output:  # the replica already told chat that the step started
            await redis.publish(channel, event.model_dump_json())

    return publish


class _relayed:
    """Replica side: forwards a step's progress events from its worker while the step runs."""

    def __init__(self, redis: ArqRedis, channel: str, progress: ProgressCallback) -> None:
        self.pubsub = redis.pubsub(ignore_subscribe_messages=True)
        self.channel, self.progress = channel, progress
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> None:
        await self.pubsub.subscribe(self.channel)  # before the job is enqueued: no event is missed
        self.task = asyncio.create_task(self._relay())

    async def __aexit__(self, *exc: object) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        # events published just before the result may still be in flight on this connection
        while (message := await self.pubsub.get_message(timeout=DRAIN_S)) is not None:
            await self._forward(message)
        await self.pubsub.unsubscribe(self.channel)
        await self.pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _relay(self) -> None:
        async for message in self.pubsub.listen():
            await self._forward(message)

    async def _forward(self, message: dict[str, Any]) -> None:
        try:
            await self.progress(Progress.model_validate_json(message["data"]))
        except Exception:  # progress is best effort
            log.warning("progress relay failed", exc_info=True)


class _lease:
    """Keeps arq's in-progress key alive while the job runs, so a dead worker's key lapses soon."""

    def __init__(self, redis: ArqRedis, arq_job_id: str, lease_s: float) -> None:
        self.redis, self.key, self.lease_ms = redis, in_progress_key_prefix + arq_job_id, int(lease_s * 1000)
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> None:
        await self.redis.pexpire(self.key, self.lease_ms)
        self.task = asyncio.create_task(self._renew())

    async def __aexit__(self, *exc: object) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self.lease_ms / 3000)
            try:
                await self.redis.pexpire(self.key, self.lease_ms)
            except Exception:  # Redis blips: the next renewal tries again well within the lease
                log.warning("could not renew the lease of %s", self.key, exc_info=True)


async def stop_worker(worker: Worker) -> None:
    """Cancel what still runs (arq puts those jobs back) and close the pool (arq's close() uses a
    redis-py call deprecated since 5.0)."""
    worker.handle_sig(signal.SIGUSR1)
    await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
    if worker._pool is not None:
        await worker.pool.delete(worker.health_check_key)
        await worker.pool.aclose()
        worker._pool = None


def build_worker(handler: StepJobHandler, config: JobsConfig) -> Worker:
    """An arq Worker running step jobs; create it inside the running event loop."""
    return Worker(
        functions=[
            func(
                cast(Any, handler.run),
                name=FUNCTION,
                timeout=config.job_timeout_s,
                max_tries=config.max_tries,
            )
        ],
        redis_settings=RedisSettings.from_dsn(config.redis_url),
        queue_name=config.queue_name,
        max_jobs=config.max_jobs,
        job_timeout=config.job_timeout_s,
        max_tries=config.max_tries,
        poll_delay=min(0.5, config.poll_s * 2),
        keep_result=3600,
        handle_signals=False,
        job_serializer=_dumps,
        job_deserializer=_loads,
        health_check_interval=max(5, int(config.lease_s)),
    )


async def _started(progress: ProgressCallback, job: StepJob, step: PlanStep) -> None:
    event = Progress(
        execution_id=job.execution_id, step_id=step.id, tool=step.tool, done=0, total=len(step.targets) or 1
    )
    try:
        await progress(event)
    except Exception:  # progress is best effort
        log.warning("progress callback failed", exc_info=True)


def _lost(step: PlanStep, why: str, status: TargetStatus = TargetStatus.FAILED) -> StepResult:
    names = step.target_names or [""]
    return StepResult(
        step_id=step.id,
        tool=step.tool,
        results=tuple(TargetResult(target=n, status=status, error=why) for n in names),
    )
