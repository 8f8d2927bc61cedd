"""Negated actions are never planned; the wanted remainder is, and a bare cancel is no_action."""

from __future__ import annotations

import pytest

from pipeline.planner import HybridPlanner
from tests.pipeline.planning import OPERATOR, Step, rows


async def steps(planner: HybridPlanner, text: str) -> tuple[str, list[Step]]:
    plan = await planner.plan(text, OPERATOR)
    return plan.outcome, rows(plan)


@pytest.mark.parametrize(
    ("text", "tool", "targets", "service"),
    [
        (
            "please do NOT restart redis on cache-01 - only show me its status",
            "automation.service_status",
            ["cache-01"],
            "redis",
        ),
        ("no need to reboot api-02, check its uptime instead", "automation.system_info", ["api-02"], None),
        (
            "check the status of nginx on web-03 instead of restarting it",
            "automation.service_status",
            ["web-03"],
            "nginx",
        ),
        (
            "I don't want you to stop gunicorn on api-01; show memory there",
            "automation.system_info",
            ["api-01"],
            None,
        ),
        ("ping db-02 without restarting anything", "network.ping", ["db-02"], None),
    ],
)
async def test_negated_action_is_dropped_and_the_rest_planned(
    planner: HybridPlanner, text: str, tool: str, targets: list[str], service: str | None
) -> None:
    outcome, found = await steps(planner, text)
    assert outcome == "plan"
    assert [(t, n) for t, n, _ in found] == [(tool, targets)]
    if service:
        assert found[0][2]["service"] == service


@pytest.mark.parametrize(
    "text",
    [
        "never reboot web-01",
        "don't touch db-01",
        "reboot web-04. actually never mind",
        "scratch that, don't stop nginx on web-02",
    ],
)
async def test_only_negated_or_cancelled_is_no_action(planner: HybridPlanner, text: str) -> None:
    outcome, found = await steps(planner, text)
    assert (outcome, found) == ("no_action", [])


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("restart nginx on web-01 but don't reboot it", "automation.service_control"),
        ("why don't you restart nginx on web-02", "automation.service_control"),
        ("nginx is not running on web-01, restart it", "automation.service_control"),
    ],
)
async def test_statements_and_suggestions_are_not_negations(
    planner: HybridPlanner, text: str, tool: str
) -> None:
    outcome, found = await steps(planner, text)
    assert outcome == "plan" and [t for t, _, _ in found] == [tool]


@pytest.mark.parametrize(
    ("text", "tools"),
    [
        ("hold off on rebooting web-04, ping it first", ["network.ping"]),
        ("skip the reboot of web-02 and just check cpu there", ["automation.system_info"]),
        ("check nginx on web-01, then restart it. actually no, don't", ["automation.service_status"]),
        ("check disk on web-01 and then restart nginx there. no, don't do it", ["automation.system_info"]),
        ("restart redis on cache-01 - actually do not do that", []),
        ("I said don't stop redis. check redis on cache-01 instead", ["automation.service_status"]),
    ],
)
async def test_postponed_skipped_and_taken_back(planner: HybridPlanner, text: str, tools: list[str]) -> None:
    _, found = await steps(planner, text)
    assert [t for t, _, _ in found] == tools


@pytest.mark.parametrize(
    ("text", "tools", "targets"),
    [
        (
            "restart nginx on web-01 and web-02, but not redis on cache-01",
            ["automation.service_control"],
            [["web-01", "web-02"]],
        ),
        ("stop gunicorn on api-01 but leave api-02 alone", ["automation.service_control"], [["api-01"]]),
        ("do NOT under any circumstances restart postgres on db-01", [], []),
        (
            "we shouldn't restart nginx on web-03 yet, check its status",
            ["automation.service_status"],
            [["web-03"]],
        ),
        ("i don't think we need to restart anything, just ping web-01", ["network.ping"], [["web-01"]]),
        (
            "restart nginx on web-01, db-01 memory, ping api-02",
            ["automation.service_control", "automation.system_info", "network.ping"],
            [["web-01"], ["db-01"], ["api-02"]],
        ),
    ],
)
async def test_negated_objects_and_far_verbs(
    planner: HybridPlanner, text: str, tools: list[str], targets: list[list[str]]
) -> None:
    _, found = await steps(planner, text)
    assert [(t, n) for t, n, _ in found] == list(zip(tools, targets, strict=True))


@pytest.mark.parametrize(
    ("text", "tools"),
    [
        ("why is nginx not starting on web-02? check its status", ["automation.service_status"]),
        ("why won't redis start on cache-01", ["automation.service_status"]),
        ("why does nginx keep stopping on web-03", ["automation.service_status"]),
        ("the nginx restart on web-02 failed", ["automation.service_status"]),
        ("can u restart gunicorn on api-02 its stuck", ["automation.service_control"]),
        ("why did web-01 reboot", ["automation.system_info"]),  # the past: read, never reboot
        ("why not restart redis on cache-01", ["automation.service_control"]),
    ],
)
async def test_why_questions_change_nothing(planner: HybridPlanner, text: str, tools: list[str]) -> None:
    _, found = await steps(planner, text)
    assert [t for t, _, _ in found] == tools


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("db-01 keeps rebooting", "automation.system_info"),
        ("did web-04 reboot?", "automation.system_info"),
        ("the reboot of web-03 failed", "automation.system_info"),
        ("please do a reboot of web-01", "automation.reboot"),
        ("can you reboot web-01 its hung", "automation.reboot"),
    ],
)
async def test_reports_about_reboots_are_not_reboots(planner: HybridPlanner, text: str, tool: str) -> None:
    _, found = await steps(planner, text)
    assert [t for t, _, _ in found] == [tool]
