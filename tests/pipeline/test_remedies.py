"""A result that shows something broken offers the request that would fix it, and that request
plans as the change it names (so a click on it goes through policy and approval like any other)."""

from __future__ import annotations

from domains.catalog import build_registry
from pipeline.contracts import (
    ExecutionResult,
    Plan,
    StepResult,
    TargetResult,
    TargetStatus,
    ToolOutput,
)
from pipeline.stages.answer import result_reply
from tests.pipeline.planning import OPERATOR, REFERENCE, planner_on


def status(target: str, **data: str) -> TargetResult:
    return TargetResult(target=target, status=TargetStatus.OK, output=ToolOutput(data=data))


async def test_a_stopped_service_offers_its_restart_which_plans_as_a_change_needing_approval() -> None:
    result = ExecutionResult(
        execution_id="e1",
        status="succeeded",
        steps=(
            StepResult(
                step_id="s1",
                tool="automation.service_status",
                results=(
                    status("web-01", unit="nginx.service", active="failed"),
                    status("web-02", unit="nginx.service", active="active"),
                    status("db-01", service="postgresql", active="inactive"),
                ),
            ),
        ),
    )
    reply = result_reply(Plan(steps=()), result)
    assert reply.suggestions == ("restart nginx on web-01", "restart postgresql on db-01")
    assert any("nginx is failed" in r and "web-01" in r for r in reply.recommendations)

    registry = build_registry()
    planner = planner_on(REFERENCE, registry)
    plan = await planner.plan(reply.suggestions[0], OPERATOR)
    assert plan.outcome == "plan", plan.message
    (step,) = plan.steps
    assert (step.tool, step.args.get("service"), step.args.get("action")) == (
        "automation.service_control",
        "nginx",
        "restart",
    )
    assert step.target_names == ["web-01"] and registry.get(step.tool).risk.value != "read"


def test_a_healthy_result_offers_nothing() -> None:
    result = ExecutionResult(
        execution_id="e2",
        status="succeeded",
        steps=(
            StepResult(
                step_id="s1", tool="x", results=(status("web-01", active="active", unit="a.service"),)
            ),
        ),
    )
    assert result_reply(Plan(steps=()), result).suggestions == ()
