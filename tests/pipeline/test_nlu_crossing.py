"""Crossed clauses: each part with its own hosts and object is its own step, with its own targets."""

from __future__ import annotations

import pytest

from pipeline.planner import HybridPlanner
from tests.pipeline.planning import OPERATOR, Step, rows


async def steps(planner: HybridPlanner, text: str) -> list[Step]:
    plan = await planner.plan(text, OPERATOR)
    assert plan.outcome == "plan", plan.message
    return rows(plan)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "please show me disk space on db-02 plus memory on cache-01",
            [
                ("automation.system_info", ["db-02"], "disk"),
                ("automation.system_info", ["cache-01"], "memory"),
            ],
        ),
        (
            "check the status of redis on cache-01 and postgresql on db-stg-01",
            [
                ("automation.service_status", ["cache-01"], "redis"),
                ("automation.service_status", ["db-stg-01"], "postgresql"),
            ],
        ),
        (
            "stop nginx on web-04 & gunicorn on api-stg-01",
            [
                ("automation.service_control", ["web-04"], "nginx"),
                ("automation.service_control", ["api-stg-01"], "gunicorn"),
            ],
        ),
        (
            "cpu for api-01 and uptime for db-01 please",
            [("automation.system_info", ["api-01"], "cpu"), ("automation.system_info", ["db-01"], "uptime")],
        ),
        (
            "run `df -h` on web-01 and `free -m` on web-02",
            [
                ("automation.run_command", ["web-01"], "df -h"),
                ("automation.run_command", ["web-02"], "free -m"),
            ],
        ),
    ],
)
async def test_each_part_keeps_its_own_hosts(
    planner: HybridPlanner, text: str, expected: list[tuple[str, list[str], str]]
) -> None:
    found = await steps(planner, text)
    assert [(tool, targets) for tool, targets, _ in found] == [(t, n) for t, n, _ in expected]
    for (_, _, args), (_, _, value) in zip(found, expected, strict=True):
        assert value in str(args)


@pytest.mark.parametrize(
    ("text", "count", "targets"),
    [
        ("restart nginx on web-01 and web-02", 1, ["web-01", "web-02"]),
        ("ping web-01, web-02 and web-03", 1, ["web-01", "web-02", "web-03"]),
        ("are win-app-01 and win-app-02 online?", 1, ["win-app-01", "win-app-02"]),
    ],
)
async def test_host_lists_stay_one_step(
    planner: HybridPlanner, text: str, count: int, targets: list[str]
) -> None:
    found = await steps(planner, text)
    assert len(found) == count and found[0][1] == targets


async def test_alias_of_the_object_is_not_a_lead_word(planner: HybridPlanner) -> None:
    found = await steps(planner, "check postgres on db-01 and db-02, and redis on cache-01")
    assert [(t, n, a["service"]) for t, n, a in found] == [
        ("automation.service_status", ["db-01", "db-02"], "postgresql"),
        ("automation.service_status", ["cache-01"], "redis"),
    ]


async def test_ports_per_part(planner: HybridPlanner) -> None:
    found = await steps(planner, "scan 22 on web-01 and 443 on web-02")
    assert [(n, a["ports"]) for _, n, a in found] == [(["web-01"], [22]), (["web-02"], [443])]


async def test_an_exclusion_covers_the_whole_clause(planner: HybridPlanner) -> None:
    found = await steps(planner, "stop nginx on web-01, web-02 and web-03 - not web-02 though")
    assert [(t, n) for t, n, _ in found] == [("automation.service_control", ["web-01", "web-03"])]
