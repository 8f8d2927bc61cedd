"""Two replicas behind one Redis: a delivery retried to the other replica runs once, clicks on
both run the plan once, and a request taken by one replica is answered later by the other
(conversation references and approval cards live in Redis)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from adapters.cache import RedisCache
from adapters.teams import TeamsConfig
from bot.sweeper import sweep_once
from tests.adapters.teams.cards import actions, card_of, texts
from tests.adapters.teams.conftest import CALLS, World, make_world
from tests.fakes.bot_connector import BotConnectorStandIn
from tests.fakes.memory import MemoryExecutionStore


@pytest.fixture
async def replicas(connector: BotConnectorStandIn, redis_url: str) -> AsyncIterator[tuple[World, World]]:
    store = MemoryExecutionStore()
    caches = [RedisCache.from_url(redis_url, "test:"), RedisCache.from_url(redis_url, "test:")]
    config = TeamsConfig(progress_interval_s=0.5, workers=2)
    one = make_world(connector, config, cache=caches[0], store=store)
    two = make_world(connector, config, cache=caches[1], store=store)
    yield await anext(one), await anext(two)
    for world in (two, one):
        with pytest.raises(StopAsyncIteration):
            await anext(world)
    for cache in caches:
        await cache.close()


async def test_a_redelivery_to_the_other_replica_runs_once(replicas: tuple[World, World]) -> None:
    one, two = replicas
    activity = one.teams.channel_message("read web-01")
    await one.teams.post(activity)
    await two.teams.post(activity)
    assert CALLS == [("read", "web-01")]
    assert len(one.connector.posted()) == 1


async def test_clicks_on_both_replicas_run_the_plan_once(replicas: tuple[World, World]) -> None:
    one, two = replicas
    await one.teams.post(one.teams.channel_message("write web-01"))
    [prompt] = one.connector.posted()
    execution_id = actions(card_of(prompt.body))[0]["data"]["execution_id"]
    card = (prompt.conversation, next(i for i, b in one.connector.messages.items() if b is prompt.body))
    answers = await asyncio.gather(
        one.teams.post(one.teams.invoke("approve", execution_id, card), drain=False),
        two.teams.post(two.teams.invoke("approve", execution_id, card, user="U2"), drain=False),
    )
    await one.adapter.drain()
    await two.adapter.drain()
    assert CALLS == [("write", "web-01")]
    bodies = [await a.json() for a in answers]
    assert sorted(b["type"] for b in bodies) == [
        "application/vnd.microsoft.activity.message",
        "application/vnd.microsoft.card.adaptive",
    ]


async def test_the_other_replica_answers_a_request_later(replicas: tuple[World, World]) -> None:
    one, two = replicas
    await one.teams.post(one.teams.channel_message("write web-01"))
    [prompt] = one.connector.posted()
    card_id = next(i for i, b in one.connector.messages.items() if b is prompt.body)
    two.clock.offset = timedelta(hours=1)
    assert await sweep_once(two.kernel.expire_due, {"teams": two.adapter.deliver}) == 1
    [update] = two.connector.of("update")
    assert update.activity_id == card_id
    assert "expired" in texts(card_of(two.connector.messages[card_id]))
