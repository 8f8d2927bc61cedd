"""SqlTargetLocks: all-or-nothing acquisition, expiry, release, one winner under concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.locks import SqlTargetLocks

Sessions = async_sessionmaker[AsyncSession]
MakeExecution = Callable[[], Awaitable[str]]


async def test_acquire_is_all_or_nothing_and_released(
    sessions: Sessions, make_execution: MakeExecution
) -> None:
    locks = SqlTargetLocks(sessions)
    first, second = await make_execution(), await make_execution()
    assert await locks.acquire(first, ["web-01", "web-02"], ttl_s=60) == {}
    assert await locks.acquire(first, ["web-01"], ttl_s=60) == {}  # re-entrant
    assert await locks.acquire(second, ["web-02", "web-03"], ttl_s=60) == {"web-02": first}
    assert await locks.holders(["web-01", "web-02", "web-03"]) == {"web-01": first, "web-02": first}
    assert await locks.release(first) == 2
    assert await locks.acquire(second, ["web-02", "web-03"], ttl_s=60) == {}


async def test_release_keeps_the_locks_it_is_told_to_keep(
    sessions: Sessions, make_execution: MakeExecution
) -> None:
    locks = SqlTargetLocks(sessions)
    first, second = await make_execution(), await make_execution()
    assert await locks.acquire(first, ["web-01", "web-02", "web-03"], ttl_s=60) == {}
    assert await locks.release(first, keep={"web-02"}) == 2  # web-02 may still run a command
    assert await locks.holders(["web-01", "web-02", "web-03"]) == {"web-02": first}
    assert await locks.acquire(second, ["web-02"], ttl_s=60) == {"web-02": first}
    later = datetime.now(UTC) + timedelta(seconds=61)
    assert await locks.acquire(second, ["web-02"], ttl_s=60, now=later) == {}  # until it expires


async def test_expired_locks_are_taken_over(sessions: Sessions, make_execution: MakeExecution) -> None:
    locks = SqlTargetLocks(sessions)
    first, second = await make_execution(), await make_execution()
    past = datetime.now(UTC) - timedelta(minutes=10)
    assert await locks.acquire(first, ["db-01"], ttl_s=60, now=past) == {}
    assert await locks.holders(["db-01"]) == {}
    assert await locks.acquire(second, ["db-01"], ttl_s=60) == {}
    assert await locks.holders(["db-01"]) == {"db-01": second}


async def test_one_winner_under_concurrency(sessions: Sessions, make_execution: MakeExecution) -> None:
    locks = SqlTargetLocks(sessions)
    executions = [await make_execution() for _ in range(8)]
    outcomes = await asyncio.gather(*(locks.acquire(e, ["web-01", "web-02"], ttl_s=60) for e in executions))
    winners = [e for e, conflicts in zip(executions, outcomes, strict=True) if not conflicts]
    assert len(winners) == 1
    assert await locks.holders(["web-01", "web-02"]) == {"web-01": winners[0], "web-02": winners[0]}
