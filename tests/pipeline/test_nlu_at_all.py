"""'at all' is emphasis ('can we reach db-01 at all?'), never 'on all': it read as every asset, and a
change written that way ('restart nginx on web-01 at all') would have run on every nginx host."""

from __future__ import annotations

import pytest

from pipeline.planner import HybridPlanner

from .planning import ALT, only, planner_fixture, policed

alt = planner_fixture(ALT)


@pytest.mark.parametrize(
    ("text", "tool", "targets"),
    [
        ("can we still reach db-01 at all?", "network.ping", ["db-01"]),
        ("is api-02 reachable at all", "network.ping", ["api-02"]),
        ("can you restart nginx on web-01 at all", "automation.service_control", ["web-01"]),
    ],
)
async def test_at_all_selects_nothing_more(
    planner: HybridPlanner, text: str, tool: str, targets: list[str]
) -> None:
    step_tool, names, _ = only(await policed(planner, text))
    assert (step_tool, names) == (tool, targets)


async def test_at_all_on_another_inventory(alt: HybridPlanner) -> None:
    assert only(await policed(alt, "does pg-main answer at all?"))[:2] == ("network.ping", ["pg-main"])


@pytest.mark.parametrize("text", ["ping all", "restart nginx on all"])
async def test_a_trailing_all_after_on_still_means_every_host(planner: HybridPlanner, text: str) -> None:
    _, names, _ = only(await policed(planner, text))
    assert len(names) >= 4
