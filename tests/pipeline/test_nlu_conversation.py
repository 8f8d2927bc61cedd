"""Follow-ups refer back to the same person's last request in the same conversation, kept in the
cache port (in-process here, real Redis across two planners below), and forgotten after a while."""

from __future__ import annotations

import pytest

from adapters.cache import RedisCache
from adapters.cache.inprocess import InProcessCache
from bot.evaluation import load_directory
from domains.catalog import build_registry
from pipeline.contracts import Plan, Principal
from pipeline.conversation import Conversations
from pipeline.planner import HybridPlanner
from tests.pipeline.planning import REFERENCE

ALICE = Principal(subject="alice", roles=frozenset({"operator"}))
BOB = Principal(subject="bob", roles=frozenset({"operator"}))
REGISTRY = build_registry()
DIRECTORY = load_directory(REFERENCE)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def planner(cache: object) -> HybridPlanner:
    return HybridPlanner(REGISTRY, DIRECTORY, conversations=Conversations(cache, ttl_s=600))  # type: ignore[arg-type]


def steps(plan: Plan) -> list[tuple[str, list[str], dict[str, object]]]:
    return [(s.tool, s.target_names, s.args) for s in plan.steps]


async def talk(hybrid: HybridPlanner, *texts: str, who: Principal = ALICE, where: str = "t:1") -> Plan:
    plan = Plan()
    for text in texts:
        plan = await hybrid.plan(text, who, where)
    return plan


@pytest.mark.parametrize(
    ("thread", "tool", "targets", "args"),
    [
        (
            ["check redis on cache-01", "restart it"],
            "automation.service_control",
            ["cache-01"],
            {"action": "restart"},
        ),
        (["disk on db-01", "and on db-02?"], "automation.system_info", ["db-02"], {"facts": ["disk"]}),
        (
            ["uptime on the production db servers", "same for staging"],
            "automation.system_info",
            ["db-stg-01"],
            {},
        ),
        (["ping web-01", "now a traceroute to it"], "network.traceroute", ["web-01"], {}),
        (
            ["which servers run gunicorn?", "ping all of them"],
            "network.ping",
            ["api-01", "api-02", "api-stg-01"],
            {},
        ),
        (["reboot the database server", "the staging one"], "automation.reboot", ["db-stg-01"], {}),
        (
            ["stop nginx on web-01", "actually make that web-02 instead"],
            "automation.service_control",
            ["web-02"],
            {},
        ),
    ],
)
async def test_follow_ups(thread: list[str], tool: str, targets: list[str], args: dict[str, object]) -> None:
    [(got_tool, got_targets, got_args)] = steps(await talk(planner(InProcessCache()), *thread))
    assert (got_tool, sorted(got_targets)) == (tool, sorted(targets))
    assert args.items() <= got_args.items()


async def test_do_it_sends_the_suggested_change() -> None:
    hybrid = planner(InProcessCache())
    asked = await talk(hybrid, "should I restart nginx on web-02?")
    assert [s.tool for s in asked.steps] == ["automation.service_status"] and len(asked.suggestions) == 1
    done = await talk(hybrid, "yes, do it")
    assert steps(done) == [
        ("automation.service_control", ["web-02"], {"service": "nginx", "action": "restart"})
    ]


async def test_a_number_picks_one_of_the_offered_readings() -> None:
    hybrid = planner(InProcessCache())
    unsure = await talk(hybrid, "web-01 is acting weird lately, thoughts on the nginx thing")
    assert unsure.outcome == "clarify" and unsure.suggestions and "1." in unsure.message
    picked = await talk(hybrid, "the first one")
    again = await planner(InProcessCache()).plan(unsure.suggestions[0], ALICE)
    assert steps(picked) == steps(again) and picked.outcome == "plan"


async def test_conversations_and_people_do_not_share_memory() -> None:
    hybrid = planner(InProcessCache())
    await talk(hybrid, "check redis on cache-01")
    assert (await talk(hybrid, "restart it", who=BOB)).outcome == "clarify"
    assert (await talk(hybrid, "restart it", where="t:2")).outcome == "clarify"
    assert (await talk(hybrid, "restart it")).steps[0].tool == "automation.service_control"


async def test_memory_expires() -> None:
    clock = Clock()
    hybrid = planner(InProcessCache(clock=clock))
    await talk(hybrid, "check redis on cache-01")
    clock.now += 601
    assert (await talk(hybrid, "restart it")).outcome == "clarify"


async def test_a_follow_up_reaches_another_replica_through_redis(redis_url: str) -> None:
    first, second = (
        RedisCache.from_url(redis_url, prefix="conv:"),
        RedisCache.from_url(redis_url, prefix="conv:"),
    )
    try:
        await talk(planner(first), "check gunicorn on api-02")
        plan = await talk(planner(second), "restart it")
        assert steps(plan) == [
            ("automation.service_control", ["api-02"], {"service": "gunicorn", "action": "restart"})
        ]
    finally:
        await first.close()
        await second.close()
