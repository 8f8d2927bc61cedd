"""`SqlEventDedupe`: platform event ids seen before (Slack retries, Teams redeliveries), in SQL.

For deployments without Redis that still run several replicas: `first_seen` is an
insert-if-absent on a unique (platform, event_id), so exactly one caller sees True.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import dialect_insert, rowcount, store_errors
from db.models import ProcessedEvent
from db.types import utcnow


class SqlEventDedupe:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def first_seen(self, platform: str, event_id: str) -> bool:
        """Record the event; True only for the first caller with this (platform, event_id)."""
        async with store_errors(), self._sessions.begin() as session:
            result = await session.execute(
                dialect_insert(session)(ProcessedEvent)
                .values(platform=platform, event_id=event_id, at=utcnow())
                .on_conflict_do_nothing(index_elements=["platform", "event_id"])
            )
        return rowcount(result) == 1

    async def prune(self, before: datetime) -> int:
        """Forget events recorded before `before`; returns how many."""
        async with store_errors(), self._sessions.begin() as session:
            result = await session.execute(delete(ProcessedEvent).where(ProcessedEvent.at < before))
        return rowcount(result)
