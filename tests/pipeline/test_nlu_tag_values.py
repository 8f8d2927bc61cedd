"""A tag value used alone selects the hosts that carry it, through the one selection: as an
adjective ('the tier1 boxes'), after 'owned by', and said of hosts ('which hosts are pci scoped?',
'which boxes are audited?': a yes/no tag key counts as its value). An exact host name wins over a
tag value spelt the same. On another company's inventory (tests/data/inventory_reads.yaml) and on
the yes/no tag one (tests/data/inventory_flags.yaml)."""

from __future__ import annotations

import pytest

from pipeline.contracts import Plan
from pipeline.planner import HybridPlanner
from tests.pipeline.planning import DATA, FLAGS, OPERATOR, planner_fixture

retail = planner_fixture(DATA / "inventory_reads.yaml")
flags = planner_fixture(FLAGS)


def hosts(plan: Plan) -> tuple[list[str], list[str]]:
    assert plan.outcome == "plan", plan.message
    return [s.tool for s in plan.steps], sorted(t.name for s in plan.steps for t in s.targets)


TIER1 = ["ber-ad-1", "ber-pg-a", "ber-pg-b", "ber-shop-1", "ber-shop-2"]  # boxes: machines, no firewall
PCI = ["ber-pg-a", "ber-shop-1", "ber-shop-2"]


@pytest.mark.parametrize(
    ("text", "tool", "targets"),
    [
        ("which hosts are pci scoped?", "assets.query", PCI),
        ("which servers are pci", "assets.query", PCI),
        ("what machines are tier3?", "assets.query", ["muc-pg-a", "muc-shop-1"]),
        ("which boxes are audited?", "assets.query", ["ber-erp-1", "ber-mq-1"]),
        ("which are tier2?", "assets.query", ["ber-erp-1", "ber-mq-1", "search"]),
        ("ping the tier1 boxes", "network.ping", TIER1),
        ("list everything owned by dba", "assets.query", ["ber-pg-a", "ber-pg-b", "muc-pg-a"]),
        ("which hosts does dba own", "assets.query", ["ber-pg-a", "ber-pg-b", "muc-pg-a"]),
        ("uptime on the audited hosts", "automation.system_info", ["ber-erp-1", "ber-mq-1"]),
    ],
)
async def test_a_tag_value_alone_selects(
    retail: HybridPlanner, text: str, tool: str, targets: list[str]
) -> None:
    assert hosts(await retail.plan(text, OPERATOR)) == ([tool], targets)


@pytest.mark.parametrize(
    ("text", "targets"),
    [("which hosts are pci scoped?", ["bat-01", "web-7"]), ("which boxes are pci?", ["bat-01", "web-7"])],
)
async def test_a_yes_no_tag_said_of_hosts(flags: HybridPlanner, text: str, targets: list[str]) -> None:
    assert hosts(await flags.plan(text, OPERATOR)) == (["assets.query"], targets)


@pytest.mark.parametrize("text", ["ping search", "uptime on search", "ping the search hosts"])
async def test_an_exact_host_name_wins_over_a_tag_value(retail: HybridPlanner, text: str) -> None:
    """'search' is a host and also ber-shop-1's feature tag: the host is meant."""
    assert hosts(await retail.plan(text, OPERATOR))[1] == ["search"]


async def test_a_tag_value_next_to_a_named_host_only_qualifies(retail: HybridPlanner) -> None:
    assert hosts(await retail.plan("ping ber-pg-b and the pci boxes", OPERATOR))[1] == sorted(
        ["ber-pg-b", *PCI]
    )
