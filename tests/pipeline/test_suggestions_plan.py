"""Every request the bot suggests plans as suggested when sent back: the examples each tool
declares, the readings offered when unsure, and the changes offered when someone only talked
about one (the help's examples: tests/pipeline/test_suggestions_sent_back.py)."""

from __future__ import annotations

import re

import pytest

from domains.catalog import build_registry
from pipeline.planner import HybridPlanner
from tests.pipeline.planning import OPERATOR

REGISTRY = build_registry()
EXAMPLES = [(spec.name, example) for spec in REGISTRY for example in spec.phrasing.examples]


def test_every_tool_declares_examples() -> None:
    assert {spec.name for spec in REGISTRY} == {name for name, _ in EXAMPLES}


@pytest.mark.parametrize(("tool", "example"), EXAMPLES, ids=[e for _, e in EXAMPLES])
async def test_declared_examples_plan_their_tool(planner: HybridPlanner, tool: str, example: str) -> None:
    plan = await planner.plan(example, OPERATOR)
    assert plan.outcome == "plan", plan.message
    assert tool in {s.tool for s in plan.steps}
    assert plan.interpretation is not None and plan.interpretation.confidence >= planner.threshold


@pytest.mark.parametrize(
    "text",
    [
        "should I restart redis on cache-01?",
        "is a reboot of web-04 a good idea right now?",
        "what happens if we stop gunicorn on api-stg-01?",
        "web-01 is acting weird lately, thoughts on the nginx thing",
        "restart something on db-02 or whatever it needs",
    ],
)
async def test_offered_requests_plan_as_offered(planner: HybridPlanner, text: str) -> None:
    plan = await planner.plan(text, OPERATOR)
    offered = list(plan.suggestions) + re.findall(r"`([^`]+)`", plan.message)
    assert offered, plan.message
    for suggestion in offered:
        again = await planner.plan(suggestion, OPERATOR)
        assert again.outcome == "plan" and again.steps, (suggestion, again.message)
        assert again.interpretation is not None and again.interpretation.source == "grammar"
