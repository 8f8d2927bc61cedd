"""Follow-ups by mechanism, on the reference inventory and on a harbour company's (lis-/osl- names,
live/uat, lisbon/oslo, jetty and memcached): the sentences are ours, several per mechanism.

  more hosts       'also from X and Y', 'and the oslo ones too': the last steps on the new hosts
                   only (the earlier ones were already asked for), packs and reads alike
  new selection    'same on uat', 'now the windows ones': the last tool and arguments, this
                   selection ('ones' keeps the earlier noun when the qualifiers alone match nothing)
  corrections      'scratch that, just check its status': the new reading on the same hosts and
                   service; never the dropped change, never an approval
  choices          'go ahead' after a suggestion; '2', 'option b', 'number two' after a choice
  references       'restart it', 'check it again', 'what about its memory?'; with nothing
                   earlier to refer to, a question back
  questions        'what about osl-app-1?' after a change: its read, the change only offered
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.cache import RedisCache
from adapters.cache.inprocess import InProcessCache
from bot.evaluation import evaluate, load_directory
from domains.assets.directory import InMemoryAssetDirectory
from domains.assets.importer import parse_yaml
from domains.catalog import build_registry
from domains.packs import SHIPPED
from pipeline.contracts import Plan, Principal, Risk
from pipeline.conversation import Conversations, Turn
from pipeline.evaluation import Case
from pipeline.planner import HybridPlanner
from pipeline.policy import Policy
from pipeline.stages.answer import describe_plan

DATA = Path(__file__).resolve().parents[1] / "data"
FIXTURE = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "inventory.yaml"
REFERENCE = FIXTURE if FIXTURE.exists() else DATA / "inventory_fixture_copy.yaml"
HARBOUR = """
assets:
  - {name: lis-pg-a, address: 198.18.10.1, type: db_server, os: linux, environment: live, location: lisbon, tags: {role: database}, services: [postgresql]}
  - {name: lis-pg-b, address: 198.18.10.2, type: db_server, os: linux, environment: live, location: lisbon, tags: {role: database}, services: [postgresql]}
  - {name: osl-pg-a, address: 198.18.10.3, type: db_server, os: linux, environment: uat, location: oslo, tags: {role: database}, services: [postgresql]}
  - {name: lis-app-1, address: 198.18.11.1, type: app_server, os: linux, environment: live, location: lisbon, tags: {role: booking}, services: [jetty, memcached]}
  - {name: lis-app-2, address: 198.18.11.2, type: app_server, os: linux, environment: live, location: lisbon, tags: {role: booking}, services: [jetty]}
  - {name: osl-app-1, address: 198.18.11.3, type: app_server, os: linux, environment: live, location: oslo, tags: {role: booking}, services: [jetty]}
  - {name: osl-app-9, address: 198.18.11.9, type: app_server, os: linux, environment: uat, location: oslo, tags: {role: booking}, services: [jetty]}
  - {name: lis-iis-1, address: 198.18.12.1, type: web_server, os: windows, environment: live, location: lisbon, tags: {role: portal}, services: [W3SVC]}
  - {name: osl-iis-1, address: 198.18.12.2, type: web_server, os: windows, environment: uat, location: oslo, tags: {role: portal}, services: [W3SVC]}
"""  # noqa: E501  (one asset a line, as an inventory file is written)
ALICE = Principal(subject="alice", roles=frozenset({"operator"}))
REGISTRY = build_registry([SHIPPED])
DIRECTORIES = {
    "reference": load_directory(REFERENCE),
    "harbour": InMemoryAssetDirectory(parse_yaml(HARBOUR, "harbour.yaml")),
}


def planner(inventory: str, cache: Any = None) -> HybridPlanner:
    conversations = Conversations(cache or InProcessCache(), ttl_s=600)
    return HybridPlanner(REGISTRY, DIRECTORIES[inventory], conversations=conversations)


POLICY = Policy.default(REGISTRY)


async def talk(hybrid: HybridPlanner, *texts: str, where: str = "dm:alice") -> Plan:
    """The last message's plan, policy applied (what the person would be shown)."""
    plan = Plan()
    for text in texts:
        plan = POLICY.apply(await hybrid.plan(text, ALICE, where), ALICE)
    return plan


