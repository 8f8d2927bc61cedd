"""Every request the bot suggests, collected from its real answers over an inventory, plans as
suggested when sent back: the help text's examples, the forms offered when hosts or arguments are
missing (with `<host>` filled in as the message asks), the way out of an unknown host, what a host
named alone can do, and the change offered when someone only talked about it.

The requests that make the bot ask back are derived from the catalog (each tool's declared
examples with their hosts left out, replaced by an unknown name, or asked about), not listed here.
Each runs over the reference inventory and over one with other names, places and services
(tests/data/inventory_alt.yaml): there the declared examples' hosts are put in its own names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from domains.assets.directory import InMemoryAssetDirectory
from domains.assets.importer import load_inventory
from domains.catalog import build_registry
from domains.packs import SHIPPED
from pipeline.contracts import (
    ExecutionResult,
    Plan,
    PlanStep,
    Risk,
    StepResult,
    TargetResult,
    TargetStatus,
    ToolOutput,
)
from pipeline.planner import HybridPlanner
from pipeline.stages.answer import result_reply
from tests.pipeline.planning import ALT, OPERATOR
from tests.pipeline.planning import REFERENCE as REFERENCE_INVENTORY

REGISTRY = build_registry([SHIPPED])
REFERENCE = sorted({a.name for a in load_inventory(REFERENCE_INVENTORY)}, key=len, reverse=True)
TOOL_FORM = re.compile(r"^([a-z_]+\.[a-z_]+)\b")


@dataclass(frozen=True)
class Bed:
    """A planner over one inventory, and that inventory's names (longest first)."""

    planner: HybridPlanner
    names: list[str]

    def own(self, example: str) -> str:
        """A declared example (written for the reference inventory) naming this inventory's hosts."""
        if self.names == REFERENCE:
            return example
        ordered = sorted(self.names)
        for n, name in enumerate(hosts_in(example, REFERENCE)):
            example = re.sub(rf"(?<![\w=-]){re.escape(name)}(?![\w-])", ordered[n % len(ordered)], example)
        return example


@pytest.fixture(scope="module", params=["reference", "alt"])
def bed(request: pytest.FixtureRequest) -> Bed:
    assets = load_inventory(ALT if request.param == "alt" else REFERENCE_INVENTORY)
    names = sorted({asset.name for asset in assets}, key=len, reverse=True)
    return Bed(HybridPlanner(REGISTRY, InMemoryAssetDirectory(assets)), names)


@pytest.fixture(scope="module")
def planner(bed: Bed) -> HybridPlanner:
    return bed.planner


def offered(plan: Plan) -> list[str]:
    """What an answer offers to send: its suggestion buttons and its `code` spans."""
    return [*plan.suggestions, *re.findall(r"`([^`]+)`", plan.message)]


def hosts_in(text: str, names: list[str]) -> list[str]:
    """The inventory names written as targets (not as an argument's value: `to=web-02`)."""
    return [name for name in names if re.search(rf"(?<![\w=-]){re.escape(name)}(?![\w-])", text)]


def without_hosts(text: str, hosts: list[str]) -> str:
    for name in hosts:
        text = re.sub(rf"\s*\b(?:on|for|to|from|at)?\s*(?<![\w=-]){re.escape(name)}(?![\w-])", "", text)
    return text.strip()


def asking_requests(bed: Bed) -> list[tuple[str, str]]:
    """(request, host to fill in for `<host>`) pairs that make the bot ask back or offer something."""
    found: list[tuple[str, str]] = [("help", bed.names[-1])]
    for spec in REGISTRY:
        for declared in () if spec.source else spec.phrasing.examples:  # the help shows the packs' own
            example = bed.own(declared)
            hosts = hosts_in(example, bed.names)
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


def help_lines(text: str) -> list[str]:
    """The example requests of a help answer (console, Slack's /opsconductor help, Teams)."""
    return [m.group(1).strip() for m in re.finditer(r"^  (\S.*?)(?: {2,}|$)", text, re.MULTILINE)]


