"""SqlEventDedupe: exactly one first sighting per platform event, pruning by age."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.dedupe import SqlEventDedupe


async def test_first_seen_once_under_concurrency(sessions: async_sessionmaker[AsyncSession]) -> None:
    dedupe = SqlEventDedupe(sessions)
    seen = await asyncio.gather(*(dedupe.first_seen("slack", "Ev1") for _ in range(20)))
    assert seen.count(True) == 1
    assert await dedupe.first_seen("teams", "Ev1")
    assert not await dedupe.first_seen("slack", "Ev1")


async def test_prune_forgets_old_events(sessions: async_sessionmaker[AsyncSession]) -> None:
    dedupe = SqlEventDedupe(sessions)
    await dedupe.first_seen("slack", "old")
    assert await dedupe.prune(datetime.now(UTC) - timedelta(hours=1)) == 0
    assert await dedupe.prune(datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert await dedupe.first_seen("slack", "old")
