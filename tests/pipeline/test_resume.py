"""Resuming executions whose driving replica died mid-plan (driver lease lapsed), in memory.

A dead driver is simulated as what it leaves behind: an execution 'running' with some
steps recorded (or one claimed and never finished) and a lease nobody renews. A paused
driver (alive, but past its lease) is a kernel whose renewal sleep the test holds and
releases one interval at a time (`Ticks`), mid-way through a step held open by a `Gate`.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from pipeline import messages
from pipeline.contracts import (
    AssetRef,
    ChatIdentity,
    InboundMessage,
    Plan,
    PlanStep,
    Principal,
    Reply,
    Risk,
    StepResult,
    TargetStatus,
    ToolOutput,
)
from pipeline.dispatch import StepJob
from pipeline.kernel import Kernel, KernelConfig
from pipeline.policy import Policy
from pipeline.recovery import LOST_CHANGE
from pipeline.registry import ToolContext, ToolRegistry, ToolSet
from pipeline.stages.execute import Executor
from tests.fakes.memory import MemoryAuditLog, MemoryExecutionStore, MemoryStepRecovery, StaticIdentity
from tests.pipeline.test_kernel import CALLS, HOSTS, POLICY, REGISTRY, Clock, NoArgs, ScriptedPlanner, probe

LEASE_S = 60.0
ALICE = Principal(
    subject="alice",
    roles=frozenset({"operator"}),
    identity=ChatIdentity(platform="slack", tenant="T1", user_id="alice"),
)
MESSAGE = InboundMessage(identity=ALICE.identity, text="plan", channel="C1", thread="1.2")


class Gate:
    """Holds a `held.read` step open until the test opens it; one per replica."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.entered, self.opened = asyncio.Event(), asyncio.Event()
        self.cancelled = False


class Ticks:
    """A kernel's sleep between lease renewals; the test lets each one pass (`tick`)."""

    def __init__(self) -> None:
        self.asleep: asyncio.Queue[float] = asyncio.Queue()  # one entry per sleep begun
        self._go: asyncio.Queue[None] = asyncio.Queue()

    async def __call__(self, seconds: float) -> None:
        self.asleep.put_nowait(seconds)
        await self._go.get()

    def tick(self) -> None:
        self._go.put_nowait(None)


held = ToolSet("held")


@held.tool("held.read", NoArgs, risk=Risk.READ, timeout_s=30)
async def held_read(ctx: ToolContext, target: AssetRef | None, args: NoArgs) -> ToolOutput:
    """Read something slowly: waits for this replica's gate."""
    assert target is not None
    gate = ctx.get(Gate)
    gate.entered.set()
    try:
        await gate.opened.wait()
    except asyncio.CancelledError:
        gate.cancelled = True
        raise
    CALLS.append(("held", target.name))
    return ToolOutput(summary=f"{gate.name} read {target.name}")


HELD_REGISTRY = ToolRegistry([probe, held])
HELD_POLICY = Policy.from_mapping(
    {"roles": {"operator": {"grants": [{"tools": ["*"], "max_risk": "read"}]}}}, HELD_REGISTRY
)
HELD_PLAN = Plan(
    steps=(
        PlanStep(id="s1", tool="held.read", risk=Risk.READ, timeout_s=30, targets=(HOSTS["web-01"],)),
        PlanStep(
            id="s2",
            tool="probe.read",
            risk=Risk.READ,
            timeout_s=5,
            targets=(HOSTS["web-02"],),
            depends_on=("s1",),
        ),
    )
)


class SlowWrites(MemoryExecutionStore):
    """A store whose step-result writes wait for `release` (a slow database)."""

    def __init__(self) -> None:
        super().__init__()
        self.writing, self.release, self.settled = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def record_step(self, execution_id: str, result: StepResult) -> None:
        self.writing.set()
        try:
            await self.release.wait()
            await super().record_step(execution_id, result)
        finally:
            self.settled.set()  # written, or cut short


