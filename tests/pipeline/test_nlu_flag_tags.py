"""A yes/no tag used as an adjective selects the hosts that have it ('the pci web servers',
'PCI-scoped hosts'); never every host. The inventory's own words are never misspelt services
('squad' is a tag key, not 'squid')."""

from __future__ import annotations

import pytest

from pipeline.planner import HybridPlanner
from tests.pipeline.planning import FLAGS, OPERATOR, planner_fixture

planner = planner_fixture(FLAGS)


@pytest.mark.parametrize(
    ("text", "hosts"),
    [
        ("ping all the PCI-scoped hosts", ["bat-01", "web-7"]),
        ("ping the pci hosts", ["bat-01", "web-7"]),
        ("restart apache2 on the pci web servers", ["web-7"]),
    ],
)
async def test_a_yes_no_tag_selects_only_the_hosts_that_have_it(
    planner: HybridPlanner, text: str, hosts: list[str]
) -> None:
    plan = await planner.plan(text, OPERATOR)
    assert plan.outcome == "plan", plan.message
    assert [sorted(t.name for t in s.targets) for s in plan.steps] == [hosts]


async def test_an_inventory_word_is_never_read_as_a_misspelt_service(planner: HybridPlanner) -> None:
    plan = await planner.plan("which squad owns bat-01?", OPERATOR)
    assert all(s.args.get("service") != "squid" for s in plan.steps)
    assert "squid" not in plan.message


@pytest.mark.parametrize("text", ["which squad owns bat-01?", "what squad is web-7 in"])
async def test_a_tag_key_asked_about_is_an_inventory_question(planner: HybridPlanner, text: str) -> None:
    plan = await planner.plan(text, OPERATOR)
    assert plan.outcome == "plan", plan.message
    assert [s.tool for s in plan.steps] == ["assets.query"]


async def test_a_tag_key_with_its_value_still_selects(planner: HybridPlanner) -> None:
    plan = await planner.plan("restart apache2 for squad storefront", OPERATOR)
    assert [sorted(t.name for t in s.targets) for s in plan.steps] == [["web-7", "web-8"]]
