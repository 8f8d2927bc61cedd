"""Speech acts: only an order plans a change. Talk about a change plans its declared matching read
and offers the change as a suggestion that plans the change when sent back; a hypothetical also
plans the change as a check (read-only probes) when the tool declares one."""

from __future__ import annotations

import pytest

from domains.catalog import build_registry
from pipeline.contracts import Risk
from pipeline.planner import HybridPlanner
from pipeline.policy import Policy
from tests.pipeline.planning import OPERATOR

REGISTRY = build_registry()


@pytest.mark.parametrize(
    ("text", "tool", "targets"),
    [
        ("go on and stop redis on cache-01 please", "automation.service_control", ["cache-01"]),
        ("could you kick nginx on web-03 for me?", "automation.service_control", ["web-03"]),
        ("I want gunicorn restarted on api-01", "automation.service_control", ["api-01"]),
        ("let's have web-04 rebooted", "automation.reboot", ["web-04"]),
        ("why don't you restart postgres on db-stg-01", "automation.service_control", ["db-stg-01"]),
        ("we need a restart of redis on api-02", "automation.service_control", ["api-02"]),
    ],
)
async def test_orders_plan_the_change(
    planner: HybridPlanner, text: str, tool: str, targets: list[str]
) -> None:
    plan = Policy.default(REGISTRY).apply(await planner.plan(text, OPERATOR), OPERATOR)
    assert [(s.tool, s.target_names) for s in plan.steps] == [(tool, targets)]
    assert plan.requires_approval and not plan.suggestions


HYPOTHETICALS = {"what would happen if we rebooted web-04?", "would stopping nginx on web-01 hurt the shop?"}


@pytest.mark.parametrize(
    ("text", "read", "change"),
    [
        ("should we bounce postgres on db-02?", "automation.service_status", "automation.service_control"),
        ("what would happen if we rebooted web-04?", "automation.system_info", "automation.reboot"),
        ("is rebooting cache-01 safe right now?", "automation.system_info", "automation.reboot"),
        (
            "would stopping nginx on web-01 hurt the shop?",
            "automation.service_status",
            "automation.service_control",
        ),
        ("redis on api-01 won't start again", "automation.service_status", ""),
        ("nginx on web-02 keeps restarting", "automation.service_status", ""),
        ("how do I restart gunicorn on api-02?", "automation.service_status", "automation.service_control"),
        ("has anybody restarted redis on api-02 today?", "automation.service_status", ""),
        ("was db-01 rebooted during the night?", "automation.system_info", ""),
    ],
)
async def test_talk_about_a_change_reads_and_suggests(
    planner: HybridPlanner, text: str, read: str, change: str
) -> None:
    plan = Policy.default(REGISTRY).apply(await planner.plan(text, OPERATOR), OPERATOR)
    assert plan.outcome == "plan" and [s.tool for s in plan.steps if not s.check] == [read]
    assert plan.risk is Risk.READ and not plan.requires_approval
    checks = [s.tool for s in plan.steps if s.check]  # a hypothetical also runs the change's check
    assert checks == ([change] if text in HYPOTHETICALS else [])
    if change:
        [suggestion] = plan.suggestions
        again = await planner.plan(suggestion, OPERATOR)
        assert [s.tool for s in again.steps] == [change]
        assert again.steps[0].target_names == plan.steps[0].target_names


async def test_a_past_question_suggests_nothing(planner: HybridPlanner) -> None:
    plan = await planner.plan("did someone bounce nginx on web-03 this morning?", OPERATOR)
    assert [s.tool for s in plan.steps] == ["automation.service_status"] and plan.suggestions == ()


async def test_a_question_without_a_matching_read_only_offers_the_change(planner: HybridPlanner) -> None:
    plan = await planner.plan('should I run "df -h" on web-01?', OPERATOR)
    assert plan.outcome == "no_action" and not plan.steps
    [suggestion] = plan.suggestions
    again = await planner.plan(suggestion, OPERATOR)
    assert [(s.tool, s.args["command"]) for s in again.steps] == [("automation.run_command", "df -h")]
