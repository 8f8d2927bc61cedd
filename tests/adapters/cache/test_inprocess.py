"""InProcessCache and InProcessRateLimiter: TTL on a monotonic clock, LRU bounds, SET NX."""

from __future__ import annotations

import asyncio

import pytest

from adapters.cache import InProcessCache, InProcessRateLimiter, build_cache, build_rate_limiter
from pipeline.ports import Cache, RateLimiter


class ManualClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


async def test_get_returns_what_set_stored(clock: ManualClock) -> None:
    cache = InProcessCache(clock=clock)
    assert await cache.get("k") is None
    await cache.set("k", b"v1")
    await cache.set("k", b"v2")
    assert await cache.get("k") == b"v2"


async def test_ttl_expires_on_the_clock(clock: ManualClock) -> None:
    cache = InProcessCache(clock=clock)
    await cache.set("k", b"v", ttl_s=10)
    clock.now += 9.999
    assert await cache.get("k") == b"v"
    clock.now += 0.001
    assert await cache.get("k") is None
    assert len(cache) == 0


async def test_set_without_ttl_never_expires(clock: ManualClock) -> None:
    cache = InProcessCache(clock=clock)
    await cache.set("k", b"v", ttl_s=1)
    await cache.set("k", b"v")  # replaces the TTL too, as Redis SET does
    clock.now += 10**9
    assert await cache.get("k") == b"v"


async def test_add_sets_only_when_absent_or_expired(clock: ManualClock) -> None:
    cache = InProcessCache(clock=clock)
    assert await cache.add("evt", b"first", ttl_s=5) is True
    assert await cache.add("evt", b"second", ttl_s=5) is False
    assert await cache.get("evt") == b"first"
    clock.now += 5
    assert await cache.add("evt", b"third", ttl_s=5) is True
    assert await cache.get("evt") == b"third"


async def test_concurrent_add_has_exactly_one_winner() -> None:
    cache = InProcessCache()
    results = await asyncio.gather(*(cache.add("event-1", str(i).encode(), 60) for i in range(50)))
    assert results.count(True) == 1


async def test_least_recently_used_keys_are_evicted_first(clock: ManualClock) -> None:
    cache = InProcessCache(max_entries=3, clock=clock)
    for key in ("a", "b", "c"):
        await cache.set(key, key.encode())
    assert await cache.get("a") == b"a"  # a is now the most recently used
    await cache.set("d", b"d")
    assert len(cache) == 3
    assert await cache.get("b") is None
    assert [await cache.get(k) for k in ("a", "c", "d")] == [b"a", b"c", b"d"]


async def test_delete_and_invalid_ttls(clock: ManualClock) -> None:
    cache = InProcessCache(clock=clock)
    await cache.set("k", b"v")
    await cache.delete("k")
    await cache.delete("never-there")
    assert await cache.get("k") is None
    for bad in (0, -1.0):
        with pytest.raises(ValueError):
            await cache.set("k", b"v", ttl_s=bad)
        with pytest.raises(ValueError):
            await cache.add("k", b"v", ttl_s=bad)
    with pytest.raises(ValueError):
        InProcessCache(max_entries=0)


async def test_rate_limiter_slides_its_window(clock: ManualClock) -> None:
    limiter = InProcessRateLimiter(clock=clock)
    assert [await limiter.allow("U1", 3, 10) for _ in range(4)] == [True, True, True, False]
    assert await limiter.allow("U2", 3, 10) is True  # keys are independent
    clock.now += 5
    assert await limiter.allow("U1", 3, 10) is False
    clock.now += 5  # the first three events leave the window together
    assert [await limiter.allow("U1", 3, 10) for _ in range(4)] == [True, True, True, False]


async def test_rate_limiter_forgets_least_recent_keys(clock: ManualClock) -> None:
    limiter = InProcessRateLimiter(max_keys=2, clock=clock)
    assert await limiter.allow("a", 1, 60) is True
    assert await limiter.allow("b", 1, 60) is True
    assert await limiter.allow("c", 1, 60) is True  # evicts a
    assert await limiter.allow("a", 1, 60) is True
    assert await limiter.allow("c", 1, 60) is False
    with pytest.raises(ValueError):
        await limiter.allow("a", 0, 60)


async def test_builders_choose_in_process_without_a_url() -> None:
    cache: Cache = build_cache("", "p:")
    limiter: RateLimiter = build_rate_limiter("")
    assert isinstance(cache, InProcessCache)
    assert isinstance(limiter, InProcessRateLimiter)