class HeldPlanner:
    async def plan(self, text: str, principal: Principal, conversation: str = "") -> Plan:
        return HELD_PLAN


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

    def held_kernel(self, driver: str, gate: Gate, ticks: Ticks) -> Kernel:
        """A replica whose first step waits for `gate` and whose renewals wait for `ticks`."""
        executor = Executor(
            HELD_REGISTRY,
            HELD_POLICY,
            self.store,
            services={Gate: gate},
            recovery=MemoryStepRecovery(self.store),
        )
        return Kernel(
            planner=HeldPlanner(),
            policy=HELD_POLICY,
            identity=self.identity,
            store=self.store,
            audit=self.audit,
            executor=executor,
            config=KernelConfig(driver_lease_s=LEASE_S),
            clock=self.clock,
            driver=driver,
            sleep=ticks,
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


async def test_a_driver_whose_lease_was_taken_over_stops_and_records_nothing(world: World) -> None:
    gate_a, ticks_a, gate_b, ticks_b = Gate("a"), Ticks(), Gate("b"), Ticks()
    run_a = asyncio.create_task(world.held_kernel("a", gate_a, ticks_a).submit(MESSAGE))
    await gate_a.entered.wait()  # a is mid-step s1 ...
    assert await ticks_a.asleep.get() == LEASE_S / 3
    world.clock.now += timedelta(seconds=LEASE_S + 1)  # ... and paused past its lease
    run_b = asyncio.create_task(world.held_kernel("b", gate_b, ticks_b).resume_stalled())
    await gate_b.entered.wait()  # b took over and runs s1 again (a read step left mid-way)
    [execution_id] = world.store.executions

    ticks_a.tick()  # a's next renewal: refused
    reply_a = await run_a
    assert isinstance(reply_a, Reply) and reply_a.summary == messages.LEASE_LOST
    assert reply_a.execution_id == execution_id
    assert gate_a.cancelled and ticks_a.asleep.empty()  # stopped at that renewal, mid-step
    assert world.store.executions[execution_id].steps == {}  # a recorded nothing
    assert world.store.executions[execution_id].status == "running"
    lost = [r for r in world.audit.records if r["event"] == "execution.lease_lost"]
    assert [r["detail"] for r in lost] == [{"driver": "a"}]
    assert "execution.finished" not in world.audit.events()

    gate_b.opened.set()
    [(message, reply_b)] = await run_b
    assert message == MESSAGE and reply_b.result is not None and reply_b.result.status == "succeeded"
    ex = world.store.executions[execution_id]
    assert ex.driver == "b" and ex.status == "succeeded"
    assert ex.steps["s1"].results[0].output.summary == "b read web-01"  # b's results stand
    assert CALLS == [("held", "web-01"), ("read", "web-02")]  # each step completed once, by b
    assert world.audit.events().count("execution.finished") == 1


async def test_a_driver_that_keeps_its_lease_renews_and_finishes(world: World) -> None:
    gate, ticks = Gate("a"), Ticks()
    run = asyncio.create_task(world.held_kernel("a", gate, ticks).submit(MESSAGE))
    await gate.entered.wait()
    [execution_id] = world.store.executions
    for _ in range(3):  # three renewals, each one interval later
        await ticks.asleep.get()
        world.clock.now += timedelta(seconds=LEASE_S / 3)
        ticks.tick()
    await ticks.asleep.get()  # the third renewal is done
    assert world.store.executions[execution_id].lease_expires_at == world.clock.now + timedelta(
        seconds=LEASE_S
    )
    assert await world.kernel("b").resume_stalled() == []  # a live lease is not taken over
    gate.opened.set()
    reply = await run
    assert isinstance(reply, Reply) and reply.outcome == "answer"
    assert reply.result is not None and reply.result.status == "succeeded"
    ex = world.store.executions[execution_id]
    assert ex.driver == "a" and ex.status == "succeeded" and set(ex.steps) == {"s1", "s2"}
    assert "execution.lease_lost" not in world.audit.events()


async def test_a_write_in_flight_when_the_lease_is_lost_is_cut_short(world: World) -> None:
    world.store = store = SlowWrites()
    gate, ticks = Gate("a"), Ticks()
    gate.opened.set()
    run = asyncio.create_task(world.held_kernel("a", gate, ticks).submit(MESSAGE))
    await store.writing.wait()  # s1 ran; its result is being written
    [execution_id] = store.executions
    world.clock.now += timedelta(seconds=LEASE_S + 1)
    assert await store.claim_stalled(world.clock.now, "b", LEASE_S) == [execution_id]
    await ticks.asleep.get()
    ticks.tick()
    reply = await run
    assert isinstance(reply, Reply) and reply.summary == messages.LEASE_LOST
    store.release.set()
    await store.settled.wait()
    assert store.executions[execution_id].steps == {}  # not written after the lease was lost


async def test_a_driver_cancelled_while_holding_its_lease_still_writes(world: World) -> None:
    world.store = store = SlowWrites()
    gate, ticks = Gate("a"), Ticks()
    gate.opened.set()
    run = asyncio.create_task(world.held_kernel("a", gate, ticks).submit(MESSAGE))
    await store.writing.wait()
    [execution_id] = store.executions
    run.cancel()  # e.g. the replica shutting down
    with pytest.raises(asyncio.CancelledError):
        await run
    store.release.set()
    await store.settled.wait()
    assert set(store.executions[execution_id].steps) == {"s1"}  # shielded: the result is kept
    assert "execution.lease_lost" not in world.audit.events()
