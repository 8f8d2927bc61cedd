"""The kernel end to end in memory: plans, approvals (four eyes, races, expiry), execution, audit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from pipeline.contracts import (
    ApprovalPrompt,
    AssetRef,
    ChatIdentity,
    Decision,
    InboundMessage,
    Plan,
    PlanStep,
    Principal,
    Reply,
    Risk,
    TargetStatus,
    ToolOutput,
)
from pipeline.errors import TargetUnreachable
from pipeline.kernel import Kernel, KernelConfig
from pipeline.policy import Policy
from pipeline.registry import ToolContext, ToolRegistry, ToolSet
from pipeline.stages.execute import Executor
from tests.fakes.memory import MemoryAuditLog, MemoryExecutionStore, StaticIdentity

probe = ToolSet("probe")
CALLS: list[tuple[str, str]] = []


class NoArgs(BaseModel):
    pass


class SleepArgs(BaseModel):
    timeout_s: float = 0.2


@probe.tool("probe.read", NoArgs, risk=Risk.READ, timeout_s=5)
async def read(ctx: ToolContext, target: AssetRef | None, args: NoArgs) -> ToolOutput:
    """Read something."""
    assert target is not None
    CALLS.append(("read", target.name))
    if target.name == "dead":
        raise TargetUnreachable("connection refused")
    if target.name == "buggy":
        raise RuntimeError("boom")
    return ToolOutput(summary=f"fine on {target.name}", data={"load": 0.5})


@probe.tool("probe.write", NoArgs, risk=Risk.WRITE, timeout_s=5)
async def write(ctx: ToolContext, target: AssetRef | None, args: NoArgs) -> ToolOutput:
    """Change something."""
    assert target is not None
    CALLS.append(("write", target.name))
    await asyncio.sleep(0.01)
    return ToolOutput(summary="changed")


@probe.tool("probe.critical", NoArgs, risk=Risk.CRITICAL, timeout_s=5)
async def critical(ctx: ToolContext, target: AssetRef | None, args: NoArgs) -> ToolOutput:
    """Do something drastic."""
    assert target is not None
    CALLS.append(("critical", target.name))
    return ToolOutput(summary="done")


@probe.tool("probe.slow", SleepArgs, risk=Risk.READ, timeout_s=0.2)
async def slow(ctx: ToolContext, target: AssetRef | None, args: SleepArgs) -> ToolOutput:
    """Hang on one host."""
    assert target is not None
    if target.name == "hangs":
        await asyncio.sleep(30)
    return ToolOutput(summary="quick")


REGISTRY = ToolRegistry([probe])
POLICY = Policy.from_mapping(
    {
        "roles": {
            "viewer": {"grants": [{"tools": ["*"], "max_risk": "read"}]},
            "operator": {"grants": [{"tools": ["*"], "max_risk": "critical"}]},
            "approver": {"grants": [{"tools": ["*"], "max_risk": "read"}], "approves": ["write", "critical"]},
        }
    },
    REGISTRY,
)
HOSTS = {n: AssetRef(name=n, address="127.0.0.1") for n in ("web-01", "web-02", "dead", "buggy", "hangs")}


class ScriptedPlanner:
    """Stand-in for stages A-C: `tool host host` -> one step, `a;b` -> two dependent steps."""

    async def plan(self, text: str, principal: Principal, conversation: str = "") -> Plan:
        if text == "help":
            return Plan(outcome="no_action", message="help text")
        steps = []
        for i, part in enumerate(text.split(";"), 1):
            tool, *hosts = part.split()
            spec = REGISTRY.get(f"probe.{tool}")
            depends = (f"s{i - 1}",) if i > 1 else ()
            steps.append(
                PlanStep(
                    id=f"s{i}",
                    tool=spec.name,
                    risk=spec.risk,
                    timeout_s=spec.timeout_s,
                    targets=tuple(HOSTS[h] for h in hosts),
                    depends_on=depends,
                )
            )
        return Plan(steps=tuple(steps))


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def world() -> tuple[Kernel, MemoryExecutionStore, MemoryAuditLog, Clock]:
    CALLS.clear()
    store, audit, clock = MemoryExecutionStore(), MemoryAuditLog(), Clock()
    identity = StaticIdentity(
        {"alice": {"operator"}, "bob": {"approver"}, "vera": {"viewer"}, "ann": {"operator", "approver"}}
    )
    kernel = Kernel(
        planner=ScriptedPlanner(),
        policy=POLICY,
        identity=identity,
        store=store,
        audit=audit,
        executor=Executor(REGISTRY, POLICY, store),
        config=KernelConfig(approval_ttl_s=60, max_message_chars=100),
        clock=clock,
    )
    return kernel, store, audit, clock


def msg(text: str, user: str = "alice", tenant: str = "T1") -> InboundMessage:
    return InboundMessage(identity=ChatIdentity(platform="slack", tenant=tenant, user_id=user), text=text)


def click(execution_id: str, user: str, approve: bool = True, tenant: str = "T1") -> Decision:
    return Decision(
        execution_id=execution_id,
        approve=approve,
        identity=ChatIdentity(platform="slack", tenant=tenant, user_id=user),
    )


async def test_read_runs_at_once_and_is_recorded(world) -> None:
    kernel, store, audit, _ = world
    reply = await kernel.submit(msg("read web-01 web-02"))
    assert isinstance(reply, Reply) and reply.outcome == "answer"
    assert sorted(CALLS) == [("read", "web-01"), ("read", "web-02")]
    assert [s.title for s in reply.sections] == ["web-01", "web-02"]
    assert store.executions[reply.execution_id].status == "succeeded"
    assert audit.events() == ["request", "plan", "step.result", "execution.finished"]
    assert audit.records[0]["chat"] == "slack:T1"


async def test_per_target_failures_are_kept_apart(world) -> None:
    kernel, _, _, _ = world
    reply = await kernel.submit(msg("read web-01 dead buggy"))
    statuses = {r.target: r.status for r in reply.result.steps[0].results}
    assert statuses == {
        "web-01": TargetStatus.OK,
        "dead": TargetStatus.UNREACHABLE,
        "buggy": TargetStatus.FAILED,
    }
    assert "boom" not in str(reply)  # internal errors are named, not dumped
    assert any("dead" in r and "unreachable" in r for r in reply.recommendations)


async def test_a_hanging_host_holds_back_nobody(world) -> None:
    kernel, _, _, _ = world
    reply = await kernel.submit(msg("slow web-01 hangs"))
    statuses = {r.target: r.status for r in reply.result.steps[0].results}
    assert statuses == {"web-01": TargetStatus.OK, "hangs": TargetStatus.TIMEOUT}


async def test_failed_dependency_skips_later_steps(world) -> None:
    kernel, _, _, _ = world
    reply = await kernel.submit(msg("read dead;read web-01"))
    assert reply.result.steps[1].results[0].status is TargetStatus.SKIPPED
    assert ("read", "web-01") not in CALLS


async def test_write_waits_for_an_approver_then_runs_once(world) -> None:
    kernel, _store, audit, _ = world
    prompt = await kernel.submit(msg("write web-01"))
    assert isinstance(prompt, ApprovalPrompt) and not prompt.four_eyes
    assert CALLS == []
    denied = await kernel.decide(click(prompt.execution_id, "vera"))
    assert denied.outcome == "refused" and CALLS == []
    done = await kernel.decide(click(prompt.execution_id, "bob"))
    assert done.outcome == "answer" and CALLS == [("write", "web-01")]
    again = await kernel.decide(click(prompt.execution_id, "bob"))
    assert "already approved by bob" in again.summary
    assert CALLS == [("write", "web-01")]
    assert "approval.approved" in audit.events()


async def test_critical_needs_a_second_person(world) -> None:
    kernel, _, _, _ = world
    prompt = await kernel.submit(msg("critical web-01", user="ann"))
    assert isinstance(prompt, ApprovalPrompt) and prompt.four_eyes
    own = await kernel.decide(click(prompt.execution_id, "ann"))
    assert own.outcome == "refused" and "second person" in own.summary and CALLS == []
    done = await kernel.decide(click(prompt.execution_id, "bob"))
    assert done.outcome == "answer" and CALLS == [("critical", "web-01")]


async def test_requester_may_cancel_own_plan(world) -> None:
    kernel, store, _, _ = world
    prompt = await kernel.submit(msg("critical web-01", user="ann"))
    reply = await kernel.decide(click(prompt.execution_id, "ann", approve=False))
    assert "Rejected" in reply.summary and CALLS == []
    assert store.executions[prompt.execution_id].status == "rejected"


async def test_concurrent_clicks_run_exactly_once(world) -> None:
    kernel, _, _, _ = world
    prompt = await kernel.submit(msg("write web-01 web-02"))
    replies = await asyncio.gather(*(kernel.decide(click(prompt.execution_id, "bob")) for _ in range(8)))
    assert sorted(CALLS) == [("write", "web-01"), ("write", "web-02")]
    assert sum(r.outcome == "answer" for r in replies) == 1


async def test_expired_approval_runs_nothing(world) -> None:
    kernel, _, _, clock = world
    prompt = await kernel.submit(msg("write web-01"))
    clock.now += timedelta(seconds=61)
    reply = await kernel.decide(click(prompt.execution_id, "bob"))
    assert "expired" in reply.summary and CALLS == []
    later = await kernel.decide(click(prompt.execution_id, "bob"))
    assert "expired" in later.summary and CALLS == []


async def test_approval_from_another_workspace_or_unknown_id(world) -> None:
    kernel, _, _, _ = world
    prompt = await kernel.submit(msg("write web-01"))
    other = await kernel.decide(click(prompt.execution_id, "bob", tenant="T2"))
    missing = await kernel.decide(click("nope", "bob"))
    assert other.summary == missing.summary and "can't find" in other.summary
    assert CALLS == []


async def test_refusals_and_bad_input(world) -> None:
    kernel, store, _audit, _ = world
    refused = await kernel.submit(msg("write web-01", user="vera"))
    assert refused.outcome == "refused" and "probe.write" in refused.summary
    assert store.executions[refused.execution_id].status == "refused"
    unknown = await kernel.submit(msg("read web-01", user="mallory"))
    assert unknown.outcome == "refused" and "don't know who you are" in unknown.summary
    assert (await kernel.submit(msg("   "))).outcome == "no_action"
    too_long = await kernel.submit(msg("read " + "x" * 200))
    assert too_long.outcome == "error" and "at most 100" in too_long.summary
    helped = await kernel.submit(msg("help"))
    assert helped.outcome == "no_action" and store.executions[helped.execution_id].status == "answered"
    assert CALLS == []


async def test_progress_starts_at_zero_then_counts_every_target(world) -> None:
    kernel, _, _, _ = world
    events = []

    async def progress(event) -> None:
        events.append((event.step_id, event.done, event.total))

    await kernel.submit(msg("read web-01 web-02 dead"), progress)
    assert events[0] == ("s1", 0, 3)
    assert sorted(e[1] for e in events[1:]) == [1, 2, 3]


async def test_expiry_is_told_to_the_requester_once(world) -> None:
    kernel, store, audit, clock = world
    prompt = await kernel.submit(msg("write web-01"))
    assert await kernel.expire_due() == []  # not yet due
    clock.now += timedelta(seconds=61)
    told = await kernel.expire_due()
    assert [(m.identity.user_id, r.execution_id) for m, r in told] == [("alice", prompt.execution_id)]
    assert "expired" in told[0][1].summary
    assert await kernel.expire_due() == []  # reported once
    assert store.executions[prompt.execution_id].status == "expired"
    assert "approval.expired" in audit.events()
    late = await kernel.decide(click(prompt.execution_id, "bob"))
    assert "expired" in late.summary and CALLS == []


async def test_approver_rights_are_checked_at_click_time(world) -> None:
    kernel, _, _, _ = world
    prompt = await kernel.submit(msg("write web-01"))
    kernel.identity.people["bob"] = {"viewer"}  # bob lost the approver role after the prompt
    reply = await kernel.decide(click(prompt.execution_id, "bob"))
    assert reply.outcome == "refused" and CALLS == []


def test_every_error_class_has_one_reply() -> None:
    from pipeline import errors, messages

    bad_output = messages.error_reply(errors.InvalidModelOutput("not json"))
    assert "could not use" in bad_output and bad_output != messages.LLM_DOWN
    assert messages.error_reply(errors.LLMUnavailable("down")) == messages.LLM_DOWN
    assert "unknown" not in messages.error_reply(errors.NotPermitted("no")).lower()


async def test_a_process_dying_right_after_the_plan_is_stored_leaves_a_decidable_approval(world) -> None:
    """The execution and the approval it awaits are stored together: a replica that dies before
    its prompt goes out (here: the audit write after the plan fails) leaves nothing half-open."""
    kernel, store, audit, _ = world

    recorded = audit.record

    async def dies_after_storing(event: str, **kwargs: Any) -> None:
        if event == "plan":  # written right after the execution is stored
            raise RuntimeError("the replica died here")
        await recorded(event, **kwargs)

    audit.record = dies_after_storing  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        await kernel.submit(msg("write web-01"))
    audit.record = recorded  # type: ignore[method-assign]
    (execution_id,) = [i for i, ex in store.executions.items() if ex.status == "awaiting_approval"]
    assert store.approvals[execution_id].state == "pending"
    done = await kernel.decide(click(execution_id, "bob"))
    assert done.outcome == "answer" and CALLS == [("write", "web-01")]
