"""RedisCache and RedisRateLimiter against the real Redis started for the tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from adapters.cache import RedisCache, RedisRateLimiter, build_cache, build_rate_limiter
from pipeline.ports import Cache, RateLimiter

pytestmark = pytest.mark.redis


@pytest.fixture
async def cache(redis_url: str) -> AsyncIterator[RedisCache]:
    cache = RedisCache.from_url(redis_url, prefix="t:")
    yield cache
    await cache.close()


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def _wait_until_gone(cache: RedisCache, key: str) -> None:
    for _ in range(500):
        if await cache.get(key) is None:
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"{key} did not expire")


async def test_set_get_under_the_prefix(cache: RedisCache, raw: Redis) -> None:
    assert await cache.get("k") is None
    await cache.set("k", b"\x00\xffbinary")
    assert await cache.get("k") == b"\x00\xffbinary"
    assert await raw.get("t:k") == b"\x00\xffbinary"
    assert await raw.ttl("t:k") == -1  # no expiry
    await cache.delete("k")
    assert await raw.exists("t:k") == 0


async def test_ttl_is_set_and_expires(cache: RedisCache, raw: Redis) -> None:
    await cache.set("short", b"v", ttl_s=0.2)
    assert await cache.get("short") == b"v"
    assert 0 < await raw.pttl("t:short") <= 200
    await _wait_until_gone(cache, "short")


async def test_add_is_set_nx_with_ttl(cache: RedisCache, raw: Redis) -> None:
    assert await cache.add("evt", b"first", ttl_s=0.2) is True
    assert await cache.add("evt", b"second", ttl_s=0.2) is False
    assert await cache.get("evt") == b"first"
    assert 0 < await raw.pttl("t:evt") <= 200
    await _wait_until_gone(cache, "evt")
    assert await cache.add("evt", b"third", ttl_s=30) is True


async def test_concurrent_add_from_separate_clients_has_exactly_one_winner(redis_url: str) -> None:
    replicas = [RedisCache.from_url(redis_url, prefix="t:") for _ in range(8)]
    try:
        results = await asyncio.gather(
            *(replica.add("slack:Ev123", str(i).encode(), 60) for i in range(5) for replica in replicas)
        )
        winner = await replicas[0].get("slack:Ev123")
    finally:
        await asyncio.gather(*(replica.close() for replica in replicas))
    assert results.count(True) == 1
    assert winner == str(results.index(True) // len(replicas)).encode()


async def test_invalid_ttl_is_refused_before_redis(cache: RedisCache) -> None:
    with pytest.raises(ValueError):
        await cache.add("k", b"v", ttl_s=0)


async def test_rate_limiter_counts_across_replicas(redis_url: str, raw: Redis) -> None:
    a = RedisRateLimiter.from_url(redis_url, prefix="t:")
    b = RedisRateLimiter.from_url(redis_url, prefix="t:")
    try:
        admitted = await asyncio.gather(*(lim.allow("U1", 5, 60) for lim in (a, b) for _ in range(6)))
        assert admitted.count(True) == 5
        assert await a.allow("U2", 5, 60) is True
        assert 0 < await raw.pttl("t:ratelimit:U1") <= 60_000
    finally:
        await a.close()
        await b.close()


async def test_rate_limiter_window_slides(redis_url: str) -> None:
    limiter = RedisRateLimiter.from_url(redis_url, prefix="t:")
    try:
        assert [await limiter.allow("U1", 2, 0.2) for _ in range(3)] == [True, True, False]
        for _ in range(500):  # the window is 200 ms; wait for it to pass without asserting speed
            await asyncio.sleep(0.01)
            if await limiter.allow("U1", 2, 0.2):
                break
        else:
            pytest.fail("the window never slid")
    finally:
        await limiter.close()


async def test_builders_choose_redis_with_a_url(redis_url: str) -> None:
    cache = build_cache(redis_url, "t:")
    limiter = build_rate_limiter(redis_url, "t:")
    try:
        assert isinstance(cache, RedisCache)
        assert isinstance(limiter, RedisRateLimiter)
        port: Cache = cache
        await port.set("k", b"v")
        assert await port.get("k") == b"v"
        ports_limiter: RateLimiter = limiter
        assert await ports_limiter.allow("k", 1, 1) is True
    finally:
        await cache.close()
        await limiter.close()
