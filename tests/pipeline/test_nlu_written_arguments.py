"""Arguments as people write them, by mechanism, on the reference inventory and on another company's
(tests/data/inventory_harbour.yaml): a batch size in words ('one at a time', 'a host at a time',
'two nodes at once', 'one by one'), read from the runbook's declared cue words; and numbers in a
report ('3 errors a minute') that are no argument at all."""

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
ROLLING = "web.rolling_restart"


@pytest.fixture(scope="module")
def reference() -> HybridPlanner:
    return HybridPlanner(build_registry([SHIPPED]), load_directory(REFERENCE))


@pytest.fixture(scope="module")
def harbour() -> HybridPlanner:
    return HybridPlanner(build_registry([SHIPPED]), load_directory(DATA / "inventory_harbour.yaml"))


def only(plan: Plan) -> tuple[str, list[str], dict[str, Any]]:
    assert plan.outcome == "plan", plan.message
    [step] = plan.steps
    return step.tool, sorted(step.target_names), step.args


PROD_WEB = ["web-01", "web-02", "web-03"]


@pytest.mark.parametrize(
    ("text", "targets", "batch"),
    [
        ("rolling restart nginx on the prod web servers one at a time", PROD_WEB, 1),
        ("do a rolling restart of nginx on the production web servers, a host at a time", PROD_WEB, 1),
        ("rolling restart of nginx across the prod web servers two at a time", PROD_WEB, 2),
        ("rolling restart nginx on web-01, web-02 and web-03 in batches of 3", PROD_WEB, 3),
        ("rolling restart nginx on web-01 and web-02, batch of 2", ["web-01", "web-02"], 2),
        ("roll nginx restarts through the prod web servers one by one", PROD_WEB, 1),
        ("rolling restart of nginx on the prod web servers, 2 servers at once", PROD_WEB, 2),
        ("rolling restart nginx on the prod web servers", PROD_WEB, 1),  # the declared default
    ],
)
async def test_a_batch_size_in_words_on_the_reference_inventory(
    reference: HybridPlanner, text: str, targets: list[str], batch: int
) -> None:
    tool, hosts, args = only(await reference.plan(text, OPERATOR))
    assert (tool, hosts, args["service"], args["batch_size"]) == (ROLLING, targets, "nginx", batch)


LIVE_WEB = ["quay-web-1", "quay-web-2", "quay-web-3"]


@pytest.mark.parametrize(
    ("text", "targets", "batch"),
    [
        ("rolling restart of caddy on the live web servers one server at a time", LIVE_WEB, 1),
        ("roll a restart of haproxy through quay-web-1 and quay-web-2, two hosts at once", LIVE_WEB[:2], 2),
        ("rolling restart caddy on the rotterdam web servers one by one", LIVE_WEB[:2], 1),
        ("rolling restart caddy across the live web servers with a batch size of 2", LIVE_WEB, 2),
        ("do a rolling restart of caddy on quay-web-1..3, a single node at a time", LIVE_WEB, 1),
        ("rolling restart of haproxy on the live web servers three at a time", LIVE_WEB, 3),
    ],
)
async def test_a_batch_size_in_words_on_another_inventory(
    harbour: HybridPlanner, text: str, targets: list[str], batch: int
) -> None:
    tool, hosts, args = only(await harbour.plan(text, OPERATOR))
    assert (tool, hosts, args["batch_size"]) == (ROLLING, targets, batch)


async def test_the_frankfurt_one_still_means_one_host(reference: HybridPlanner) -> None:
    """'one' without a pace after it keeps its meaning: one asset of a selection, asked back."""
    plan = await reference.plan("restart nginx on the prod web one", OPERATOR)
    assert plan.outcome == "clarify"


@pytest.mark.parametrize(
    ("report", "plain"),
    [
        ("we're getting 3 errors a minute on web-01", "we're getting errors on web-01"),
        ("web-02 logs about 40 timeouts per second", "web-02 logs timeouts"),
        ("collect diagnostics from api-02, it throws 5 errors every hour", "collect diagnostics from api-02"),
        ("show the uptime of quay-web-1, it loses two connections a minute", "show the uptime of quay-web-1"),
        ("ping quay-web-2 - it drops 7 packets every minute", "ping quay-web-2"),  # not 7 pings
        ("ping db-01, we lose 10 packets an hour", "ping db-01"),
    ],
)
async def test_a_rate_in_a_report_is_no_argument(
    reference: HybridPlanner, harbour: HybridPlanner, report: str, plain: str
) -> None:
    """The request with the rate plans exactly what it plans without it."""
    planner = harbour if "quay" in report else reference
    with_rate, without = await planner.plan(report, OPERATOR), await planner.plan(plain, OPERATOR)
    assert with_rate.outcome == without.outcome
    assert [(s.tool, s.args, s.target_names) for s in with_rate.steps] == [
        (s.tool, s.args, s.target_names) for s in without.steps
    ]
