"""Two replicas behind one Redis: a delivery retried to the other replica runs once, and a
double click landing on both replicas runs the approved plan once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from adapters.cache import RedisCache
from adapters.slack import SlackAdapter, slack_mount
from bot.server import build_web_app
from tests.adapters.slack.conftest import CALLS, SignedSlack, build_adapter, build_kernel
from tests.fakes.memory import MemoryAuditLog, MemoryExecutionStore
from tests.fakes.slack_api import SlackApiStandIn


@pytest.fixture
async def replicas(api: SlackApiStandIn, redis_url: str) -> AsyncIterator[tuple[SignedSlack, SignedSlack]]:
    """Two adapters, each with its own kernel instance, sharing the store (the database) and Redis."""
    CALLS.clear()
    store, audit = MemoryExecutionStore(), MemoryAuditLog()
    caches = [RedisCache.from_url(redis_url, "test:"), RedisCache.from_url(redis_url, "test:")]
    adapters: list[SlackAdapter] = [
        build_adapter(api.base + "/api/", build_kernel(store, audit), cache, CollectorRegistry())
        for cache in caches
    ]
    async with (
        TestClient(TestServer(build_web_app(mounts=[slack_mount(adapters[0])]), host="127.0.0.1")) as one,
        TestClient(TestServer(build_web_app(mounts=[slack_mount(adapters[1])]), host="127.0.0.1")) as two,
    ):
        yield SignedSlack(one, adapters[0], api), SignedSlack(two, adapters[1], api)
    for cache in caches:
        await cache.close()


async def test_a_retry_on_another_replica_is_deduplicated(
    replicas: tuple[SignedSlack, SignedSlack], api: SlackApiStandIn
) -> None:
    one, two = replicas
    event = {
        "type": "app_mention",
        "user": "U1",
        "text": "<@UBOT> read web-01",
        "ts": "2.000001",
        "channel": "C1",
    }
    assert (await one.event(event, event_id="EvR1")).status == 200
    assert (await two.event(event, event_id="EvR1", retry=1)).status == 200
    assert CALLS == [("read", "web-01")]
    assert len(api.of("chat.postMessage")) == 1


async def test_a_double_click_on_two_replicas_runs_once(
    replicas: tuple[SignedSlack, SignedSlack], api: SlackApiStandIn
) -> None:
    one, two = replicas
    await one.mention("write web-01")
    [(_, ts)] = api.messages
    [post] = api.of("chat.postMessage")
    execution_id = next(b for b in post.args["blocks"] if b["type"] == "actions")["elements"][0]["value"]
    click = one.action_payload("opsconductor_approve", execution_id, message_ts=ts, action_ts="1800000000.1")
    await one.action(click)
    await two.action(click)  # the same delivery on the other replica: dropped by the shared dedupe
    await two.action(two.action_payload("opsconductor_approve", execution_id, message_ts=ts))  # a 2nd click
    assert CALLS == [("write", "web-01")]
    assert len(api.of("chat.update")) == 1
    assert ["already approved" in r["text"] for r in api.responses] == [True]
