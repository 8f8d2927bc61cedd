"""A pool of SSH connections keyed by (address, port, user), shared by steps and requests.

One connection per key carries several commands at once (SSH channels), at most
`max_sessions` at a time (sshd's MaxSessions defaults to 10). A connection nobody uses
is closed after `idle_timeout_s`; a closed or broken one is replaced on the next use.
Concurrent first uses of a key open one connection, not one each.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import asyncssh


class PoolKey(NamedTuple):
    address: str
    port: int
    username: str


@dataclass
class PoolCounters:
    """What the pool did since it was made; tests and metrics read these."""

    opened: int = 0
    reused: int = 0
    closed_idle: int = 0
    discarded: int = 0


@dataclass(eq=False)
class _Entry:
    conn: asyncssh.SSHClientConnection
    sessions: asyncio.Semaphore
    users: int = 0
    idle: asyncio.TimerHandle | None = field(default=None, repr=False)


Connect = Callable[[], Awaitable[asyncssh.SSHClientConnection]]


class ConnectionPool:
    """Pooled asyncssh connections. Not thread-safe: use it from one event loop."""

    def __init__(self, *, idle_timeout_s: float, max_sessions: int = 8) -> None:
        self.idle_timeout_s = idle_timeout_s
        self.max_sessions = max_sessions
        self.counters = PoolCounters()
        self._entries: dict[PoolKey, _Entry] = {}
        self._opening: dict[PoolKey, asyncio.Lock] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @contextlib.asynccontextmanager
    async def connection(self, key: PoolKey, connect: Connect) -> AsyncIterator[asyncssh.SSHClientConnection]:
        """Lend the connection for `key` (opening it with `connect` when needed)."""
        entry = await self._acquire(key, connect)
        entry.users += 1
        if entry.idle is not None:
            entry.idle.cancel()
            entry.idle = None
        try:
            async with entry.sessions:
                yield entry.conn
        finally:
            entry.users -= 1
            if entry.users == 0 and self._entries.get(key) is entry:
                self._schedule_idle_close(key, entry)

    def discard(self, key: PoolKey, conn: asyncssh.SSHClientConnection | None = None) -> None:
        """Forget and close the connection for `key` (only if it is `conn`, when given)."""
        entry = self._entries.get(key)
        if entry is None or (conn is not None and entry.conn is not conn):
            return
        del self._entries[key]
        self.counters.discarded += 1
        self._close(entry)

    def discard_address(self, address: str) -> None:
        for key in [k for k in self._entries if k.address == address]:
            self.discard(key)

    async def close(self) -> None:
        entries = list(self._entries.values())
        self._entries.clear()
        for entry in entries:
            self._close(entry)
        await asyncio.gather(*(e.conn.wait_closed() for e in entries), return_exceptions=True)

    async def _acquire(self, key: PoolKey, connect: Connect) -> _Entry:
        entry = self._live(key)
        if entry is not None:
            self.counters.reused += 1
            return entry
        lock = self._opening.setdefault(key, asyncio.Lock())
        async with lock:
            entry = self._live(key)
            if entry is not None:
                self.counters.reused += 1
                return entry
            conn = await connect()
            entry = _Entry(conn, asyncio.Semaphore(self.max_sessions))
            self._entries[key] = entry
            self.counters.opened += 1
        if not lock.locked():
            self._opening.pop(key, None)
        return entry

    def _live(self, key: PoolKey) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None and entry.conn.is_closed():
            del self._entries[key]
            self.counters.discarded += 1
            return None
        return entry

    def _schedule_idle_close(self, key: PoolKey, entry: _Entry) -> None:
        if self.idle_timeout_s <= 0:
            self._expire(key, entry)
            return
        loop = asyncio.get_running_loop()
        entry.idle = loop.call_later(self.idle_timeout_s, self._expire, key, entry)

    def _expire(self, key: PoolKey, entry: _Entry) -> None:
        if entry.users or self._entries.get(key) is not entry:
            return
        del self._entries[key]
        self.counters.closed_idle += 1
        self._close(entry)

    @staticmethod
    def _close(entry: _Entry) -> None:
        if entry.idle is not None:
            entry.idle.cancel()
            entry.idle = None
        entry.conn.close()