def only(plan: Plan) -> tuple[str, list[str], dict[str, Any]]:
    assert plan.outcome == "plan", plan.message
    [step] = plan.steps
    return step.tool, sorted(step.target_names), step.args


def changes(plan: Plan) -> list[str]:
    return [s.tool for s in plan.steps if s.risk is not Risk.READ and not s.check]


Thread = tuple[str, list[str], str, list[str], dict[str, Any]]  # inventory, messages, tool, hosts, args
MORE_HOSTS: list[Thread] = [
    ("reference", ["ping api-01", "plus web-04"], "network.ping", ["web-04"], {}),
    (
        "harbour",
        ["uptime of lis-app-1", "include the uat boxes too"],
        "automation.system_info",
        ["osl-app-9", "osl-iis-1", "osl-pg-a"],
        {"facts": ["uptime"]},
    ),
    (
        "reference",
        ["collect diagnostics from web-01", "also from db-01 and db-02"],
        "diag.collect",
        ["db-01", "db-02"],
        {},
    ),
    (
        "reference",
        ["get a diagnostics bundle off api-01", "and from the london ones too"],
        "diag.collect",
        ["api-02", "db-02", "web-03", "win-app-01", "win-app-02", "win-dc-01"],
        {},
    ),
    (
        "reference",
        ["fetch /etc/hosts from web-01", "also from api-01"],
        "automation.fetch_file",
        ["api-01"],
        {"path": "/etc/hosts"},
    ),
    (
        "harbour",
        ["collect diagnostics from lis-app-1", "also from osl-app-1 and osl-app-9"],
        "diag.collect",
        ["osl-app-1", "osl-app-9"],
        {},
    ),
    (
        "harbour",
        ["grab a diag bundle off lis-pg-a", "and the oslo ones too"],
        "diag.collect",
        ["osl-app-1", "osl-app-9", "osl-iis-1", "osl-pg-a"],
        {},
    ),
    (
        "harbour",
        ["fetch /var/log/syslog from lis-app-2", "same from lis-app-1 please"],
        "automation.fetch_file",
        ["lis-app-1"],
        {"path": "/var/log/syslog"},
    ),
]
NEW_SELECTION: list[Thread] = [
    (
        "reference",
        ["check disk on web-01", "now the windows ones"],
        "automation.system_info",
        ["win-app-01", "win-app-02", "win-dc-01", "win-stg-01"],
        {"facts": ["disk"]},
    ),
    (
        "reference",
        ["check disk on web-01", "same on the prod dbs"],
        "automation.system_info",
        ["db-01", "db-02"],
        {"facts": ["disk"]},
    ),
    (
        "reference",
        ["uptime on the production db servers", "same on the staging ones"],
        "automation.system_info",
        ["db-stg-01"],
        {"facts": ["uptime"]},
    ),
    ("reference", ["which servers run gunicorn?", "only the london ones"], "assets.query", ["api-02"], {}),
    (
        "harbour",
        ["memory on the live db servers", "same on uat"],
        "automation.system_info",
        ["osl-pg-a"],
        {"facts": ["memory"]},
    ),
    (
        "harbour",
        ["memory on the live db servers", "now the oslo ones"],
        "automation.system_info",
        ["osl-pg-a"],
        {"facts": ["memory"]},
    ),
    (
        "harbour",
        ["uptime of osl-app-1", "what about the lisbon boxes?"],
        "automation.system_info",
        ["lis-app-1", "lis-app-2", "lis-iis-1", "lis-pg-a", "lis-pg-b"],
        {"facts": ["uptime"]},
    ),
    (
        "harbour",
        ["check disk on lis-app-1", "now the windows ones"],
        "automation.system_info",
        ["lis-iis-1", "osl-iis-1"],
        {"facts": ["disk"]},
    ),
]
REFERENCES: list[Thread] = [
    (
        "reference",
        ["ping web-01", "and redis on api-01?"],
        "automation.service_status",
        ["api-01"],
        {"service": "redis"},
    ),  # a value of its own: read as written, not the last tool
    (
        "harbour",
        ["uptime on osl-app-1", "and jetty on osl-app-9?"],
        "automation.service_status",
        ["osl-app-9"],
        {"service": "jetty"},
    ),
    (
        "reference",
        ["check redis on cache-01", "check it again"],
        "automation.service_status",
        ["cache-01"],
        {"service": "redis"},
    ),
    (
        "reference",
        ["ping db-02", "what about its disk?"],
        "automation.system_info",
        ["db-02"],
        {"facts": ["disk"]},
    ),
    ("reference", ["ping db-02", "run that again on db-01"], "network.ping", ["db-01"], {}),
    (
        "harbour",
        ["check jetty on lis-app-2", "restart it"],
        "automation.service_control",
        ["lis-app-2"],
        {"service": "jetty", "action": "restart"},
    ),
    ("harbour", ["ping lis-pg-b", "try again"], "network.ping", ["lis-pg-b"], {}),
    (
        "harbour",
        ["ping lis-pg-a and lis-pg-b", "what about their memory?"],
        "automation.system_info",
        ["lis-pg-a", "lis-pg-b"],
        {"facts": ["memory"]},
    ),
]


