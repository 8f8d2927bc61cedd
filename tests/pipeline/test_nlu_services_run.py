"""A word that is the name of a service the targeted assets run names that service (status), not a port."""

from __future__ import annotations

import pytest

from pipeline.planner import HybridPlanner
from tests.pipeline.planning import OPERATOR


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
