"""Speech acts across clauses, checked on the reference inventory and on another company's
(tests/data/inventory_nordic.yaml: names by purpose, live/test), with the shipped packs loaded:

- a general question (advice, a hypothetical or a concept about a kind of thing, no host meant)
  plans nothing; a question about hosts still reads them;
- a change the person only considers ('before I reboot X, ...') sets the scene for the question
  that follows: only the question's read is planned, and 'it' / 'the box' mean X;
- after a report, an order is still an order ('/var is full on X, run the disk cleanup'), and a
  look is still a read;
- the person's own device ('from my laptop') is where they stand, never a target;
- a group noun ('the api tier', 'the web farm') names several hosts, never asks which one.
"""

from __future__ import annotations

import pytest

from pipeline.contracts import Plan, Risk
from pipeline.planner import HybridPlanner
from pipeline.registry import ToolRegistry
from tests.pipeline.planning import DATA, REFERENCE, planners_fixture, policed

planners = planners_fixture({"reference": REFERENCE, "other": DATA / "inventory_nordic.yaml"})
STATUS, FACTS, PING = "automation.service_status", "automation.system_info", "network.ping"
CONTROL, CLEANUP, PROCESSES = "automation.service_control", "linux.disk_cleanup", "automation.process_list"


@pytest.fixture(scope="module")
def registry(planners: dict[str, HybridPlanner]) -> ToolRegistry:
    return planners["reference"].registry


async def _plan(
    planners: dict[str, HybridPlanner], registry: ToolRegistry, inventory: str, text: str
) -> Plan:
    return await policed(planners[inventory], text)


def _steps(plan: Plan) -> list[tuple[str, list[str]]]:
    return [(s.tool, s.target_names) for s in plan.steps]


@pytest.mark.parametrize(
    ("inventory", "text"),
    [
        ("reference", "is it generally wise to reboot a domain controller in the middle of the day?"),
        ("reference", "would bouncing a redis server lose the keys?"),
        ("reference", "is it ok to stop the print spooler while people are printing?"),
        ("reference", "how does a rolling restart actually work?"),
        ("reference", "what's the difference between stopping and restarting a service?"),
        ("reference", "does rebooting a switch usually drop every connection?"),
        ("reference", "in general, should you restart nginx after changing its config?"),
        ("reference", "is it risky to reboot a database server with open transactions?"),
        ("reference", "should I restart nginx?"),
        ("reference", "what does a reboot actually do to a linux box?"),
        ("reference", "why would anyone restart nginx instead of reloading it?"),
        ("reference", "can restarting postgres corrupt data?"),
        ("reference", "what's the best way to restart a database server?"),
        ("other", "how long does a reboot of a domain controller usually take?"),
        ("other", "can bouncing apache2 drop sessions?"),
        ("other", "would restarting a kafka broker lose messages?"),
        ("other", "is it a good idea to reboot a domain controller during office hours?"),
        ("other", "should you ever stop mariadb without draining it first?"),
        ("other", "hypothetically, what breaks if you stop the spooler on a print server?"),
    ],
)
async def test_a_general_question_plans_nothing(
    planners: dict[str, HybridPlanner], registry: ToolRegistry, inventory: str, text: str
) -> None:
    plan = await _plan(planners, registry, inventory, text)
    assert (plan.outcome, plan.steps, plan.requires_approval) == ("no_action", (), False), text
    assert "general question" in plan.message


@pytest.mark.parametrize(
    ("inventory", "text", "read", "target"),
    [
        ("reference", "should I restart redis on cache-01?", STATUS, "cache-01"),
        ("reference", "is the dc up?", PING, "win-dc-01"),
        ("reference", "is it safe to reboot db-01 now?", FACTS, "db-01"),
        (
            "reference",
            "is it ever a good idea to restart redis on cache-01 during the day?",
            STATUS,
            "cache-01",
        ),
        ("reference", "how do I restart nginx on web-02?", STATUS, "web-02"),
        ("reference", "can restarting nginx on web-01 break anything?", STATUS, "web-01"),
        ("reference", "what's the best way to restart nginx on web-02?", STATUS, "web-02"),
        ("other", "would stopping kafka on queue-node-1 lose messages?", STATUS, "queue-node-1"),
        ("other", "is it ok to bounce apache2 on shopfront-b right now?", STATUS, "shopfront-b"),
        ("other", "is the domain controller reachable?", PING, "ad-main"),
    ],
)
async def test_a_question_about_hosts_still_reads_them(
    planners: dict[str, HybridPlanner],
    registry: ToolRegistry,
    inventory: str,
    text: str,
    read: str,
    target: str,
) -> None:
    plan = await _plan(planners, registry, inventory, text)
    changes = [s.tool for s in plan.steps if s.risk is not Risk.READ and not s.check]
    assert plan.outcome == "plan" and (read, [target]) in _steps(plan), text
    assert changes == [] and not plan.requires_approval