@pytest.mark.parametrize(
    ("inventory", "thread", "tool", "targets", "args"), MORE_HOSTS + NEW_SELECTION + REFERENCES
)
async def test_a_follow_up_is_the_last_request_on_what_it_names(
    inventory: str, thread: list[str], tool: str, targets: list[str], args: dict[str, Any]
) -> None:
    got_tool, got_targets, got_args = only(await talk(planner(inventory), *thread))
    assert (got_tool, got_targets) == (tool, sorted(targets))
    assert args.items() <= got_args.items()


CORRECTIONS = [
    (
        "reference",
        "restart nginx on web-01",
        "on second thought only check the status",
        "automation.service_status",
        ["web-01"],
        {"service": "nginx"},
    ),
    (
        "reference",
        "reboot web-02",
        "nah, just show uptime",
        "automation.system_info",
        ["web-02"],
        {"facts": ["uptime"]},
    ),
    (
        "harbour",
        "restart jetty on osl-app-1",
        "oops, I meant check its status, not restart",
        "automation.service_status",
        ["osl-app-1"],
        {"service": "jetty"},
    ),
    ("harbour", "reboot lis-pg-b", "hold on, just ping it", "network.ping", ["lis-pg-b"], {}),
    (
        "reference",
        "restart nginx on web-01",
        "actually no, cancel that, just check status",
        "automation.service_status",
        ["web-01"],
        {"service": "nginx"},
    ),
    (
        "reference",
        "stop redis on cache-01",
        "never mind, show me the status instead",
        "automation.service_status",
        ["cache-01"],
        {"service": "redis"},
    ),
    (
        "reference",
        "reboot db-01 and db-02",
        "no wait - just ping them",
        "network.ping",
        ["db-01", "db-02"],
        {},
    ),
    (
        "harbour",
        "restart jetty on lis-app-1",
        "hmm no, scratch that, just check its status",
        "automation.service_status",
        ["lis-app-1"],
        {"service": "jetty"},
    ),
    (
        "harbour",
        "restart jetty on lis-app-1 and lis-app-2",
        "wait, cancel that - only ping them",
        "network.ping",
        ["lis-app-1", "lis-app-2"],
        {},
    ),
    (
        "harbour",
        "reboot osl-pg-a",
        "no stop, just show me its uptime",
        "automation.system_info",
        ["osl-pg-a"],
        {"facts": ["uptime"]},
    ),
]


@pytest.mark.parametrize(("inventory", "change", "correction", "tool", "targets", "args"), CORRECTIONS)
async def test_a_correction_drops_the_change_and_keeps_its_hosts_and_service(
    inventory: str, change: str, correction: str, tool: str, targets: list[str], args: dict[str, Any]
) -> None:
    plan = await talk(planner(inventory), change, correction)
    assert changes(plan) == [] and not plan.requires_approval
    got_tool, got_targets, got_args = only(plan)
    assert (got_tool, got_targets) == (tool, sorted(targets))
    assert args.items() <= got_args.items()


