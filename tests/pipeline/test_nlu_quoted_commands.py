"""A bot command quoted inside a message is what the message talks about: asked about ('should I
/opsconductor ...?', 'is it safe to run `/opsconductor ...`?') it gets the change's matching read
and the command offered back, never the change, a command line or a path of its own; sent ('please
run `/opsconductor ...`') it is the order. On the reference inventory and on another company's."""

from __future__ import annotations

import pytest

from pipeline.contracts import Risk
from pipeline.nlu.acts import Act
from pipeline.nlu.embedded import Embedded, embedded_command
from pipeline.planner import HybridPlanner
from pipeline.registry import ToolRegistry
from tests.pipeline.planning import DATA, OPERATOR, REFERENCE, catalog, planner_on


@pytest.fixture(scope="module")
def registry() -> ToolRegistry:
    return catalog(packs=True)


@pytest.fixture(scope="module")
def reference(registry: ToolRegistry) -> HybridPlanner:
    return planner_on(REFERENCE, registry)


@pytest.fixture(scope="module")
def retail(registry: ToolRegistry) -> HybridPlanner:
    return planner_on(DATA / "inventory_reads.yaml", registry)


@pytest.mark.parametrize(
    ("text", "command", "act"),
    [
        ("should I /opsconductor reboot db-02?", "reboot db-02", Act.ADVICE),
        ("is it safe to run `/opsconductor reboot db-02`?", "reboot db-02", Act.ADVICE),
        ('what does "/opsconductor automation.reboot web-01" do', "automation.reboot web-01", Act.QUESTION),
        ("did anyone send `/opsconductor reboot db-02` last night?", "reboot db-02", Act.PAST),
        ("please run `/opsconductor ping api.example.com`", "ping api.example.com", Act.ORDER),
    ],
)
def test_the_quoted_command_and_the_act_around_it(text: str, command: str, act: Act) -> None:
    assert embedded_command(text) == Embedded(command, act)


@pytest.mark.parametrize("text", ["/opsconductor reboot db-02", "reboot db-02", "restart `nginx` on web-01"])
def test_a_message_that_is_the_command_embeds_none(text: str) -> None:
    assert embedded_command(text) is None


@pytest.mark.parametrize(
    ("text", "tool", "args", "targets"),
    [
        (
            "should I /opsconductor windows.service_restart W3SVC on win-app-01?",
            "automation.service_status",
            {"service": "W3SVC"},
            ["win-app-01"],
        ),
        (
            "is it safe to run `/opsconductor reboot db-02`?",
            "automation.system_info",
            {"facts": ["uptime"]},
            ["db-02"],
        ),
        (
            "would `/opsconductor service_control web-01 service=nginx action=stop` be a good idea?",
            "automation.service_status",
            {"service": "nginx"},
            ["web-01"],
        ),
        (
            "what does `/opsconductor restart redis on cache-01` actually do?",
            "automation.service_status",
            {"service": "redis"},
            ["cache-01"],
        ),
    ],
)
async def test_asked_about_it_plans_the_matching_read(
    reference: HybridPlanner,
    registry: ToolRegistry,
    text: str,
    tool: str,
    args: dict[str, object],
    targets: list[str],
) -> None:
    plan = await reference.plan(text, OPERATOR)
    assert plan.outcome == "plan", plan.message
    assert [(s.tool, dict(s.args), s.target_names) for s in plan.steps] == [(tool, args, targets)]
    assert all(registry.get(s.tool).risk is Risk.READ for s in plan.steps)
    assert "`" in plan.message  # the command, offered back in the structured form


async def test_on_another_inventory(retail: HybridPlanner) -> None:
    plan = await retail.plan(
        "should we /opsconductor windows.service_restart W3SVC on ber-erp-1 now?", OPERATOR
    )
    assert [(s.tool, s.args, s.target_names) for s in plan.steps] == [
        ("automation.service_status", {"service": "W3SVC"}, ["ber-erp-1"])
    ]


async def test_asked_about_the_past_offers_nothing(reference: HybridPlanner) -> None:
    plan = await reference.plan("did someone run /opsconductor reboot db-02 last night?", OPERATOR)
    assert [(s.tool, s.args) for s in plan.steps] == [("automation.system_info", {"facts": ["uptime"]})]
    assert not plan.suggestions


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("please run `/opsconductor reboot db-02`", "automation.reboot"),
        ("can you send /opsconductor restart nginx on web-02", "automation.service_control"),
        ("/opsconductor windows.service_restart win-app-01 service=W3SVC", "windows.service_restart"),
        ("restart postgres on db-01", "automation.service_control"),
    ],
)
async def test_sent_it_is_the_order(reference: HybridPlanner, text: str, tool: str) -> None:
    plan = await reference.plan(text, OPERATOR)
    assert [s.tool for s in plan.steps] == [tool]