@pytest.mark.parametrize(
    ("inventory", "text", "read", "target", "facts"),
    [
        (
            "reference",
            "before we bounce gunicorn on api-02, how much memory is the box using?",
            FACTS,
            "api-02",
            ["memory"],
        ),
        (
            "reference",
            "about to restart postgresql on db-01 - how full is its disk?",
            FACTS,
            "db-01",
            ["disk"],
        ),
        (
            "reference",
            "thinking of rebooting web-03 tonight, is it even reachable right now?",
            PING,
            "web-03",
            None,
        ),
        (
            "reference",
            "considering a restart of redis on cache-01; how much memory is it using?",
            FACTS,
            "cache-01",
            ["memory"],
        ),
        (
            "reference",
            "I'll probably reboot mon-01 after lunch, how long has it been up?",
            FACTS,
            "mon-01",
            ["uptime"],
        ),
        (
            "reference",
            "planning to stop prometheus on mon-01 later. what's the disk usage there?",
            FACTS,
            "mon-01",
            ["disk"],
        ),
        (
            "other",
            "before I restart mariadb on ledger-db, how much disk is it using?",
            FACTS,
            "ledger-db",
            ["disk"],
        ),
        (
            "other",
            "planning to bounce kafka on queue-node-2 later; is the box reachable?",
            PING,
            "queue-node-2",
            None,
        ),
        (
            "reference",
            "I'd like to bounce nginx on web-03 at some point, is it even running?",
            STATUS,
            "web-03",
            None,
        ),
        (
            "other",
            "I'd like to restart kafka on queue-node-1 eventually; how much memory is it using?",
            FACTS,
            "queue-node-1",
            ["memory"],
        ),
        (
            "other",
            "we might reboot ad-main tonight - how long has it been running?",
            FACTS,
            "ad-main",
            ["uptime"],
        ),
    ],
)
async def test_a_considered_change_only_sets_the_scene_for_the_question(
    planners: dict[str, HybridPlanner],
    registry: ToolRegistry,
    inventory: str,
    text: str,
    read: str,
    target: str,
    facts: list[str] | None,
) -> None:
    plan = await _plan(planners, registry, inventory, text)
    assert plan.outcome == "plan" and _steps(plan) == [(read, [target])], text
    assert facts is None or plan.steps[0].args["facts"] == facts
    assert plan.risk is Risk.READ and not plan.requires_approval


@pytest.mark.parametrize(
    ("inventory", "text", "steps"),
    [
        # an order next to a question: both run, the change behind an approval
        (
            "reference",
            "restart nginx on web-01, then show me its memory",
            [(CONTROL, ["web-01"]), (FACTS, ["web-01"])],
        ),
        # a question about the change keeps its own read next to the other question's
        (
            "reference",
            "should I reboot db-02? how much memory is it using?",
            [(FACTS, ["db-02"]), (FACTS, ["db-02"])],
        ),
        # a tag question asks nothing of its own
        ("reference", "stop prometheus on mon-01 - is that alright with everyone?", [(CONTROL, ["mon-01"])]),
        ("reference", "reboot web-04, would you?", [("automation.reboot", ["web-04"])]),
        ("other", "restart apache2 on shopfront-a, is that ok?", [(CONTROL, ["shopfront-a"])]),
        # a wish with no 'some time later' is an order
        ("reference", "I'd like to bounce nginx on web-03", [(CONTROL, ["web-03"])]),
        ("other", "we'd like to reboot ledger-db", [("automation.reboot", ["ledger-db"])]),
    ],
)
async def test_orders_and_questions_about_changes_keep_their_steps(
    planners: dict[str, HybridPlanner],
    registry: ToolRegistry,
    inventory: str,
    text: str,
    steps: list[tuple[str, list[str]]],
) -> None:
    plan = await _plan(planners, registry, inventory, text)
    assert plan.outcome == "plan" and _steps(plan) == steps, text
    assert plan.requires_approval is (plan.risk is not Risk.READ)


