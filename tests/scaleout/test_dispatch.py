"""The StepDispatcher port in one process: in-process default, target locks, the arq engine on real
Redis and PostgreSQL (one run per step however often it is dispatched), lost-worker recovery, logs."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Collection, Iterable
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.jobs import (
    ArqDispatcher,
    JobsConfig,
    SqlStepRecovery,
    StepJobHandler,
    build_worker,
    open_pool,
    stop_worker,
)
from bot.logging_setup import JsonFormatter
from db.engine import create_engine, session_factory
from db.executions import SqlExecutionStore
from db.migrate import upgrade_engine
from pipeline.contracts import (
    AssetRef,
    ChatIdentity,
    InboundMessage,
    Plan,
    PlanStep,
    Principal,
    Progress,
    Risk,
    TargetStatus,
    ToolOutput,
)
from pipeline.dispatch import REQUEST_ID, InProcessDispatcher, StepJob
from pipeline.policy import Policy
from pipeline.registry import ToolContext, ToolRegistry, ToolSet
from pipeline.stages.execute import Executor
from tests.fakes.memory import MemoryExecutionStore

probe = ToolSet("probe")
CALLS: list[tuple[str, str]] = []


class NoArgs(BaseModel):
    pass


@probe.tool("probe.read", NoArgs, risk=Risk.READ, timeout_s=5)
async def read(ctx: ToolContext, target: AssetRef | None, args: NoArgs) -> ToolOutput:
    """Read something (slowly enough for concurrent dispatches to overlap)."""
    assert target is not None
    await asyncio.sleep(0.2)
    CALLS.append(("read", target.name))
    return ToolOutput(summary="fine")


@probe.tool("probe.write", NoArgs, risk=Risk.WRITE, timeout_s=5)
async def write(ctx: ToolContext, target: AssetRef | None, args: NoArgs) -> ToolOutput:
    """Change something."""
    assert target is not None
    CALLS.append(("write", target.name))
    return ToolOutput(summary="changed")


REGISTRY = ToolRegistry([probe])
POLICY = Policy.from_mapping(
    {"roles": {"operator": {"grants": [{"tools": ["*"], "max_risk": "critical"}]}}}, REGISTRY
)
ALICE = Principal(subject="alice", roles=frozenset({"operator"}))


def plan(tool: str, *targets: str) -> Plan:
    spec = REGISTRY.get(tool)
    hosts = tuple(AssetRef(name=t, address="127.0.0.1") for t in targets)
    return Plan(steps=(PlanStep(id="s1", tool=tool, risk=spec.risk, targets=hosts),))


def message() -> InboundMessage:
    return InboundMessage(identity=ChatIdentity(platform="console", user_id="alice"), text="probe")


class MemoryLocks:
    """TargetLocks in memory (the SQL one is db.locks.SqlTargetLocks)."""

    def __init__(self) -> None:
        self.held: dict[str, str] = {}
        self.acquired: list[tuple[str, tuple[str, ...]]] = []

    async def acquire(self, execution_id: str, targets: Iterable[str], ttl_s: float) -> dict[str, str]:
        wanted = tuple(sorted(targets))
        conflicts = {t: self.held[t] for t in wanted if self.held.get(t, execution_id) != execution_id}
        if not conflicts:
            self.held.update(dict.fromkeys(wanted, execution_id))
            self.acquired.append((execution_id, wanted))
        return conflicts

    async def release(self, execution_id: str, keep: Collection[str] = ()) -> int:
        mine = [t for t, e in self.held.items() if e == execution_id and t not in keep]
        for target in mine:
            del self.held[target]
        return len(mine)


@pytest.fixture(autouse=True)
def _clear_calls() -> None:
    CALLS.clear()


async def test_the_default_dispatcher_runs_steps_in_process() -> None:
    store = MemoryExecutionStore()
    executor = Executor(REGISTRY, POLICY, store)
    assert isinstance(executor.dispatcher, InProcessDispatcher)
    the_plan = plan("probe.read", "web-01")
    execution_id = await store.create(the_plan, message(), ALICE, "running")
    result = await executor.run(execution_id, the_plan, ALICE)
    assert result.status == "succeeded" and CALLS == [("read", "web-01")]


async def test_write_steps_lock_their_targets_and_wait_for_busy_ones() -> None:
    store, locks = MemoryExecutionStore(), MemoryLocks()
    executor = Executor(REGISTRY, POLICY, store, locks=locks, lock_wait_s=0.3)
    locks.held["web-01"] = "someone-else"
    busy_plan = plan("probe.write", "web-01", "web-02")
    busy = await store.create(busy_plan, message(), ALICE, "running")
    result = await executor.run(busy, busy_plan, ALICE)
    assert result.status == "failed" and CALLS == []
    assert "busy: another run is changing web-01 (execution someone-else)" in result.steps[0].results[0].error

    del locks.held["web-01"]
    free = await store.create(busy_plan, message(), ALICE, "running")
    assert (await executor.run(free, busy_plan, ALICE)).status == "succeeded"
    assert locks.acquired == [(free, ("web-01", "web-02"))] and locks.held == {}  # released after

    read_plan = plan("probe.read", "web-01")
    read = await store.create(read_plan, message(), ALICE, "running")
    locks.held["web-01"] = "someone-else"
    assert (await executor.run(read, read_plan, ALICE)).status == "succeeded"  # reads take no lock


@pytest.fixture
async def engine(fresh_postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(fresh_postgres_url)
    await upgrade_engine(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def arq_world(
    engine: AsyncEngine, redis_url: str
) -> AsyncIterator[tuple[SqlExecutionStore, ArqDispatcher, StepJobHandler]]:
    sessions = session_factory(engine)
    store = SqlExecutionStore(sessions)
    config = JobsConfig(
        redis_url=redis_url, queue_name="test:steps", lease_s=2, poll_s=0.05, job_timeout_s=10
    )
    runner = Executor(REGISTRY, POLICY, store)
    handler = StepJobHandler(runner.run_here, store, SqlStepRecovery(sessions), config)
    dispatcher = ArqDispatcher(await open_pool(config), store, config)
    worker = build_worker(handler, config)
    task = asyncio.create_task(worker.async_run())
    yield store, dispatcher, handler
    await stop_worker(worker)
    await asyncio.gather(task, return_exceptions=True)
    await dispatcher.close()


async def test_a_step_dispatched_many_times_runs_once_on_a_worker(
    arq_world: tuple[SqlExecutionStore, ArqDispatcher, StepJobHandler],
) -> None:
    store, dispatcher, _ = arq_world
    the_plan = plan("probe.read", "web-01")
    execution_id = await store.create(the_plan, message(), ALICE, "running")
    job = StepJob(execution_id=execution_id, step_id="s1", principal=ALICE, request_id="req-1")
    results = await asyncio.gather(*(dispatcher.dispatch(job, the_plan.steps[0], None) for _ in range(5)))
    assert CALLS == [("read", "web-01")]
    assert {r.results[0].status for r in results} == {TargetStatus.OK}
    again = await dispatcher.dispatch(job, the_plan.steps[0], None)  # later: the kept result
    assert again.ok and CALLS == [("read", "web-01")]
    executor = Executor(REGISTRY, POLICY, store, dispatcher=dispatcher)
    assert (await executor.run(execution_id, the_plan, ALICE)).status == "succeeded"  # a rerun: stored
    assert CALLS == [("read", "web-01")]


async def lost_attempt(store: SqlExecutionStore, tool: str) -> tuple[str, Plan]:
    """An execution whose step a vanished worker had claimed."""
    the_plan = plan(tool, "web-01")
    execution_id = await store.create(the_plan, message(), ALICE, "running")
    assert await SqlExecutionStore(store._sessions, worker_id="gone:1").claim_step(execution_id, "s1")
    return execution_id, the_plan


async def test_a_lost_read_step_runs_again_and_a_lost_write_step_is_failed(
    arq_world: tuple[SqlExecutionStore, ArqDispatcher, StepJobHandler],
) -> None:
    store, _, handler = arq_world
    ctx: dict[str, Any] = {"redis": None, "job_id": "x", "job_try": 2}
    read_id, _ = await lost_attempt(store, "probe.read")
    write_id, _ = await lost_attempt(store, "probe.write")
    read_job = StepJob(execution_id=read_id, step_id="s1", principal=ALICE)
    write_job = StepJob(execution_id=write_id, step_id="s1", principal=ALICE)
    read_result = await handler._run(read_job, int(ctx["job_try"]))
    write_result = await handler._run(write_job, int(ctx["job_try"]))
    assert read_result.ok and CALLS == [("read", "web-01")]
    assert not write_result.ok and "stopped mid-step" in write_result.results[0].error
    stored = await store.result(write_id)
    assert stored is not None and stored.steps[0].results[0].status is TargetStatus.FAILED
    claim = await SqlStepRecovery(store._sessions).state(f"{read_id}:s1")
    assert claim is not None and (claim.status, claim.attempt) == ("succeeded", 2)


async def test_a_claim_older_than_any_step_is_settled_even_when_redis_lost_the_job(
    arq_world: tuple[SqlExecutionStore, ArqDispatcher, StepJobHandler], engine: AsyncEngine
) -> None:
    store, _, handler = arq_world
    execution_id, _ = await lost_attempt(store, "probe.write")
    async with engine.begin() as conn:  # claimed long ago by a worker that is gone
        await conn.execute(
            text(
                "UPDATE execution_steps SET claimed_at = now() - interval '2 hours' WHERE execution_id = :e"
            ),
            {"e": execution_id},
        )
    job = StepJob(execution_id=execution_id, step_id="s1", principal=ALICE)
    result = await handler._run(job, 1)  # a first try: arq never saw the earlier run
    assert not result.ok and "stopped mid-step" in result.results[0].error and CALLS == []


def test_json_logs_carry_the_bound_request_id() -> None:
    formatter = JsonFormatter("worker")
    token = REQUEST_ID.set("req-42")
    try:
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "step %s done", ("s1",), None)
        line = json.loads(formatter.format(record))
    finally:
        REQUEST_ID.reset(token)
    assert (line["msg"], line["request_id"], line["role"], line["level"]) == (
        "step s1 done",
        "req-42",
        "worker",
        "info",
    )


async def test_a_workers_progress_reaches_the_dispatching_replica(
    arq_world: tuple[SqlExecutionStore, ArqDispatcher, StepJobHandler],
) -> None:
    store, dispatcher, _ = arq_world
    the_plan = plan("probe.read", "web-01", "web-02", "web-03")
    execution_id = await store.create(the_plan, message(), ALICE, "running")
    events: list[Progress] = []

    async def progress(event: Progress) -> None:
        events.append(event)

    job = StepJob(execution_id=execution_id, step_id="s1", principal=ALICE)
    result = await dispatcher.dispatch(job, the_plan.steps[0], progress)
    assert result.ok
    assert [(e.done, e.total) for e in events] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert {e.last.target for e in events if e.last is not None} == {"web-01", "web-02", "web-03"}


async def test_a_worker_refuses_a_step_whose_stored_plan_was_edited_after_dispatch(
    arq_world: tuple[SqlExecutionStore, ArqDispatcher, StepJobHandler], engine: AsyncEngine
) -> None:
    """The driver sends the digest of the plan it runs; the worker reloads the plan and compares."""
    store, dispatcher, _ = arq_world
    the_plan = plan("probe.write", "web-01")
    execution_id = await store.create(the_plan, message(), ALICE, "running")
    async with engine.begin() as conn:  # retarget the stored step at another host
        await conn.execute(
            text(
                "UPDATE executions SET plan = jsonb_set(plan, '{steps,0,targets,0,name}', '\"db-01\"') "
                "WHERE id = :e"
            ),
            {"e": execution_id},
        )
    job = StepJob(execution_id=execution_id, step_id="s1", principal=ALICE, plan_digest=the_plan.digest())
    result = await dispatcher.dispatch(job, the_plan.steps[0], None)
    assert not result.ok and "differs from the plan this run was started for" in result.results[0].error
    assert CALLS == []
