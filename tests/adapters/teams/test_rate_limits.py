"""Hole 11: the rate limiter on the Teams door: the message over a person's limit is answered on
its card with one clear sentence, runs nothing, and is counted in /metrics."""

from __future__ import annotations

from adapters.cache import InProcessRateLimiter
from bot.metrics import instrument
from bot.server import REGISTRY_KEY
from pipeline.admission import Admission, Limit
from tests.adapters.teams.cards import card_of, texts
from tests.adapters.teams.conftest import CALLS, World


async def test_a_person_over_the_limit_is_told_and_nothing_runs(world: World) -> None:
    limits = {"person": Limit(1, 60), "channel": Limit(100, 60)}
    world.kernel.admission = Admission(InProcessRateLimiter(), limits)
    instrument(world.kernel, world.teams.client.server.app[REGISTRY_KEY], 600)  # as `serve` does
    for text in ("read web-01", "read web-02"):
        assert (await world.teams.post(world.teams.channel_message(text))).status == 201
    assert CALLS == [("read", "web-01")]
    last = texts(card_of(world.connector.posted()[-1].body))
    assert "You are sending requests faster than I take them" in last
    assert "at most 1 requests per person every 60 s" in last
    metrics = await (await world.teams.client.get("/metrics")).text()
    assert 'opsconductor_rate_limited_total{scope="person"} 1.0' in metrics


async def test_a_burst_of_card_clicks_is_limited_per_channel_and_applies_nothing(world: World) -> None:
    from tests.adapters.teams.test_approvals import ask, click

    execution_id, card = await ask(world)
    world.kernel.admission = Admission(InProcessRateLimiter(), {"channel": Limit(2, 60)})
    for _ in range(2):
        await click(world, world.teams.invoke("approve", "0" * 32, card))
    answer = await click(world, world.teams.invoke("approve", execution_id, card))
    assert "this approval was not applied" in answer["value"]
    assert "at most 2 requests per channel every 60 s" in answer["value"]
    assert CALLS == [] and world.store.approvals[execution_id].state == "pending"
    assert world.connector.of("update") == []