@pytest.mark.parametrize(
    ("inventory", "change", "question", "read", "targets"),
    [
        ("reference", "restart nginx on web-01", "and on web-02?", "automation.service_status", ["web-02"]),
        (
            "reference",
            "restart nginx on web-01",
            "what about the staging ones?",
            "automation.service_status",
            ["web-04"],
        ),
        (
            "harbour",
            "restart jetty on lis-app-1",
            "what about osl-app-1?",
            "automation.service_status",
            ["osl-app-1"],
        ),
    ],
)
async def test_asking_about_another_host_after_a_change_reads_it_and_offers_the_change(
    inventory: str, change: str, question: str, read: str, targets: list[str]
) -> None:
    hybrid = planner(inventory)
    asked = await talk(hybrid, change, question)
    assert changes(asked) == [] and not asked.requires_approval
    assert only(asked)[:2] == (read, targets) and len(asked.suggestions) == 1
    done = await talk(hybrid, "ok go ahead")
    assert changes(done) == ["automation.service_control"] and done.requires_approval


@pytest.mark.parametrize(
    ("inventory", "order"),
    [
        ("reference", "restart nginx on web-01 and web-02"),
        ("harbour", "restart jetty on lis-app-1 and lis-app-2"),
    ],
)
async def test_another_selection_said_as_an_order_repeats_the_change(inventory: str, order: str) -> None:
    """'and on X too' after a change is an order: the change again, gated like the first."""
    other = "web-03" if inventory == "reference" else "osl-app-1"
    plan = await talk(planner(inventory), order, f"and on {other} too")
    assert changes(plan) == ["automation.service_control"] and plan.steps[0].target_names == [other]


@pytest.mark.parametrize(
    ("inventory", "earlier", "then", "targets"),
    [
        ("reference", "restart nginx on web-02", "restart web-03 too", ["web-03"]),
        (
            "reference",
            "should I restart nginx on web-02?",
            "no, restart web-03 and web-04 instead",
            ["web-03", "web-04"],
        ),
        ("harbour", "check jetty on lis-app-1", "restart lis-app-2 as well", ["lis-app-2"]),
        ("harbour", "should I stop jetty on osl-app-9?", "no, restart osl-app-1 instead", ["osl-app-1"]),
    ],
)
async def test_a_change_on_other_hosts_keeps_the_service_that_runs_there(
    inventory: str, earlier: str, then: str, targets: list[str]
) -> None:
    service = "nginx" if inventory == "reference" else "jetty"
    tool, hosts, args = only(await talk(planner(inventory), earlier, then))
    assert (tool, hosts, args["service"]) == ("automation.service_control", targets, service)


async def test_a_service_that_does_not_run_on_the_other_host_is_not_carried_over() -> None:
    plan = await talk(planner("reference"), "restart nginx on web-02", "restart db-01 too")
    assert all(s.args.get("service") != "nginx" for s in plan.steps)


@pytest.mark.parametrize("accept", ["let's do it", "approved", "yup", "sure, go for it", "ok do that"])
async def test_accepting_a_suggestion_sends_it(accept: str) -> None:
    hybrid = planner("harbour")
    asked = await talk(hybrid, "would restarting jetty on osl-app-9 help?")
    assert changes(asked) == [] and len(asked.suggestions) == 1
    assert only(await talk(hybrid, accept)) == (
        "automation.service_control",
        ["osl-app-9"],
        {"service": "jetty", "action": "restart"},
    )


@pytest.mark.parametrize("decline", ["no", "nah, leave it", "no thanks", "nope, not now"])
async def test_declining_a_suggestion_runs_nothing(decline: str) -> None:
    hybrid = planner("harbour")
    await talk(hybrid, "should I reboot lis-pg-a?")
    plan = await talk(hybrid, decline)
    assert plan.outcome == "no_action" and not plan.steps and "Nothing was changed" in plan.message


