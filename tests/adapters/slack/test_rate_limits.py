"""Hole 11: the rate limiter is wired on the Slack door, per person and per channel, through
real signed requests: the request over the limit gets one clear sentence in its thread, runs
nothing and is counted in /metrics (in-process limiter and real Redis)."""

from __future__ import annotations

from adapters.cache import InProcessRateLimiter, RedisRateLimiter
from bot.metrics import instrument
from pipeline.admission import Admission, Limit
from tests.adapters.slack.conftest import CALLS, World
from tests.adapters.slack.test_requests import texts

LIMITED = "You are sending requests faster than I take them"


def limit(world: World, limiter: object, *, person: int = 100, channel: int = 100) -> None:
    limits = {"person": Limit(person, 60), "channel": Limit(channel, 60)}
    world.kernel.admission = Admission(limiter, limits)  # type: ignore[arg-type]
    instrument(world.kernel, world.registry, 600)  # as `serve` does: counts refusals


def replies(world: World) -> list[str]:
    return [texts(p.args["blocks"]) for p in world.api.of("chat.postMessage")]


async def metrics(world: World) -> str:
    return await (await world.slack.client.get("/metrics")).text()


async def test_a_person_over_the_limit_gets_a_clear_reply_and_nothing_runs(world: World) -> None:
    limit(world, InProcessRateLimiter(), person=2)
    for host in ("web-01", "web-02", "web-03"):
        assert (await world.slack.mention(f"read {host}")).status == 200
    assert CALLS == [("read", "web-01"), ("read", "web-02")]
    last = replies(world)[-1]
    assert LIMITED in last and "at most 2 requests per person every 60 s" in last
    assert 'opsconductor_rate_limited_total{scope="person"} 1.0' in await metrics(world)
    assert (await world.slack.mention("read web-04", user="U3")).status == 200  # others are not held up
    assert CALLS[-1] == ("read", "web-04")


async def test_a_busy_channel_is_limited_across_people(world: World) -> None:
    limit(world, InProcessRateLimiter(), channel=2)
    await world.slack.mention("read web-01", user="U1")
    await world.slack.mention("read web-02", user="U3")
    await world.slack.mention("read web-03", user="U3")
    assert CALLS == [("read", "web-01"), ("read", "web-02")]
    assert "at most 2 requests per channel every 60 s" in replies(world)[-1]
    await world.slack.dm("read web-05", user="U3")  # another conversation
    assert CALLS[-1] == ("read", "web-05")
    assert 'opsconductor_rate_limited_total{scope="channel"} 1.0' in await metrics(world)


async def test_limits_are_counted_in_redis(world: World, redis_url: str) -> None:
    limiter = RedisRateLimiter.from_url(redis_url, prefix="t:")
    try:
        limit(world, limiter, person=1)
        await world.slack.mention("read web-01")
        await world.slack.command("read web-02")  # another door of the same platform, same person
        assert CALLS == [("read", "web-01")]
        assert LIMITED in replies(world)[-1]  # the command's answer, posted in the channel
        assert 'opsconductor_rate_limited_total{scope="person"} 1.0' in await metrics(world)
    finally:
        await limiter.close()


async def test_approval_clicks_count_against_the_limits_and_apply_nothing_when_over(world: World) -> None:
    from tests.adapters.slack.test_approvals import ask

    execution_id, ts, _ = await ask(world)
    limit(world, InProcessRateLimiter(), person=2)
    for _ in range(2):  # clicks on a run that does not exist: each costs an identity lookup
        await world.slack.action(world.slack.action_payload("opsconductor_reject", "0" * 32, message_ts=ts))
    await world.slack.action(world.slack.action_payload("opsconductor_approve", execution_id, message_ts=ts))
    assert CALLS == [] and world.store.approvals[execution_id].state == "pending"
    assert world.api.of("chat.update") == []  # the prompt stays; only the clicker is told
    told = world.api.responses[-1]
    assert told["response_type"] == "ephemeral"
    assert "this approval was not applied" in told["text"] and "at most 2 requests per person" in told["text"]
    assert 'opsconductor_rate_limited_total{scope="person"} 1.0' in await metrics(world)


async def test_a_limited_check_first_click_is_named_as_a_check(world: World) -> None:
    from tests.adapters.slack.test_approvals import ask

    execution_id, ts, _ = await ask(world)
    limit(world, InProcessRateLimiter(), person=1)
    await world.slack.action(world.slack.action_payload("opsconductor_reject", "0" * 32, message_ts=ts))
    await world.slack.action(world.slack.action_payload("opsconductor_check", execution_id, message_ts=ts))
    told = world.api.responses[-1]["text"]
    assert "this check was not applied" in told and "rejection" not in told
    assert CALLS == [] and world.store.approvals[execution_id].state == "pending"
