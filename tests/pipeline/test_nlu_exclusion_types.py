"""Exclusions of a type phrase ('apart from the domain controller') remove it, never select only it."""

from __future__ import annotations

import pytest

from pipeline.planner import HybridPlanner
from tests.pipeline.planning import OPERATOR


@pytest.mark.parametrize(
    ("text", "targets"),
    [
        (
            "ping all london hosts other than the domain controller",
            ["api-02", "db-02", "web-03", "win-app-01", "win-app-02"],
        ),
        (
            "uptime on all linux servers except for the database servers",
            ["api-01", "api-02", "api-stg-01", "cache-01", "mon-01", "web-01", "web-02", "web-03", "web-04"],
        ),
        ("list all windows servers apart from win-app-02", ["win-app-01", "win-dc-01", "win-stg-01"]),
    ],
)
async def test_excluded_type_phrase(planner: HybridPlanner, text: str, targets: list[str]) -> None:
    plan = await planner.plan(text, OPERATOR)
    assert sorted(plan.steps[0].target_names) == targets, plan.message
