"""Redis-backed cache and rate limiter, shared by every replica.

Keys are namespaced with a prefix (``opsconductor:`` by default). Connection errors
surface as ``redis.exceptions.ConnectionError``; callers decide whether to degrade.
"""

from __future__ import annotations

import math
import secrets
from typing import Any

from redis.asyncio import Redis

from adapters.cache.inprocess import check_ttl


def _ms(ttl_s: float) -> int:
    return max(1, math.ceil(ttl_s * 1000))


class RedisCache:
    """`pipeline.ports.Cache` on Redis: SET PX for TTLs, SET NX PX for `add`."""

    def __init__(self, client: Redis, prefix: str = "opsconductor:") -> None:
        self._client = client
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str = "opsconductor:", **options: Any) -> RedisCache:
        return cls(Redis.from_url(url, decode_responses=False, **options), prefix)

    def _key(self, key: str) -> str:
        return self._prefix + key

    async def get(self, key: str) -> bytes | None:
        value: bytes | None = await self._client.get(self._key(key))
        return value

    async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        check_ttl(ttl_s)
        px = None if ttl_s is None else _ms(ttl_s)
        await self._client.set(self._key(key), value, px=px)

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        """Atomic across replicas: exactly one concurrent caller gets True."""
        check_ttl(ttl_s)
        return bool(await self._client.set(self._key(key), value, px=_ms(ttl_s), nx=True))

    async def delete(self, key: str) -> None:
        await self._client.delete(self._key(key))

    async def close(self) -> None:
        await self._client.aclose()


# Sliding log in a sorted set, timed by the Redis server's clock so replicas agree.
# KEYS[1] log key; ARGV: window ms, limit, unique member suffix. Returns 1 if admitted.
_SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now, now .. ':' .. ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return 1
"""


class RedisRateLimiter:
    """`pipeline.ports.RateLimiter` on Redis: one atomic Lua script per event."""

    def __init__(self, client: Redis, prefix: str = "opsconductor:") -> None:
        self._client = client
        self._prefix = prefix + "ratelimit:"
        self._script = client.register_script(_SLIDING_WINDOW)

    @classmethod
    def from_url(cls, url: str, prefix: str = "opsconductor:", **options: Any) -> RedisRateLimiter:
        return cls(Redis.from_url(url, decode_responses=False, **options), prefix)

    async def allow(self, key: str, limit: int, per_s: float) -> bool:
        if limit < 1 or not per_s > 0:
            raise ValueError("limit must be >= 1 and per_s > 0")
        member = secrets.token_hex(8)
        admitted = await self._script(keys=[self._prefix + key], args=[_ms(per_s), limit, member])
        return bool(admitted)

    async def close(self) -> None:
        await self._client.aclose()
