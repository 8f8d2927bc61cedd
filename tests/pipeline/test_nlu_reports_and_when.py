"""Reports and questions about the past get a read: chat openers ('psa:', 'btw') announce, a state
word on a fact ('memory ... maxed out') is reported on, and a time adverbial ('after the outage on
friday', 'before monday') says when, never what to do next."""

from __future__ import annotations

import pytest

from domains.catalog import build_registry
from pipeline.planner import HybridPlanner
from tests.pipeline.planning import OPERATOR


@pytest.mark.parametrize(
    ("text", "tool", "args", "host"),
    [
        ("psa: memory on cache-01 is maxed out", "automation.system_info", {"facts": ["memory"]}, "cache-01"),
        ("btw the disk on mon-01 is filling up", "automation.system_info", {"facts": ["disk"]}, "mon-01"),
        ("did anybody restart nginx on web-02 before monday?", "automation.service_status", {}, "web-02"),
        (
            "was db-02 rebooted after the outage on friday",
            "automation.system_info",
            {"facts": ["uptime"]},
            "db-02",
        ),
        (
            "has cache-01 been rebooted after the sunday maintenance?",
            "automation.system_info",
            {},
            "cache-01",
        ),
        ("could the bot reach db-02 right now?", "network.ping", {}, "db-02"),
    ],
)
async def test_reports_and_past_questions_plan_one_read(
    planner: HybridPlanner, text: str, tool: str, args: dict[str, object], host: str
) -> None:
    plan = await planner.plan(text, OPERATOR)
    assert plan.outcome == "plan", plan.message
    assert [(s.tool, [t.name for t in s.targets]) for s in plan.steps] == [(tool, [host])]
    assert args.items() <= plan.steps[0].args.items()
    registry = build_registry()
    assert not any(registry.get(s.tool).changes for s in plan.steps)


async def test_an_opener_does_not_hide_an_order(planner: HybridPlanner) -> None:
    plan = await planner.plan("heads up: restart nginx on web-04", OPERATOR)
    assert [(s.tool, s.args.get("action")) for s in plan.steps] == [("automation.service_control", "restart")]


async def test_after_in_an_order_still_sequences(planner: HybridPlanner) -> None:
    plan = await planner.plan("restart nginx on web-04, after that ping it", OPERATOR)
    assert [s.tool for s in plan.steps] == ["automation.service_control", "network.ping"]
