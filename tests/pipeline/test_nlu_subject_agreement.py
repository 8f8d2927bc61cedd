"""A change verb that agrees with a subject is said of the host, never ordered: 'db-02 drops
connections' planned an asset deletion (the -s form of 'drop' read as an imperative). An imperative
has no subject, so '<host> <verb>s ...' and 'it <verb>s ...' are reports; the orders around them stay."""

from __future__ import annotations

import pytest

from pipeline.contracts import Risk
from pipeline.planner import HybridPlanner

from .planning import ALT, only, planner_fixture, policed

alt = planner_fixture(ALT)


@pytest.mark.parametrize(
    "text",
    [
        "web-01 drops connections",
        "db-02 drops connections every few minutes, show its uptime",
        "web-03 restarts nginx all the time",
        "cache-01 reboots itself at night, any idea?",
        "api-02 stops answering after a while",
        "it reboots every night",
    ],
)
async def test_a_host_said_to_do_something_is_no_order(planner: HybridPlanner, text: str) -> None:
    plan = await policed(planner, text)
    assert not any(s.risk in {Risk.WRITE, Risk.CRITICAL} for s in plan.steps), plan.steps
    assert not plan.requires_approval


@pytest.mark.parametrize(
    "text", ["pg-main drops connections", "app-eu-7 restarts tomcat every hour", "app-eu-8 kills its workers"]
)
async def test_the_same_on_another_inventory(alt: HybridPlanner, text: str) -> None:
    plan = await policed(alt, text)
    assert not any(s.risk in {Risk.WRITE, Risk.CRITICAL} for s in plan.steps), plan.steps


async def test_the_report_then_its_question_gets_the_read(planner: HybridPlanner) -> None:
    assert only(await policed(planner, "web-01 drops connections, show its uptime")) == (
        "automation.system_info",
        ["web-01"],
        {"facts": ["uptime"]},
    )


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("drop web-04 from the inventory", "assets.delete"),
        ("web-01: restart nginx", "automation.service_control"),
        ("web-01 reboot pls", "automation.reboot"),
        ("nginx restart on web-02 pls", "automation.service_control"),
    ],
)
async def test_orders_without_a_subject_stay_orders(planner: HybridPlanner, text: str, tool: str) -> None:
    plan = await policed(planner, text)
    [step] = plan.steps
    assert step.tool == tool
    assert step.risk in {Risk.WRITE, Risk.CRITICAL}  # gated (approval, or refused: assets are the admin's)
