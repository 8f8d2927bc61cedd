"""Questions get the right read, by mechanism, on the reference inventory and on another
company's (tests/data/inventory_reads.yaml: site-role-number names, tiers and owners as tags).

- what consumes a resource (the consumer is the subject: 'what's eating cpu', 'is java hogging
  memory') lists processes; how much of it there is ('how much memory is free') is system info;
- a database's queries, transactions, sessions and locks are its activity (db.pg_activity);
- a named thing's version ('which curl version', 'is bash up to date') is the package's version.
The sentences are ours, written for the mechanisms; none is an eval set's.
"""

from __future__ import annotations

import pytest

from pipeline.planner import HybridPlanner
from tests.pipeline.planning import DATA, OPERATOR, REFERENCE, only_sorted, planner_fixture

PROCESSES, FACTS = "automation.process_list", "automation.system_info"
ACTIVITY, VERSION = "db.pg_activity", "linux.package_version"


reference = planner_fixture(REFERENCE, packs=True)
retail = planner_fixture(DATA / "inventory_reads.yaml", packs=True)  # another company's names and tags
only = only_sorted


@pytest.mark.parametrize(
    ("text", "targets", "match"),
    [
        ("what's eating cpu on web-01", ["web-01"], None),
        ("who is hogging all the memory on db-02?", ["db-02"], None),
        ("something is chewing through disk io on api-01", ["api-01"], None),
        ("anything burning through cpu on web-04 right now?", ["web-04"], None),
        ("who's using all the ram on api-02", ["api-02"], None),
        ("top processes on cache-01", ["cache-01"], None),
        ("is java hogging the cpu on api-01?", ["api-01"], "java"),
    ],
)
async def test_the_consumer_asked_for_lists_processes(
    reference: HybridPlanner, text: str, targets: list[str], match: str | None
) -> None:
    tool, hosts, args = only(await reference.plan(text, OPERATOR))
    assert (tool, hosts, args.get("match")) == (PROCESSES, targets, match)


@pytest.mark.parametrize(
    ("text", "targets", "match"),
    [
        ("what's gobbling memory on ber-mq-1?", ["ber-mq-1"], None),
        ("which process is consuming the most cpu on muc-shop-1", ["muc-shop-1"], None),
        ("is varnish eating the memory on ber-shop-2", ["ber-shop-2"], "varnish"),
        ("something is maxing out the cpu on ber-pg-b", ["ber-pg-b"], None),
        ("what is pegging the cpu on ber-shop-1", ["ber-shop-1"], None),
    ],
)
async def test_the_same_on_another_inventory(
    retail: HybridPlanner, text: str, targets: list[str], match: str | None
) -> None:
    tool, hosts, args = only(await retail.plan(text, OPERATOR))
    assert (tool, hosts, args.get("match")) == (PROCESSES, targets, match)


@pytest.mark.parametrize(
    ("text", "facts"),
    [
        ("how much memory is free on web-01", ["memory"]),
        ("how much cpu is api-01 using", ["cpu"]),
        ("is memory running out on web-02", ["memory"]),
        ("is web-03 using a lot of memory", ["memory"]),
        ("the cpu is maxed out on web-02", ["cpu"]),  # the resource is the subject: its amount
        ("is the cpu pegged on api-02", ["cpu"]),
    ],
)
async def test_the_amount_asked_for_stays_system_info(
    reference: HybridPlanner, text: str, facts: list[str]
) -> None:
    tool, _, args = only(await reference.plan(text, OPERATOR))
    assert (tool, args["facts"]) == (FACTS, facts)


@pytest.mark.parametrize(
    "text", ["kill the process eating cpu on web-01", "kill whatever is hogging memory on db-02"]
)
async def test_ending_the_consumer_is_no_process_list(reference: HybridPlanner, text: str) -> None:
    """No tool ends a process: it is asked back, never listed, never run as a command."""
    plan = await reference.plan(text, OPERATOR)
    assert plan.outcome == "clarify" and not plan.steps


