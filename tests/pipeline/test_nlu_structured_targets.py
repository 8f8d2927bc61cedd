"""The structured form names its hosts with `targets=` too: `/opsconductor <tool> key=value targets=a,b`."""

from __future__ import annotations

import pytest

from pipeline.contracts import Principal
from pipeline.planner import HybridPlanner

OPERATOR = Principal(subject="o", roles=frozenset({"operator"}))


@pytest.mark.parametrize(
    ("text", "tool", "args", "targets"),
    [
        ("/opsconductor automation.service_control service=nginx action=restart targets=web-02",
         "automation.service_control", {"service": "nginx", "action": "restart"}, ["web-02"]),
        ("/opsconductor network.ping targets=web-01,db-01", "network.ping", {"count": 3},
         ["web-01", "db-01"]),
        ("/opsconductor network.ping count=2 target=10.0.0.5", "network.ping", {"count": 2}, ["10.0.0.5"]),
    ],
)  # fmt: skip
async def test_targets_key(
    planner: HybridPlanner, text: str, tool: str, args: dict[str, object], targets: list[str]
) -> None:
    plan = await planner.plan(text, OPERATOR)
    assert [(s.tool, s.args, s.target_names) for s in plan.steps] == [(tool, args, targets)]


async def test_an_unknown_host_in_targets_is_asked_back(planner: HybridPlanner) -> None:
    plan = await planner.plan("/opsconductor network.ping targets=web-09", OPERATOR)
    assert plan.outcome == "clarify" and "web-09" in plan.message
