"""A change no tool offers, when only asked about, is answered by the read; usage words ('eating',
'hogging') report on a fact; a named template is the notification's template, not its message."""

from __future__ import annotations

import pytest

from pipeline.planner import HybridPlanner
from tests.pipeline.planning import OPERATOR


async def test_asking_whether_an_unoffered_change_is_needed_gets_the_read(planner: HybridPlanner) -> None:
    plan = await planner.plan("do we have to wipe the scratch disk on db-02 or is space fine?", OPERATOR)
    assert [(s.tool, s.args.get("facts")) for s in plan.steps] == [("automation.system_info", ["disk"])]


async def test_ordering_an_unoffered_change_is_still_asked_back(planner: HybridPlanner) -> None:
    plan = await planner.plan("wipe the scratch disk on db-02", OPERATOR)
    assert plan.outcome == "clarify" and not plan.steps


@pytest.mark.parametrize("verb", ["eating", "hogging", "using"])
async def test_usage_words_report_on_the_fact(planner: HybridPlanner, verb: str) -> None:
    plan = await planner.plan(f"how much memory is mon-01 {verb}", OPERATOR)
    assert [(s.tool, s.args.get("facts")) for s in plan.steps] == [("automation.system_info", ["memory"])]


@pytest.mark.parametrize("link", ["using", "with"])
async def test_a_named_template_is_the_template(planner: HybridPlanner, link: str) -> None:
    plan = await planner.plan(f"email oncall@example.com {link} the db-failover template", OPERATOR)
    assert plan.outcome == "plan", plan.message
    args = plan.steps[0].args
    assert (args["template"], args.get("message") or "") == ("db-failover", "")


async def test_a_template_after_a_channel_is_understood_with_confidence(planner: HybridPlanner) -> None:
    plan = await planner.plan(
        "notify the slack channel platform-oncall using the weekly-report template", OPERATOR
    )
    assert plan.outcome == "plan", plan.message
    assert (plan.steps[0].args["channel"], plan.steps[0].args["template"]) == ("slack", "weekly-report")


@pytest.mark.parametrize(
    "reason", ["need to resize its volume", "we're going to migrate it to new hardware", "i need to patch it"]
)
async def test_the_speakers_own_plans_after_a_request_ask_for_nothing(
    planner: HybridPlanner, reason: str
) -> None:
    plan = await planner.plan(f"please stop prometheus on mon-01 for a while, {reason}", OPERATOR)
    assert plan.outcome == "plan", plan.message
    assert [(s.tool, s.args.get("action")) for s in plan.steps] == [("automation.service_control", "stop")]


async def test_an_unoffered_change_on_its_own_is_still_asked_back(planner: HybridPlanner) -> None:
    plan = await planner.plan("need to resize the volume on mon-01", OPERATOR)
    assert plan.outcome == "clarify" and not plan.steps
