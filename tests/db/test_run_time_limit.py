"""A plan's whole run has a time limit (execution.max_duration_s): a target still running then
times out, later steps are recorded as not started, the run is recorded as failed with an
`execution.timed_out` audit record, and the requester is told. Every result is kept in the real
store (SQLite and PostgreSQL) and the audit chain."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.audit import SqlAuditLog
from db.executions import SqlExecutionStore
from pipeline.contracts import (
    AssetRef,
    ChatIdentity,
    InboundMessage,
    Plan,
    PlanStep,
    Principal,
    Risk,
    ToolOutput,
)
from pipeline.kernel import Kernel, KernelConfig
from pipeline.policy import Policy
from pipeline.registry import ToolContext, ToolRegistry
from pipeline.stages.execute import Executor
from tests.fakes.memory import StaticIdentity
from tests.fakes.probe_tools import Calls, NoArgs, probe_toolset

CALLS: Calls = []
probe = probe_toolset(CALLS)


@probe.tool("probe.hang", NoArgs, risk=Risk.READ, timeout_s=120)
async def hang(ctx: ToolContext, target: AssetRef | None, args: NoArgs) -> ToolOutput:
    """Never answers (a host that accepts the command and goes silent)."""
    await asyncio.Event().wait()
    return ToolOutput()


REGISTRY = ToolRegistry([probe])
POLICY = Policy.from_mapping(
    {"roles": {"operator": {"grants": [{"tools": ["*"], "max_risk": "read"}]}}}, REGISTRY
)
HOST = AssetRef(name="web-01", address="127.0.0.1")


class ThreeSteps:
    """Planner stand-in: read, then a step that hangs, then another read."""

    async def plan(self, text: str, principal: Principal, conversation: str = "") -> Plan:
        steps = [
            PlanStep(id=f"s{i}", tool=tool, risk=Risk.READ, targets=(HOST,))
            for i, tool in enumerate(("probe.read", "probe.hang", "probe.read"), 1)
        ]
        return Plan(steps=tuple(steps))


async def test_a_run_over_its_time_limit_is_cut_recorded_and_told(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    CALLS.clear()
    store, audit = SqlExecutionStore(sessions), SqlAuditLog(sessions)
    kernel = Kernel(
        planner=ThreeSteps(),
        policy=POLICY,
        identity=StaticIdentity({"U1": {"operator"}}),
        store=store,
        audit=audit,
        executor=Executor(REGISTRY, POLICY, store, max_duration_s=1.5),
        config=KernelConfig(approval_ttl_s=600, max_message_chars=5000),
    )
    started = time.monotonic()
    message = InboundMessage(identity=ChatIdentity(platform="console", user_id="U1"), text="go", channel="c")
    reply: Any = await kernel.submit(message)
    assert time.monotonic() - started < 30  # not the hanging tool's own 120 s
    assert reply.summary.startswith("⏱ This run reached its time limit of 1.5 s")
    assert CALLS == [("read", "web-01")]  # the third step never ran
    stored = await store.result(reply.execution_id)
    assert stored is not None and stored.status == "failed"
    by_step = {s.step_id: s.results[0] for s in stored.steps}
    assert by_step["s1"].status.value == "ok"
    assert by_step["s2"].status.value == "timeout"
    assert "cut short: the run reached its time limit of 1.5 s" in by_step["s2"].error
    assert by_step["s3"].status.value == "timeout"
    assert "not started: the run reached its time limit" in by_step["s3"].error
    events = [e.event for e in await audit.entries(reply.execution_id)]
    assert events[-2:] == ["execution.timed_out", "execution.finished"]
    assert (await audit.verify()).ok
