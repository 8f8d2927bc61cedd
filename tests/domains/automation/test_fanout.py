"""Per-host results through the pipeline's executor: ok, unreachable and timeout side by side."""

from __future__ import annotations

from typing import Any

import pytest

from domains.catalog import build_registry
from pipeline.contracts import (
    AssetRef,
    ChatIdentity,
    InboundMessage,
    Plan,
    PlanStep,
    Principal,
    TargetStatus,
)
from pipeline.policy import Policy
from pipeline.stages.execute import Executor
from tests.fakes.memory import MemoryExecutionStore
from tests.integration.sshd_fixtures import HANGING, REFUSING, SSH_HOSTS

pytestmark = pytest.mark.sshd


async def test_each_host_gets_its_own_result(services: dict[type[Any], Any]) -> None:
    registry = build_registry()
    executor = Executor(registry, Policy.default(registry), MemoryExecutionStore(), services=services)
    targets = (
        *(AssetRef(name=f"web-{i:02d}", address=a) for i, a in enumerate(SSH_HOSTS[:6], 1)),
        AssetRef(name="refusing", address=REFUSING),
        AssetRef(name="hanging", address=HANGING),
    )
    step = PlanStep(id="s1", tool="automation.system_info", args={"facts": ["uptime"]}, targets=targets)
    plan = Plan(steps=(step,))
    principal = Principal(subject="alice", roles=frozenset({"operator"}))
    message = InboundMessage(identity=ChatIdentity(platform="console", user_id="alice"), text="uptime")
    execution_id = await executor.store.create(plan, message, principal, "approved")
    result = await executor.run(execution_id, plan, principal)
    statuses = {r.target: r.status for r in result.steps[0].results}
    assert statuses == {
        **{t.name: TargetStatus.OK for t in targets[:6]},
        "refusing": TargetStatus.UNREACHABLE,
        "hanging": TargetStatus.TIMEOUT,
    }
    by_name = {r.target: r for r in result.steps[0].results}
    assert by_name["web-01"].output.data["uptime"]["seconds"] > 0
    assert "refused the connection" in by_name["refusing"].error
    assert all(r.duration_ms > 0 for r in result.steps[0].results)
