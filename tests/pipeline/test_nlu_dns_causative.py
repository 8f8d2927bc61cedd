"""A host made to resolve a name is the resolver asked: 'have web-01 resolve X', 'get the dc to look
up X' (the causee of have/get/make/let/tell does the tool's verb), as 'ask web-01 for X' is. A
selection in that place is resolved by the one target selection (a singular with several matches
is asked back). 'look up' followed by what is looked up is the phrasal verb, never 'looks' + 'up'."""

from __future__ import annotations

import pytest

from pipeline.planner import HybridPlanner
from tests.pipeline.planning import DATA, OPERATOR, REFERENCE, only_sorted, planner_fixture

DNS = "network.dns_lookup"
reference = planner_fixture(REFERENCE)
retail = planner_fixture(DATA / "inventory_reads.yaml")
only = only_sorted


@pytest.mark.parametrize(
    ("text", "targets", "name", "record_type"),
    [
        ("have web-01 resolve api.example.com", ["web-01"], "api.example.com", "A"),
        ("get the dc to look up example.org", ["win-dc-01"], "example.org", "A"),
        ("make win-dc-01 resolve intranet.corp.local", ["win-dc-01"], "intranet.corp.local", "A"),
        ("let db-02 look up the MX of example.org", ["db-02"], "example.org", "MX"),
        ("tell api-01 to resolve shop.example.net", ["api-01"], "shop.example.net", "A"),
        (
            "get the web servers to look up api.example.com",
            ["web-01", "web-02", "web-03", "web-04"],
            "api.example.com",
            "A",
        ),
        ("look up example.org", [], "example.org", "A"),  # no resolver named: the bot's own
        ("ask win-dc-01 to resolve db-01.corp.local", ["win-dc-01"], "db-01.corp.local", "A"),
    ],
)
async def test_the_host_made_to_resolve_is_asked(
    reference: HybridPlanner, text: str, targets: list[str], name: str, record_type: str
) -> None:
    assert only(await reference.plan(text, OPERATOR)) == (
        DNS,
        targets,
        {"name": name, "record_type": record_type},
    )


@pytest.mark.parametrize(
    ("text", "targets", "name"),
    [
        ("have ber-shop-2 resolve pay.example.com", ["ber-shop-2"], "pay.example.com"),
        ("get the domain controller to look up erp.corp.example", ["ber-ad-1"], "erp.corp.example"),
    ],
)
async def test_on_another_inventory(retail: HybridPlanner, text: str, targets: list[str], name: str) -> None:
    tool, hosts, args = only(await retail.plan(text, OPERATOR))
    assert (tool, hosts, args["name"]) == (DNS, targets, name)


async def test_one_of_several_made_to_resolve_is_asked_back(retail: HybridPlanner) -> None:
    plan = await retail.plan("get the database server to resolve pay.example.com", OPERATOR)
    assert plan.outcome == "clarify" and "ber-pg-a" in plan.message and not plan.steps


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("get web-01 rebooted", "automation.reboot"),
        ("have someone restart nginx on web-01", "automation.service_control"),
        ("web-01 looks up to me", "network.ping"),
        ("could you look up who owns cache-01", "assets.query"),  # the question says what is wanted
    ],
)
async def test_other_causatives_keep_their_own_tool(reference: HybridPlanner, text: str, tool: str) -> None:
    assert only(await reference.plan(text, OPERATOR))[0] == tool
