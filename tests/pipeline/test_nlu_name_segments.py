"""Naming schemes as selectors: a code the inventory's names are built from ('crm' in fra-crm-app1),
written before a host noun or a type, selects the hosts carrying it; and a word before a type that
nothing explains ('the zork dbs') is asked back, never dropped (dropping it widens the selection)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluation import load_directory
from domains.catalog import build_registry
from pipeline.contracts import Plan, Principal, Risk
from pipeline.nlu import messages
from pipeline.planner import HybridPlanner

OPERATOR = Principal(subject="t-operator", roles=frozenset({"operator"}))

# Another company's scheme: <site>-<system>-<role><n>; the system codes (crm, hr, bi) are in no tag.
HOSTS = [  # name, address, type, os, environment, location, team, services
    ("fra-crm-app1", "192.0.2.101", "app_server", "linux", "production", "frankfurt", "sales", "tomcat"),
    ("fra-crm-app2", "192.0.2.102", "app_server", "linux", "production", "frankfurt", "sales", "tomcat"),
    ("fra-crm-db1", "192.0.2.103", "db_server", "linux", "production", "frankfurt", "sales", "mysql"),
    ("ber-crm-app3", "192.0.2.104", "app_server", "linux", "test", "berlin", "sales", "tomcat"),
    ("ber-hr-web1", "192.0.2.105", "web_server", "linux", "production", "berlin", "people", "nginx"),
    ("ber-hr-db1", "192.0.2.106", "db_server", "linux", "production", "berlin", "people", "mysql"),
    ("ber-hr-db2", "192.0.2.107", "db_server", "linux", "test", "berlin", "people", "mysql"),
    ("fra-bi-db1", "192.0.2.108", "db_server", "linux", "production", "frankfurt", "data", "postgresql"),
    ("fra-core-sw1", "203.0.113.10", "switch", "network", "production", "frankfurt", "net", ""),
]
INVENTORY = "assets:\n" + "".join(
    f"  - {{name: {n}, address: {a}, type: {t}, os: {o}, environment: {e}, location: {loc},"
    f" tags: {{team: {team}}}, services: [{s}]}}\n"
    for n, a, t, o, e, loc, team, s in HOSTS
)


@pytest.fixture(scope="module")
def planner(tmp_path_factory: pytest.TempPathFactory) -> HybridPlanner:
    path = Path(tmp_path_factory.mktemp("segments")) / "inventory.yaml"
    path.write_text(INVENTORY, encoding="utf-8")
    return HybridPlanner(build_registry(), load_directory(path))


async def plan(planner: HybridPlanner, text: str) -> Plan:
    return await planner.plan(text, OPERATOR)


def hosts(plan: Plan) -> tuple[str, set[str]]:
    assert plan.outcome == "plan", plan.message
    [step] = plan.steps
    return step.tool, set(step.target_names)


@pytest.mark.parametrize(
    ("text", "tool", "expected"),
    [
        (
            "uptime of the crm app servers",
            "automation.system_info",
            {"fra-crm-app1", "fra-crm-app2", "ber-crm-app3"},
        ),
        ("ping the hr dbs", "network.ping", {"ber-hr-db1", "ber-hr-db2"}),
        ("how much disk is left on the prod hr databases?", "automation.system_info", {"ber-hr-db1"}),
        ("check memory on the bi db", "automation.system_info", {"fra-bi-db1"}),
        (
            "is tomcat running on the crm boxes in frankfurt?",
            "automation.service_status",
            {"fra-crm-app1", "fra-crm-app2", "fra-crm-db1"},  # a read asks each one: 'not running' answers
        ),
    ],
)
async def test_a_naming_code_before_a_noun_selects_the_hosts_carrying_it(
    planner: HybridPlanner, text: str, tool: str, expected: set[str]
) -> None:
    assert hosts(await plan(planner, text)) == (tool, expected)


async def test_a_change_on_a_naming_code_touches_only_those_hosts(planner: HybridPlanner) -> None:
    result = await plan(planner, "restart mysql on the hr dbs")
    assert hosts(result) == ("automation.service_control", {"ber-hr-db1", "ber-hr-db2"})
    assert result.risk is Risk.WRITE  # what the policy gates behind an approval


@pytest.mark.parametrize(
    "text",
    [
        "uptime of the zork dbs",  # no host, tag or place is called zork
        "restart mysql on the legacy databases",
        "ping the blue switches",
    ],
)
async def test_an_unknown_word_before_a_type_is_asked_back_never_dropped(
    planner: HybridPlanner, text: str
) -> None:
    result = await plan(planner, text)
    assert result.outcome == "clarify"
    assert not result.steps
    assert text.split()[-2] in result.message  # the word nobody knows is named back


async def test_a_place_prefix_still_reads_as_the_place(planner: HybridPlanner) -> None:
    # 'fra' is a segment of names and the prefix of frankfurt: the same hosts either way, read as the place
    assert hosts(await plan(planner, "uptime of the fra dbs")) == (
        "automation.system_info",
        {"fra-crm-db1", "fra-bi-db1"},
    )


async def test_the_reading_sent_back_selects_the_same_hosts(planner: HybridPlanner) -> None:
    assets = await planner.directory.snapshot()
    [call] = planner.grammar.understand("ping the hr dbs", assets, None).calls
    written = messages.structured(call)
    assert "names=" in written
    again = await plan(planner, written)
    assert hosts(again) == ("network.ping", {"ber-hr-db1", "ber-hr-db2"})


async def test_an_asset_field_called_name_stays_a_field(planner: HybridPlanner) -> None:
    result = await plan(planner, "register a new asset name=fra-crm-app4 address=192.0.2.120 type=app_server")
    [step] = result.steps
    assert step.tool == "assets.create"
    assert step.args["name"] == "fra-crm-app4"
