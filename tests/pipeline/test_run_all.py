"""A tool that takes all its targets at once (a runbook): the executor's side of `run_all`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from domains.catalog import build_registry
from pipeline.contracts import (
    AssetRef,
    ChatIdentity,
    InboundMessage,
    Plan,
    PlanStep,
    Principal,
    Risk,
    TargetResult,
    TargetStatus,
    ToolOutput,
)
from pipeline.policy import Policy
from pipeline.registry import ToolContext, ToolSpec
from pipeline.stages.execute import Executor
from tests.fakes.memory import MemoryExecutionStore

HOSTS = (AssetRef(name="web-01", address="127.0.0.1"), AssetRef(name="web-02", address="127.0.0.2"))
ADMIN = Principal(subject="root", roles=frozenset({"admin"}))


class NoArgs(BaseModel):
    pass


async def _per_target(ctx: ToolContext, target: AssetRef | None, args: Any) -> ToolOutput:
    raise AssertionError("a run_all tool is never called per target")


def _spec(run_all: Any) -> ToolSpec:
    return ToolSpec("demo.rollout", NoArgs, Risk.WRITE, 30, True, "demo", _per_target, run_all=run_all)


async def _run(spec: ToolSpec) -> list[TargetResult]:
    registry = build_registry()
    registry.define([spec])
    store = MemoryExecutionStore()
    executor = Executor(registry, Policy.default(registry), store)
    plan = Plan(steps=(PlanStep(id="s1", tool=spec.name, risk=Risk.WRITE, targets=HOSTS),))
    message = InboundMessage(identity=ChatIdentity(platform="test", user_id="root"), text="roll")
    execution_id = await store.create(plan, message, ADMIN, "running")
    result = await executor.run(execution_id, plan, ADMIN)
    return list(result.steps[0].results)


async def test_all_targets_go_to_one_call() -> None:
    seen: list[tuple[str, ...]] = []

    async def rollout(ctx: ToolContext, targets: tuple[AssetRef, ...], args: Any) -> list[TargetResult]:
        seen.append(tuple(t.name for t in targets))
        return [TargetResult(target=t.name, status=TargetStatus.OK) for t in targets]

    results = await _run(_spec(rollout))
    assert seen == [("web-01", "web-02")] and [r.status for r in results] == [TargetStatus.OK] * 2


async def test_a_crash_leaves_every_host_uncertain_not_the_run_down() -> None:
    async def rollout(ctx: ToolContext, targets: tuple[AssetRef, ...], args: Any) -> list[TargetResult]:
        raise RuntimeError("bug")

    results = await _run(_spec(rollout))
    assert [r.status for r in results] == [TargetStatus.UNCERTAIN] * 2
    assert "internal error in demo.rollout (RuntimeError)" in results[0].error
