"""`SqlTargetLocks`: at most one execution changes a target at a time, across replicas.

A lock is a row keyed by target name with an expiry, so a crashed replica's locks
lapse by themselves. `acquire` takes all requested targets or none.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import begin_immediate, rowcount, store_errors
from db.models import ExecutionLock
from db.types import utcnow


class SqlTargetLocks:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def acquire(
        self, execution_id: str, targets: Iterable[str], ttl_s: float, now: datetime | None = None
    ) -> dict[str, str]:
        """Lock every target for `execution_id` (or extend its own locks).

        Returns {} on success, otherwise {target: holding execution id} and locks nothing.
        """
        wanted = sorted(set(targets))
        now = now or utcnow()
        expires = now + timedelta(seconds=ttl_s)
        try:
            async with store_errors(), self._sessions.begin() as session:
                await begin_immediate(session)
                await session.execute(
                    delete(ExecutionLock).where(
                        ExecutionLock.target.in_(wanted), ExecutionLock.expires_at <= now
                    )
                )
                held = {
                    row.target: row
                    for row in await session.scalars(
                        select(ExecutionLock).where(ExecutionLock.target.in_(wanted))
                    )
                }
                conflicts = {t: r.execution_id for t, r in held.items() if r.execution_id != execution_id}
                if conflicts:
                    return conflicts  # commits only the removal of expired locks
                for target in wanted:
                    row = held.get(target) or ExecutionLock(target=target, execution_id=execution_id)
                    row.acquired_at, row.expires_at = row.acquired_at or now, expires
                    session.add(row)
        except IntegrityError:  # another replica inserted first (PostgreSQL, concurrent)
            return await self.holders(wanted) or {t: "" for t in wanted}
        return {}

    async def release(self, execution_id: str, keep: Collection[str] = ()) -> int:
        """Drop every lock of `execution_id` but those on `keep` (left to expire); returns how many."""
        query = delete(ExecutionLock).where(ExecutionLock.execution_id == execution_id)
        if keep:
            query = query.where(ExecutionLock.target.not_in(sorted(keep)))
        async with store_errors(), self._sessions.begin() as session:
            result = await session.execute(query)
        return rowcount(result)

    async def holders(self, targets: Iterable[str], now: datetime | None = None) -> dict[str, str]:
        """{target: execution id} of unexpired locks on `targets`."""
        now = now or utcnow()
        query = select(ExecutionLock).where(
            ExecutionLock.target.in_(sorted(set(targets))), ExecutionLock.expires_at > now
        )
        async with store_errors(), self._sessions() as session:
            return {row.target: row.execution_id for row in await session.scalars(query)}
