"""Catalog-file tools asked for in prose: their own name and description count as weak words
('a disk clean-up', 'a diagnostic report'), a singular matches a declared plural noun, and a
package the inventory lists as a service narrows a selection to the hosts running it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.evaluation import load_directory
from domains.catalog import build_registry
from domains.packs import SHIPPED
from pipeline.contracts import Plan, Principal
from pipeline.planner import HybridPlanner

DATA = Path(__file__).resolve().parents[1] / "data"
FIXTURE = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "inventory.yaml"
REFERENCE = FIXTURE if FIXTURE.exists() else DATA / "inventory_fixture_copy.yaml"
OPERATOR = Principal(subject="t-operator", roles=frozenset({"operator"}))


@pytest.fixture(scope="module")
def reference() -> HybridPlanner:
    return HybridPlanner(build_registry([SHIPPED]), load_directory(REFERENCE))


@pytest.fixture(scope="module")
def other() -> HybridPlanner:
    return HybridPlanner(build_registry([SHIPPED]), load_directory(DATA / "inventory_alt.yaml"))


def only(plan: Plan) -> tuple[str, list[str], dict[str, Any]]:
    assert plan.outcome == "plan", plan.message
    [step] = plan.steps
    return step.tool, sorted(step.target_names), step.args


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
