"""Misspelt service names are corrected against the inventory and the lexicon: one step, never two."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluation import load_directory
from domains.catalog import build_registry
from pipeline.contracts import Principal
from pipeline.planner import HybridPlanner

FIXTURE = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "inventory.yaml"
LOCAL = Path(__file__).resolve().parents[1] / "data" / "inventory_fixture_copy.yaml"
OPERATOR = Principal(subject="t-operator", roles=frozenset({"operator"}))


@pytest.fixture(scope="module")
def planner() -> HybridPlanner:
    return HybridPlanner(build_registry(), load_directory(FIXTURE if FIXTURE.exists() else LOCAL))


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


THIRD = Path(__file__).resolve().parents[1] / "data" / "inventory_third.yaml"


async def test_daemon_name_from_the_inventory() -> None:
    planner = HybridPlanner(build_registry(), load_directory(THIRD))
    plan = await planner.plan("restart mysql on db_main_1", OPERATOR)
    assert plan.steps[0].args["service"] == "mysqld"