@pytest.mark.parametrize(
    ("text", "targets"),
    [
        ("what queries are running on the database servers", ["db-01", "db-02", "db-stg-01"]),
        ("any long-running transactions on db-02?", ["db-02"]),
        ("are there lock waits or deadlocks on db-01", ["db-01"]),
        ("how many active sessions does db-stg-01 have", ["db-stg-01"]),
        ("show me the blocked queries on db-02", ["db-02"]),
    ],
)
async def test_database_activity_questions(reference: HybridPlanner, text: str, targets: list[str]) -> None:
    tool, hosts, _ = only(await reference.plan(text, OPERATOR))
    assert (tool, hosts) == (ACTIVITY, targets)


async def test_one_database_of_several_is_asked_back(reference: HybridPlanner) -> None:
    plan = await reference.plan("what queries are running on the db", OPERATOR)
    assert plan.outcome == "clarify" and "db-01" in plan.message and not plan.steps


@pytest.mark.parametrize(
    ("text", "targets"),
    [
        ("any long running queries on ber-pg-a", ["ber-pg-a"]),
        ("which sessions hold locks on the berlin database servers", ["ber-pg-a", "ber-pg-b"]),
    ],
)
async def test_database_activity_on_another_inventory(
    retail: HybridPlanner, text: str, targets: list[str]
) -> None:
    tool, hosts, _ = only(await retail.plan(text, OPERATOR))
    assert (tool, hosts) == (ACTIVITY, targets)


@pytest.mark.parametrize("text", ["restart postgres on db-01", "stop postgresql on db-02"])
async def test_a_database_order_stays_a_change(reference: HybridPlanner, text: str) -> None:
    tool, _, args = only(await reference.plan(text, OPERATOR))
    assert tool == "automation.service_control" and args["service"] == "postgresql"


@pytest.mark.parametrize(
    ("text", "package", "targets"),
    [
        ("which curl version is on web-01", "curl", ["web-01"]),
        ("is bash up to date on db-01", "bash", ["db-01"]),
        ("is curl outdated on cache-01?", "curl", ["cache-01"]),
        ("what version of openssl is installed on api-02", "openssl", ["api-02"]),
    ],
)
async def test_a_named_things_version_is_the_package_version(
    reference: HybridPlanner, text: str, package: str, targets: list[str]
) -> None:
    assert only(await reference.plan(text, OPERATOR)) == (VERSION, targets, {"package": package})


async def test_a_package_version_on_another_inventory(retail: HybridPlanner) -> None:
    tool, hosts, args = only(await retail.plan("which haproxy version is on muc-shop-1", OPERATOR))
    assert (tool, hosts, args["package"]) == (VERSION, ["muc-shop-1"], "haproxy")


@pytest.mark.parametrize("text", ["what os version is db-02 on", "which kernel version does web-02 run"])
async def test_the_systems_own_version_stays_system_info(reference: HybridPlanner, text: str) -> None:
    tool, _, args = only(await reference.plan(text, OPERATOR))
    assert (tool, args["facts"]) == (FACTS, ["os"])


async def test_a_linux_package_query_skips_the_windows_hosts_of_a_selection(retail: HybridPlanner) -> None:
    """The pack declares only linux: the selection narrows to the hosts it runs on."""
    tool, hosts, args = only(await retail.plan("which openssl version do the berlin servers have", OPERATOR))
    assert (tool, args["package"]) == (VERSION, "openssl")
    assert hosts == ["ber-mq-1", "ber-pg-a", "ber-pg-b", "ber-shop-1", "ber-shop-2", "search"]


@pytest.mark.parametrize(
    "text",
    [
        "is curl up to date on the windows servers",
        "curl version on the windows servers",
        "which version of curl is installed on ber-erp-1",
    ],
)
async def test_a_linux_package_query_on_windows_hosts_only_is_asked_back(
    retail: HybridPlanner, text: str
) -> None:
    """Never a weaker reading for the words left (a ping for 'up', the os for 'version')."""
    plan = await retail.plan(text, OPERATOR)
    assert plan.outcome == "clarify" and "linux" in plan.message and not plan.steps


async def test_sorted_by_a_resource_names_no_process(reference: HybridPlanner) -> None:
    tool, _, args = only(await reference.plan("top 5 processes by memory on api-01", OPERATOR))
    assert (tool, args.get("match")) == (PROCESSES, None)
