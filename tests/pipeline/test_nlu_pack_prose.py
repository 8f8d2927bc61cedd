"""Catalog-file tools asked for in prose: their own name and description count as weak words
('a disk clean-up', 'a diagnostic report'), a singular matches a declared plural noun, and a
package the inventory lists as a service narrows a selection to the hosts running it."""

from __future__ import annotations

import pytest

from pipeline.planner import HybridPlanner
from tests.pipeline.planning import ALT, OPERATOR, REFERENCE, planner_fixture
from tests.pipeline.planning import only_sorted as only

reference = planner_fixture(REFERENCE, packs=True)
other = planner_fixture(ALT, packs=True)


@pytest.mark.parametrize(
    ("text", "tool", "targets"),
    [
        ("pull a diagnostics bundle off cache-01", "diag.collect", ["cache-01"]),
        ("I need a diagnostic report for api-02", "diag.collect", ["api-02"]),
        ("please do a disk clean-up on web-02", "linux.disk_cleanup", ["web-02"]),
        ("run a cleanup of the disk on db-02", "linux.disk_cleanup", ["db-02"]),
        ("which curl version is installed on mon-01", "linux.package_version", ["mon-01"]),
        ("show the postgresql activity on db-02", "db.pg_activity", ["db-02"]),
    ],
)
async def test_a_pack_asked_for_in_prose(
    reference: HybridPlanner, text: str, tool: str, targets: list[str]
) -> None:
    found, hosts, _ = only(await reference.plan(text, OPERATOR))
    assert (found, hosts) == (tool, targets)


@pytest.mark.parametrize(
    ("text", "package", "targets"),
    [
        ("postgres version across prod", "postgresql", ["db-01", "db-02"]),
        ("which redis version runs in london", "redis", ["api-02"]),
        ("gunicorn package version on the staging servers", "gunicorn", ["api-stg-01"]),
        ("openssl version on web-03 and db-02", "openssl", ["db-02", "web-03"]),  # named hosts stay
    ],
)
async def test_a_package_the_inventory_runs_narrows_the_selection(
    reference: HybridPlanner, text: str, package: str, targets: list[str]
) -> None:
    assert only(await reference.plan(text, OPERATOR)) == (
        "linux.package_version",
        targets,
        {"package": package},
    )


@pytest.mark.parametrize(
    ("text", "package", "targets"),
    [
        ("tomcat version in prod", "tomcat", ["app-eu-7", "app-eu-8"]),
        ("what version of postgres is installed in nyc", "postgresql", ["pg-replica"]),
        ("pull a diagnostics bundle from lb-ams-1", "", ["lb-ams-1"]),
    ],
)
async def test_the_same_on_another_inventory(
    other: HybridPlanner, text: str, package: str, targets: list[str]
) -> None:
    tool, hosts, args = only(await other.plan(text, OPERATOR))
    assert hosts == targets
    assert (tool, args.get("package")) == (
        ("linux.package_version", package) if package else ("diag.collect", None)
    )


async def test_a_status_check_still_reads_every_selected_host(reference: HybridPlanner) -> None:
    """A service's status answers on hosts not running it too ('not found'): no narrowing."""
    tool, hosts, _ = only(await reference.plan("is redis running on the production app servers", OPERATOR))
    assert tool == "automation.service_status" and "win-app-01" in hosts
