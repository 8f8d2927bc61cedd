"""How chat is written: a pictograph or a dash sets sentences apart, a team tag is written as one
hyphenated word, and a host is called by its role ('the standby db-02') without that role being
a filter."""

from __future__ import annotations

import pytest

from pipeline.planner import HybridPlanner
from tests.pipeline.planning import OPERATOR


async def _steps(planner: HybridPlanner, text: str) -> list[tuple[str, list[str]]]:
    plan = await planner.plan(text, OPERATOR)
    assert plan.outcome == "plan", plan.message
    return [(s.tool, sorted(t.name for t in s.targets)) for s in plan.steps]


async def test_a_pictograph_ends_the_report_before_an_order(planner: HybridPlanner) -> None:
    steps = await _steps(planner, "checkout is broken 😱 restart nginx on web-03 now")
    assert steps == [("automation.service_control", ["web-03"])]


async def test_a_dash_ends_a_negation(planner: HybridPlanner) -> None:
    steps = await _steps(planner, "don't reboot db-02 \u2014 just show me its uptime")
    assert steps == [("automation.system_info", ["db-02"])]


@pytest.mark.parametrize("written", ["storefront-team", "team-storefront"])
async def test_a_hyphenated_tag_selects_by_the_tag(planner: HybridPlanner, written: str) -> None:
    steps = await _steps(planner, f"uptime on the {written} servers")
    assert steps == [("automation.system_info", ["web-01", "web-02", "web-03", "web-04"])]


@pytest.mark.parametrize("role", ["standby", "replica", "leader"])
async def test_a_role_word_before_a_name_only_describes_it(planner: HybridPlanner, role: str) -> None:
    steps = await _steps(planner, f"ping the {role} db-02")
    assert steps == [("network.ping", ["db-02"])]