@pytest.mark.parametrize(
    ("inventory", "text", "tool", "target", "args"),
    [
        ("reference", "/var on web-02 is almost full, run the disk cleanup", CLEANUP, "web-02", {}),
        ("reference", "the disk on db-stg-01 is full, clean it up", CLEANUP, "db-stg-01", {}),
        ("reference", "nginx on web-04 is down - start it", CONTROL, "web-04", {"action": "start"}),
        (
            "reference",
            "redis on cache-01 is hung, can you restart it?",
            CONTROL,
            "cache-01",
            {"action": "restart"},
        ),
        (
            "reference",
            "I bounced gunicorn on api-01 this morning, bounce it again",
            CONTROL,
            "api-01",
            {"service": "gunicorn"},
        ),
        (
            "other",
            "apache2 on shopfront-b is stuck, restart it",
            CONTROL,
            "shopfront-b",
            {"action": "restart"},
        ),
        ("other", "ledger-db-test is out of disk, run the disk cleanup on it", CLEANUP, "ledger-db-test", {}),
        (
            "other",
            "I restarted kafka on queue-node-2 an hour ago; restart it once more",
            CONTROL,
            "queue-node-2",
            {"service": "kafka"},
        ),
    ],
)
async def test_an_order_after_a_report_is_an_order(
    planners: dict[str, HybridPlanner],
    registry: ToolRegistry,
    inventory: str,
    text: str,
    tool: str,
    target: str,
    args: dict[str, str],
) -> None:
    plan = await _plan(planners, registry, inventory, text)
    assert plan.outcome == "plan" and _steps(plan) == [(tool, [target])], text
    assert args.items() <= plan.steps[0].args.items() and plan.requires_approval


@pytest.mark.parametrize(
    ("inventory", "text", "read", "target"),
    [
        # a look after a report is a read
        ("reference", "nginx is down on web-01, can you take a look", STATUS, "web-01"),
        ("reference", "redis on cache-01 is hung, is it still running?", STATUS, "cache-01"),
        ("reference", "db-02 is swapping hard, show me the top processes", PROCESSES, "db-02"),
        ("reference", "web-01 is slow, what's its load?", FACTS, "web-01"),
        ("other", "mariadb on ledger-db looks dead - is it running?", STATUS, "ledger-db"),
        # the speaker's own device is where they stand, no target
        ("reference", "is web-03 reachable? it times out from my laptop", PING, "web-03"),
        ("reference", "can't get to db-01 from my workstation, is it down?", PING, "db-01"),
        ("reference", "my vpn keeps dropping, can you ping mon-01", PING, "mon-01"),
        ("reference", "ping web-02 from my machine please", PING, "web-02"),
        ("other", "shopfront-a won't load on my phone, is apache2 running there?", STATUS, "shopfront-a"),
        ("other", "is printsrv up? I can't print from my desktop", PING, "printsrv"),
        ("other", "queue-node-1 is unreachable from our office wifi, ping it", PING, "queue-node-1"),
    ],
)
async def test_a_look_after_a_report_or_from_the_speakers_own_device_reads_the_host(
    planners: dict[str, HybridPlanner],
    registry: ToolRegistry,
    inventory: str,
    text: str,
    read: str,
    target: str,
) -> None:
    plan = await _plan(planners, registry, inventory, text)
    assert plan.outcome == "plan" and _steps(plan) == [(read, [target])], (text, plan.message)
    assert plan.risk is Risk.READ and not plan.requires_approval


@pytest.mark.parametrize(
    ("inventory", "text", "tool", "targets"),
    [
        (
            "reference",
            "planning to bounce the api tier later; are they all up?",
            PING,
            ["api-01", "api-02", "api-stg-01"],
        ),
        ("reference", "restart nginx on the web farm", CONTROL, ["web-01", "web-02", "web-03", "web-04"]),
        ("other", "is the ledger tier up?", PING, ["ledger-db", "ledger-db-test"]),
        (
            "other",
            "planning to reboot the frontend tier later; how much disk are they using?",
            FACTS,
            ["shopfront-a", "shopfront-b"],
        ),
    ],
)
async def test_a_tier_or_a_fleet_is_several_hosts(
    planners: dict[str, HybridPlanner],
    registry: ToolRegistry,
    inventory: str,
    text: str,
    tool: str,
    targets: list[str],
) -> None:
    plan = await _plan(planners, registry, inventory, text)
    assert plan.outcome == "plan" and [(s.tool, sorted(s.target_names)) for s in plan.steps] == [
        (tool, targets)
    ]