async def collected(bed: Bed) -> list[tuple[str, str, str]]:
    """(request, suggestion, host) for every suggestion the answers to the asking requests make."""
    found: list[tuple[str, str, str]] = []
    for text, host in asking_requests(bed):
        plan = await bed.planner.plan(text, OPERATOR)
        found += [(text, s, host) for s in offered(plan)]
    return list(dict.fromkeys(found))


async def test_the_answers_offer_many_kinds_of_suggestions(bed: Bed) -> None:
    found = await collected(bed)
    forms = [s for _, s, _ in found]
    assert len(forms) >= 40
    assert any("<host>" in s for s in forms)  # hosts missing
    assert any(TOOL_FORM.match(s) and "<host>" not in s for s in forms)  # an argument missing
    assert "list all assets" in forms  # an unknown host


async def test_every_suggestion_plans_as_suggested(bed: Bed, planner: HybridPlanner) -> None:
    failures = []
    for text, suggestion, host in await collected(bed):
        sent = suggestion.replace("<host>", host)
        again = await planner.plan(sent, OPERATOR)
        tool = TOOL_FORM.match(sent)
        wanted = tool.group(1) if tool and tool.group(1) in {s.name for s in REGISTRY} else None
        planned = again.outcome == "plan" and bool(again.steps)
        if not planned or (wanted and wanted not in {s.tool for s in again.steps}):
            failures.append((text, sent, again.outcome, again.message[:120]))
    assert failures == []


async def test_help_examples_name_this_inventory_and_plan(bed: Bed, planner: HybridPlanner) -> None:
    """The help's examples name hosts, services and places of the inventory it runs over (never
    the reference inventory's own names elsewhere), cover the catalog's tools, and each plans."""
    helped = (await planner.plan("help", OPERATOR)).message
    lines = help_lines(helped)
    assert len(lines) >= 15 and "<host>" not in helped
    named = {name for line in lines for name in hosts_in(line, bed.names)}
    assert len(named) >= 3
    assert set(hosts_in(helped, REFERENCE)) <= set(bed.names)
    shown = {word for line in helped.splitlines() if line.startswith("  ") for word in line.split()}
    assert {spec.name for spec in REGISTRY if spec.source and spec.phrasing.examples} <= shown
    for line in lines:
        plan = await planner.plan(line, OPERATOR)
        assert plan.outcome == "plan" and plan.steps, (line, plan.message)


async def test_an_empty_inventory_gets_placeholders_and_how_to_import_one() -> None:
    helped = (await HybridPlanner(REGISTRY, InMemoryAssetDirectory([])).plan("help", OPERATOR)).message
    assert "ping <host>" in helped and "`opsconductor assets import inventory.yaml`" in helped
    assert hosts_in(helped, REFERENCE) == []


async def test_recommended_requests_in_answers_plan(bed: Bed, planner: HybridPlanner) -> None:
    """An answer's hint ('`restart nginx on web-01` would start it') is a request that plans."""
    step = PlanStep(id="s1", tool="automation.service_status", risk=Risk.READ)
    state = ToolOutput(
        summary="nginx.service inactive (dead)", data={"service": "nginx", "active": "inactive"}
    )
    result = StepResult(
        step_id="s1",
        tool=step.tool,
        results=(TargetResult(target=bed.names[-1], status=TargetStatus.OK, output=state),),
    )
    reply = result_reply(
        Plan(steps=(step,)), ExecutionResult(execution_id="e", status="succeeded", steps=(result,))
    )
    hinted = [found for r in reply.recommendations for found in re.findall(r"`([^`]+)`", r)]
    assert hinted
    for request in hinted:
        plan = await planner.plan(request, OPERATOR)
        assert plan.outcome == "plan" and plan.steps[0].tool == "automation.service_control", plan.message
