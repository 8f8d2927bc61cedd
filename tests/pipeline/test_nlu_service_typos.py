"""Misspelt service names are corrected against the inventory and the lexicon: one step, never two."""

from __future__ import annotations

import pytest

from pipeline.planner import HybridPlanner
from tests.pipeline.planning import OPERATOR, THIRD, planner_on


@pytest.mark.parametrize(
    ("text", "service"),
    [
        ("restart the gunicron service on api-01", "gunicorn"),
        ("status of postgressql on db-stg-01", "postgresql"),
        ("stop haproxyy on web-01", "haproxy"),
        ("is reddis up on cache-01", "redis"),
        ("restart the foo-agent service on web-01", "foo-agent"),
    ],
)
async def test_one_step_with_the_corrected_service(planner: HybridPlanner, text: str, service: str) -> None:
    plan = await planner.plan(text, OPERATOR)
    assert [s.args["service"] for s in plan.steps] == [service], plan.message


async def test_daemon_name_from_the_inventory() -> None:
    planner = planner_on(THIRD)
    plan = await planner.plan("restart mysql on db_main_1", OPERATOR)
    assert plan.steps[0].args["service"] == "mysqld"
