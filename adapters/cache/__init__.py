"""Cache and rate limiting behind `pipeline.ports.Cache` / `RateLimiter`.

`build_cache` / `build_rate_limiter` pick Redis when a URL is configured (shared
across replicas) and the in-process versions otherwise (the embedded default).
"""

from __future__ import annotations

from adapters.cache.inprocess import InProcessCache, InProcessRateLimiter
from adapters.cache.redis_backend import RedisCache, RedisRateLimiter

__all__ = [
    "InProcessCache",
    "InProcessRateLimiter",
    "RedisCache",
    "RedisRateLimiter",
    "build_cache",
    "build_rate_limiter",
]


def build_cache(redis_url: str, prefix: str = "opsconductor:") -> InProcessCache | RedisCache:
    """RedisCache for a non-empty `redis_url`, else an InProcessCache. Close it with `close()`."""
    if redis_url:
        return RedisCache.from_url(redis_url, prefix)
    return InProcessCache()


def build_rate_limiter(
    redis_url: str, prefix: str = "opsconductor:"
) -> InProcessRateLimiter | RedisRateLimiter:
    """RedisRateLimiter for a non-empty `redis_url`, else an InProcessRateLimiter."""
    if redis_url:
        return RedisRateLimiter.from_url(redis_url, prefix)
    return InProcessRateLimiter()
