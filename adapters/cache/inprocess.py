"""In-process cache and rate limiter: the embedded default (one process, no Redis).

Both are safe for concurrent asyncio tasks in one event loop (no await inside an
operation) and bounded in memory: least recently used keys are evicted first.
Time comes from a monotonic clock, injectable for tests.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

Clock = Callable[[], float]


def check_ttl(ttl_s: float | None) -> None:
    """TTLs are positive seconds; None (only for `set`) means no expiry."""
    if ttl_s is not None and not ttl_s > 0:
        raise ValueError(f"ttl_s must be > 0, got {ttl_s!r}")


class InProcessCache:
    """`pipeline.ports.Cache` in a dict with TTL and LRU eviction beyond `max_entries`."""

    def __init__(self, max_entries: int = 10_000, clock: Clock = time.monotonic) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be >= 1")
        self._entries: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()
        self._max_entries = max_entries
        self._clock = clock

    def __len__(self) -> int:
        return len(self._entries)

    def _live(self, key: str) -> bytes | None:
        """The unexpired value (marked recently used), dropping an expired one."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, expires_at = entry
        if expires_at is not None and self._clock() >= expires_at:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def _store(self, key: str, value: bytes, ttl_s: float | None) -> None:
        expires_at = None if ttl_s is None else self._clock() + ttl_s
        self._entries[key] = (bytes(value), expires_at)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def get(self, key: str) -> bytes | None:
        return self._live(key)

    async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        check_ttl(ttl_s)
        self._store(key, value, ttl_s)

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        """Set only if absent or expired; True when this call set it."""
        check_ttl(ttl_s)
        if self._live(key) is not None:
            return False
        self._store(key, value, ttl_s)
        return True

    async def delete(self, key: str) -> None:
        self._entries.pop(key, None)

    async def close(self) -> None:
        """Nothing to release; present so callers can close any cache alike."""


class InProcessRateLimiter:
    """`pipeline.ports.RateLimiter` as a sliding log of admitted events per key."""

    def __init__(self, max_keys: int = 10_000, clock: Clock = time.monotonic) -> None:
        self._logs: OrderedDict[str, deque[float]] = OrderedDict()
        self._max_keys = max_keys
        self._clock = clock

    async def allow(self, key: str, limit: int, per_s: float) -> bool:
        if limit < 1 or not per_s > 0:
            raise ValueError("limit must be >= 1 and per_s > 0")
        now = self._clock()
        log = self._logs.setdefault(key, deque())
        self._logs.move_to_end(key)
        while log and log[0] <= now - per_s:
            log.popleft()
        if len(log) >= limit:
            return False
        log.append(now)
        while len(self._logs) > self._max_keys:
            self._logs.popitem(last=False)
        return True

    async def close(self) -> None:
        """Nothing to release."""
