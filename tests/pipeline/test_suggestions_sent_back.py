"""Every request the bot suggests, collected from its real answers over an inventory, plans as
suggested when sent back: the help text's examples, the forms offered when hosts or arguments are
missing (with `<host>` filled in as the message asks), the way out of an unknown host, what a host
named alone can do, and the change offered when someone only talked about it.

The requests that make the bot ask back are derived from the catalog (each tool's declared
examples with their hosts left out, replaced by an unknown name, or asked about), not listed here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domains.assets.directory import InMemoryAssetDirectory
from domains.assets.importer import load_inventory
from domains.catalog import build_registry
from pipeline import messages
from pipeline.contracts import (
    ExecutionResult,
    Plan,
    PlanStep,
    Principal,
    Risk,
    StepResult,
    TargetResult,
    TargetStatus,
    ToolOutput,
)
from pipeline.planner import HybridPlanner
from pipeline.stages.answer import result_reply

FIXTURE = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "inventory.yaml"
LOCAL = Path(__file__).resolve().parents[1] / "data" / "inventory_fixture_copy.yaml"
OPERATOR = Principal(subject="t-operator", roles=frozenset({"operator"}))
REGISTRY = build_registry()
ASSETS = load_inventory(FIXTURE if FIXTURE.exists() else LOCAL)
NAMES = sorted({asset.name for asset in ASSETS}, key=len, reverse=True)
TOOL_FORM = re.compile(r"^([a-z_]+\.[a-z_]+)\b")


@pytest.fixture(scope="module")
def planner() -> HybridPlanner:
    return HybridPlanner(REGISTRY, InMemoryAssetDirectory(ASSETS))


def offered(plan: Plan) -> list[str]:
    """What an answer offers to send: its suggestion buttons and its `code` spans."""
    return [*plan.suggestions, *re.findall(r"`([^`]+)`", plan.message)]


def hosts_in(text: str) -> list[str]:
    """The inventory names written as targets (not as an argument's value: `to=web-02`)."""
    return [name for name in NAMES if re.search(rf"(?<![\w=-]){re.escape(name)}(?![\w-])", text)]


def without_hosts(text: str, hosts: list[str]) -> str:
    for name in hosts:
        text = re.sub(rf"\s*\b(?:on|for|to|from|at)?\s*(?<![\w=-]){re.escape(name)}(?![\w-])", "", text)
    return text.strip()


def asking_requests() -> list[tuple[str, str]]:
    """(request, host to fill in for `<host>`) pairs that make the bot ask back or offer something."""
    found: list[tuple[str, str]] = [("help", NAMES[-1])]
    for spec in REGISTRY:
        for example in spec.phrasing.examples:
            hosts = hosts_in(example)
            if not hosts:
                continue
            found.append((without_hosts(example, hosts), hosts[0]))
            found.append((example.replace(hosts[0], "zz-unknown-09"), hosts[0]))
            if spec.changes:
                found.append((f"should I {example}?", hosts[0]))
            verbs = spec.phrasing.verbs
            if verbs:
                found.append((f"{verbs[0]} on {hosts[0]}", hosts[0]))
            found.append((hosts[0], hosts[0]))
    return list(dict.fromkeys(found))


def help_lines() -> list[str]:
    """The example requests of the help text (console and Slack's /opsconductor help)."""
    return [m.group(1).strip() for m in re.finditer(r"^  (\S.*?)(?:\s{2,}|$)", messages.HELP, re.MULTILINE)]


async def collected(planner: HybridPlanner) -> list[tuple[str, str, str]]:
    """(request, suggestion, host) for every suggestion the answers to the asking requests make."""
    found: list[tuple[str, str, str]] = []
    for text, host in asking_requests():
        plan = await planner.plan(text, OPERATOR)
        found += [(text, s, host) for s in offered(plan)]
    return list(dict.fromkeys(found))


async def test_the_answers_offer_many_kinds_of_suggestions(planner: HybridPlanner) -> None:
    found = await collected(planner)
    forms = [s for _, s, _ in found]
    assert len(forms) >= 40
    assert any("<host>" in s for s in forms)  # hosts missing
    assert any(TOOL_FORM.match(s) and "<host>" not in s for s in forms)  # an argument missing
    assert "list all assets" in forms  # an unknown host


async def test_every_suggestion_plans_as_suggested(planner: HybridPlanner) -> None:
    failures = []
    for text, suggestion, host in await collected(planner):
        sent = suggestion.replace("<host>", host)
        again = await planner.plan(sent, OPERATOR)
        tool = TOOL_FORM.match(sent)
        wanted = tool.group(1) if tool and tool.group(1) in {s.name for s in REGISTRY} else None
        planned = again.outcome == "plan" and bool(again.steps)
        if not planned or (wanted and wanted not in {s.tool for s in again.steps}):
            failures.append((text, sent, again.outcome, again.message[:120]))
    assert failures == []


@pytest.mark.parametrize("line", help_lines())
async def test_help_text_examples_plan(planner: HybridPlanner, line: str) -> None:
    plan = await planner.plan(line, OPERATOR)
    assert plan.outcome == "plan" and plan.steps, plan.message


async def test_recommended_requests_in_answers_plan(planner: HybridPlanner) -> None:
    """An answer's hint ('`restart nginx on web-01` would start it') is a request that plans."""
    step = PlanStep(id="s1", tool="automation.service_status", risk=Risk.READ)
    state = ToolOutput(
        summary="nginx.service inactive (dead)", data={"service": "nginx", "active": "inactive"}
    )
    result = StepResult(
        step_id="s1",
        tool=step.tool,
        results=(TargetResult(target="web-01", status=TargetStatus.OK, output=state),),
    )
    reply = result_reply(
        Plan(steps=(step,)), ExecutionResult(execution_id="e", status="succeeded", steps=(result,))
    )
    hinted = [found for r in reply.recommendations for found in re.findall(r"`([^`]+)`", r)]
    assert hinted
    for request in hinted:
        plan = await planner.plan(request, OPERATOR)
        assert plan.outcome == "plan" and plan.steps[0].tool == "automation.service_control", plan.message
