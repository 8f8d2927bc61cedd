"""Resuming executions whose driving replica died mid-plan (driver lease lapsed), in memory.

A dead driver is simulated as what it leaves behind: an execution 'running' with some
steps recorded (or one claimed and never finished) and a lease nobody renews.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from pipeline.contracts import ChatIdentity, InboundMessage, Principal, Reply, TargetStatus
from pipeline.dispatch import StepJob
from pipeline.kernel import Kernel, KernelConfig
from pipeline.recovery import LOST_CHANGE
from pipeline.stages.execute import Executor
from tests.fakes.memory import MemoryAuditLog, MemoryExecutionStore, MemoryStepRecovery, StaticIdentity
from tests.pipeline.test_kernel import CALLS, POLICY, REGISTRY, Clock, ScriptedPlanner

LEASE_S = 60.0
ALICE = Principal(
    subject="alice",
    roles=frozenset({"operator"}),
    identity=ChatIdentity(platform="slack", tenant="T1", user_id="alice"),
)
MESSAGE = InboundMessage(identity=ALICE.identity, text="plan", channel="C1", thread="1.2")


class World:
    def __init__(self) -> None:
        CALLS.clear()
        self.store, self.audit, self.clock = MemoryExecutionStore(), MemoryAuditLog(), Clock()
        self.identity = StaticIdentity({"alice": {"operator"}})

    def kernel(self, driver: str) -> Kernel:
        executor = Executor(REGISTRY, POLICY, self.store, recovery=MemoryStepRecovery(self.store))
        return Kernel(
            planner=ScriptedPlanner(),
            policy=POLICY,
            identity=self.identity,
            store=self.store,
            audit=self.audit,
            executor=executor,
            config=KernelConfig(driver_lease_s=LEASE_S),
            clock=self.clock,
            driver=driver,
        )

    async def abandoned(self, text: str, *, finished: int, mid_step: bool = False) -> str:
        """An execution whose driver ran `finished` steps (and maybe claimed the next), then died."""
        plan = await ScriptedPlanner().plan(text, ALICE)
        execution_id = await self.store.create(plan, MESSAGE, ALICE, "running")
        until = self.clock.now + timedelta(seconds=LEASE_S)
        assert await self.store.renew_lease(execution_id, "dead-replica", until)
        runner = Executor(REGISTRY, POLICY, self.store)
        for step in plan.steps[:finished]:
            job = StepJob(execution_id=execution_id, step_id=step.id, principal=ALICE)
            await runner.run_here(job, step, None)
        if mid_step:
            assert await self.store.claim_step(execution_id, plan.steps[finished].id)
        CALLS.clear()
        self.clock.now += timedelta(seconds=LEASE_S + 1)
        return execution_id


@pytest.fixture
def world() -> World:
    return World()


async def test_resume_runs_only_the_steps_not_yet_recorded(world: World) -> None:
    execution_id = await world.abandoned("read web-01;read web-02", finished=1)
    told = await world.kernel("replica-b").resume_stalled()
    assert CALLS == [("read", "web-02")]
    [(message, reply)] = told
    assert message == MESSAGE  # the requester's own thread
    assert isinstance(reply, Reply) and reply.outcome == "answer" and reply.execution_id == execution_id
    assert reply.summary.startswith("The bot instance running this request stopped")
    assert [s.step_id for s in reply.result.steps] == ["s1", "s2"]
    assert world.store.executions[execution_id].status == "succeeded"
    assert "execution.resumed" in world.audit.events()
    assert await world.kernel("replica-c").resume_stalled() == []  # finished: nothing more to do


async def test_two_concurrent_resumers_run_the_rest_once(world: World) -> None:
    execution_id = await world.abandoned("read web-01;read web-02;read web-01", finished=1)
    told = await asyncio.gather(world.kernel("b").resume_stalled(), world.kernel("c").resume_stalled())
    assert sorted(len(t) for t in told) == [0, 1]
    assert CALLS == [("read", "web-02"), ("read", "web-01")]
    assert world.store.executions[execution_id].driver in {"b", "c"}
    assert world.audit.events().count("execution.resumed") == 1


async def test_a_live_lease_is_left_alone(world: World) -> None:
    execution_id = await world.abandoned("read web-01;read web-02", finished=1)
    world.clock.now -= timedelta(seconds=2)  # the driver's lease has not lapsed yet
    assert await world.kernel("b").resume_stalled() == []
    assert CALLS == []
    assert not await world.store.renew_lease(execution_id, "b", world.clock.now)  # not b's to renew


async def test_a_read_step_left_mid_way_runs_again(world: World) -> None:
    await world.abandoned("read web-01;read web-02", finished=0, mid_step=True)
    [(_, reply)] = await world.kernel("b").resume_stalled()
    assert CALLS == [("read", "web-01"), ("read", "web-02")]
    assert reply.result.status == "succeeded"


async def test_a_change_left_mid_way_is_failed_not_repeated(world: World) -> None:
    execution_id = await world.abandoned("read web-01;write web-01;write web-02", finished=1, mid_step=True)
    [(_, reply)] = await world.kernel("b").resume_stalled()
    assert CALLS == []  # neither the half-run change nor what depends on it
    steps = {s.step_id: s for s in reply.result.steps}
    assert steps["s2"].results[0].status is TargetStatus.FAILED
    assert steps["s2"].results[0].error == LOST_CHANGE
    assert steps["s3"].results[0].status is TargetStatus.SKIPPED
    assert world.store.executions[execution_id].status == "failed"


async def test_a_requester_who_left_gets_nothing_run(world: World) -> None:
    execution_id = await world.abandoned("read web-01;read web-02", finished=1)
    world.identity.people.clear()
    [(_, reply)] = await world.kernel("b").resume_stalled()
    assert reply.outcome == "refused" and CALLS == []
    assert world.store.executions[execution_id].status == "failed"


async def test_a_run_holds_its_lease_and_ends_unclaimable(world: World) -> None:
    kernel = world.kernel("a")
    reply = await kernel.submit(InboundMessage(identity=ALICE.identity, text="read web-01"))
    assert isinstance(reply, Reply) and reply.execution_id is not None
    ex = world.store.executions[reply.execution_id]
    assert ex.driver == "a" and ex.status == "succeeded"
    world.clock.now += timedelta(seconds=10 * LEASE_S)
    assert await world.kernel("b").resume_stalled() == []
