"""A service change on a broad selector lands only where the inventory says the service runs."""

from __future__ import annotations

import pytest

from pipeline.planner import HybridPlanner
from tests.pipeline.planning import OPERATOR


@pytest.mark.parametrize(
    ("text", "targets"),
    [
        ("restart gunicorn on every frankfurt app server", ["api-01", "api-stg-01"]),
        ("stop nginx everywhere", ["web-01", "web-02", "web-03", "web-04"]),
        ("restart redis on all production servers", ["api-01", "api-02", "cache-01"]),
    ],
)
async def test_changes_only_where_it_runs(planner: HybridPlanner, text: str, targets: list[str]) -> None:
    plan = await planner.plan(text, OPERATOR)
    assert sorted(plan.steps[0].target_names) == targets, plan.message


async def test_none_running_it_asks_back(planner: HybridPlanner) -> None:
    plan = await planner.plan("restart nginx on all windows servers", OPERATOR)
    assert plan.outcome == "clarify" and not plan.steps


async def test_both_with_three_matches_asks_back(planner: HybridPlanner) -> None:
    plan = await planner.plan("ping both london app servers", OPERATOR)
    assert plan.outcome == "clarify"
