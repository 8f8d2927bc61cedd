"""Small talk stays small talk; "and let #x know" is its own step; "and mx for y" is its own lookup."""

from __future__ import annotations

import pytest

from pipeline.planner import HybridPlanner
from tests.pipeline.planning import OPERATOR


@pytest.mark.parametrize("text", ["hi there", "hello there, how are you", "how is it going"])
async def test_greetings_plan_nothing(planner: HybridPlanner, text: str) -> None:
    plan = await planner.plan(text, OPERATOR)
    assert plan.outcome == "no_action" and not plan.steps


@pytest.mark.parametrize(
    ("text", "tools"),
    [
        (
            "restart iis on win-app-01 and win-app-02 and let #finance know",
            ["automation.service_control", "communication.notify"],
        ),
        ("let #ops know that db-01 is back", ["communication.notify"]),
        (
            "dns lookup for api.example.com and mx for example.org",
            ["network.dns_lookup", "network.dns_lookup"],
        ),
    ],
)
async def test_steps(planner: HybridPlanner, text: str, tools: list[str]) -> None:
    plan = await planner.plan(text, OPERATOR)
    assert [s.tool for s in plan.steps] == tools, plan.message


async def test_let_know_message(planner: HybridPlanner) -> None:
    plan = await planner.plan("restart redis on cache-01 and let oncall@example.com know it's done", OPERATOR)
    assert plan.steps[-1].args["message"] == "it's done"


@pytest.mark.parametrize(
    ("text", "tool", "targets"),
    [
        ("reboot web-03? no, just restart nginx there", "automation.service_control", ["web-03"]),
        (
            "please restart nginx on web-01 and web-02 but not on web-03",
            "automation.service_control",
            ["web-01", "web-02"],
        ),
        (
            "list the windows servers, but don't include the dc",
            "assets.query",
            ["win-app-01", "win-app-02", "win-stg-01"],
        ),
        ("ping all web servers leaving out web-04", "network.ping", ["web-01", "web-02", "web-03"]),
        ("which hosts are in frankfurt and run redis", "assets.query", ["api-01", "cache-01"]),
    ],
)
async def test_corrections_exclusions_and_questions(
    planner: HybridPlanner, text: str, tool: str, targets: list[str]
) -> None:
    plan = await planner.plan(text, OPERATOR)
    assert [(s.tool, sorted(s.target_names)) for s in plan.steps] == [(tool, targets)], plan.message


async def test_command_without_trailing_there(planner: HybridPlanner) -> None:
    plan = await planner.plan("ping web-01 and run uptime there", OPERATOR)
    assert plan.steps[-1].args["command"] == "uptime" and plan.steps[-1].target_names == ["web-01"]
