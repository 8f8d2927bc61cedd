"""Shell syntax smuggled into a read request is asked back; commands and quoted messages are unaffected."""

from __future__ import annotations

import pytest

from pipeline.planner import HybridPlanner
from tests.pipeline.planning import OPERATOR


@pytest.mark.parametrize(
    "text",
    [
        "show memory on db-02 | bash",
        "list processes matching 'java; shutdown now' on api-01",
        "tail /var/log/auth.log$(halt) on web-02",
        "resolve example.org $(shutdown -r now)",
    ],
)
async def test_smuggled_shell_is_asked_back(planner: HybridPlanner, text: str) -> None:
    plan = await planner.plan(text, OPERATOR)
    assert plan.outcome == "clarify" and not plan.steps


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ('run "ps aux | grep nginx" on web-01', "automation.run_command"),
        ('notify #ops "deploy; done | ok"', "communication.notify"),
        ("ping web-01 && ping web-02", "network.ping"),
    ],
)
async def test_commands_messages_and_chains_still_plan(planner: HybridPlanner, text: str, tool: str) -> None:
    plan = await planner.plan(text, OPERATOR)
    assert plan.outcome == "plan" and plan.steps[0].tool == tool
