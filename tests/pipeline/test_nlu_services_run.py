"""A word that is the name of a service the targeted assets run names that service (status), not a port."""

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
    ("text", "tool", "args"),
    [
        ("is dns running on win-dc-01", "automation.service_status", {"service": "DNS"}),
        ("check dns on win-dc-01", "automation.service_status", {"service": "DNS"}),
        (
            "check ssh on web-01",
            "network.port_scan",
            {"ports": [22]},
        ),  # ssh is the protocol; sshd the service
        ("dns lookup win-dc-01", "network.dns_lookup", {"name": "win-dc-01"}),
    ],
)
async def test_service_or_protocol(
    planner: HybridPlanner, text: str, tool: str, args: dict[str, object]
) -> None:
    plan = await planner.plan(text, OPERATOR)
    assert [s.tool for s in plan.steps] == [tool], plan.message
    assert args.items() <= plan.steps[0].args.items()