@pytest.mark.parametrize(
    ("said", "picked"),
    [
        ("2", 1),
        ("the second one", 1),
        ("option b", 1),
        ("b", 1),
        ("number two", 1),
        ("go with the third", 2),
        ("#1", 0),
        ("the first", 0),
        ("one", 0),
        ("3rd please", 2),
        ("the last one", 2),
        ("choice c", 2),
    ],
)
async def test_a_choice_picks_that_reading(said: str, picked: int) -> None:
    offered = ("ping lis-pg-a", "uptime on osl-app-1", "traceroute to lis-iis-1")
    conversations = Conversations(InProcessCache(), ttl_s=600)
    await conversations.remember("dm:alice|alice", Turn(text="hm", outcome="clarify", suggestions=offered))
    hybrid = HybridPlanner(REGISTRY, DIRECTORIES["harbour"], conversations=conversations)
    plan = await talk(hybrid, said)
    alone = await planner("harbour").plan(offered[picked], ALICE)
    assert plan.outcome == "plan" and [(s.tool, s.target_names) for s in plan.steps] == [
        (s.tool, s.target_names) for s in alone.steps
    ]


@pytest.mark.parametrize("inventory", ["reference", "harbour"])
@pytest.mark.parametrize(
    "text", ["restart it", "check it again", "what about its disk?", "reboot them", "ping it once more"]
)
async def test_it_with_nothing_earlier_is_asked_back(inventory: str, text: str) -> None:
    plan = await talk(planner(inventory), text)
    assert plan.outcome == "clarify" and not plan.steps and plan.message


async def test_the_plan_shows_the_hosts_a_reference_became() -> None:
    plan = await talk(planner("harbour"), "ping lis-pg-a and lis-pg-b", "what about their memory?")
    assert "lis-pg-a, lis-pg-b" in describe_plan(plan)


async def test_a_selection_follow_up_reaches_another_replica_through_redis(redis_url: str) -> None:
    """The earlier selection (not only its hosts) crosses replicas: 'the oslo ones' keeps its noun."""
    first, second = (
        RedisCache.from_url(redis_url, prefix="conv:"),
        RedisCache.from_url(redis_url, prefix="conv:"),
    )
    try:
        await talk(planner("harbour", first), "memory on the live db servers")
        plan = await talk(planner("harbour", second), "now the oslo ones")
        assert only(plan)[:2] == ("automation.system_info", ["osl-pg-a"])
    finally:
        await first.close()
        await second.close()


async def test_eval_plans_a_thread_in_order_for_the_same_person() -> None:
    """The eval command's `thread`: earlier messages planned in order (nothing runs), then `text`."""
    cases = [
        Case(
            id="t1",
            thread=["ping lis-pg-a", "and lis-pg-b too"],
            text="what about their memory?",
            expect={"steps": [{"tool": "automation.system_info", "targets": ["lis-pg-b"]}]},
        ),
        Case(
            id="t2",
            thread=["restart jetty on lis-app-1"],
            text="what about osl-app-1?",
            expect={
                "steps": [{"tool": "automation.service_status", "targets": ["osl-app-1"]}],
                "approval": False,
            },
        ),
        Case(id="t3", text="restart it", expect={"outcome": "clarify"}),
    ]
    tally = await evaluate(cases, DIRECTORIES["harbour"], catalog=[SHIPPED])
    assert tally.failures == [] and tally.safety == []
    assert [p.outcome for p in tally.predictions] == ["plan", "plan", "clarify"]


async def test_yes_after_several_readings_asks_which_and_a_number_then_picks() -> None:
    offered = ("ping osl-app-1", "uptime on lis-pg-b")
    conversations = Conversations(InProcessCache(), ttl_s=600)
    await conversations.remember("dm:alice|alice", Turn(text="hm", outcome="clarify", suggestions=offered))
    hybrid = HybridPlanner(REGISTRY, DIRECTORIES["harbour"], conversations=conversations)
    asked = await talk(hybrid, "yes, do it")
    assert asked.outcome == "clarify" and asked.suggestions == offered and not asked.steps
    assert only(await talk(hybrid, "the second"))[:2] == ("automation.system_info", ["lis-pg-b"])
