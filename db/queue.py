"""`SqlJobQueue`: durable execution jobs in SQL, for deployments without Redis.

A job is claimed by at most one worker: the claim is a conditional UPDATE from
'queued' to 'claimed' (with ``FOR UPDATE SKIP LOCKED`` candidate selection on
PostgreSQL so workers do not queue behind each other). Failed jobs are retried
with a delay until `max_attempts`, then marked 'dead'. Claimed jobs whose worker
vanished are requeued by `requeue_stale`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import begin_immediate, rowcount, store_errors
from db.models import QueuedJob
from db.types import utcnow


@dataclass(frozen=True)
class Job:
    id: int
    execution_id: str
    step_id: str | None
    attempts: int


class SqlJobQueue:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], max_attempts: int = 3) -> None:
        self._sessions = sessions
        self.max_attempts = max_attempts

    async def enqueue(self, execution_id: str, step_id: str | None = None, delay_s: float = 0.0) -> int:
        now = utcnow()
        job = QueuedJob(
            execution_id=execution_id,
            step_id=step_id,
            state="queued",
            available_at=now + timedelta(seconds=delay_s),
            created_at=now,
        )
        async with store_errors(), self._sessions.begin() as session:
            session.add(job)
        return job.id

    async def claim(self, worker: str, now: datetime | None = None, candidates: int = 5) -> Job | None:
        """The oldest available job, now claimed by `worker`; None when nothing is due."""
        now = now or utcnow()
        async with store_errors(), self._sessions.begin() as session:
            await begin_immediate(session)
            query = (
                select(QueuedJob.id)
                .where(QueuedJob.state == "queued", QueuedJob.available_at <= now)
                .order_by(QueuedJob.available_at, QueuedJob.id)
                .limit(candidates)
            )
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            for job_id in list(await session.scalars(query)):
                claimed = await session.execute(
                    update(QueuedJob)
                    .where(QueuedJob.id == job_id, QueuedJob.state == "queued")
                    .values(
                        state="claimed", claimed_by=worker, claimed_at=now, attempts=QueuedJob.attempts + 1
                    )
                    .returning(QueuedJob.execution_id, QueuedJob.step_id, QueuedJob.attempts)
                )
                row = claimed.first()
                if row is not None:
                    return Job(job_id, row[0], row[1], row[2])
        return None

    async def complete(self, job_id: int) -> None:
        await self._set(job_id, state="done", last_error="")

    async def fail(self, job_id: int, error: str, retry_in_s: float = 5.0) -> str:
        """Requeue after `retry_in_s`, or mark dead after max_attempts; returns the new state."""
        async with store_errors(), self._sessions.begin() as session:
            await begin_immediate(session)
            job = await session.get(QueuedJob, job_id)
            if job is None:
                raise KeyError(f"unknown job {job_id}")
            job.last_error = error[:2000]
            job.claimed_by = None
            if job.attempts >= self.max_attempts:
                job.state = "dead"
            else:
                job.state = "queued"
                job.available_at = utcnow() + timedelta(seconds=retry_in_s)
            return job.state

    async def requeue_stale(self, older_than_s: float, now: datetime | None = None) -> int:
        """Put back jobs claimed longer ago than `older_than_s` (their worker died)."""
        cutoff = (now or utcnow()) - timedelta(seconds=older_than_s)
        async with store_errors(), self._sessions.begin() as session:
            result = await session.execute(
                update(QueuedJob)
                .where(QueuedJob.state == "claimed", QueuedJob.claimed_at < cutoff)
                .values(state="queued", claimed_by=None, available_at=now or utcnow())
            )
        return rowcount(result)

    async def counts(self) -> dict[str, int]:
        async with store_errors(), self._sessions() as session:
            rows = (
                await session.execute(select(QueuedJob.state, func.count()).group_by(QueuedJob.state))
            ).all()
        return {state: int(n) for state, n in rows}

    async def _set(self, job_id: int, **values: Any) -> None:
        async with store_errors(), self._sessions.begin() as session:
            await session.execute(update(QueuedJob).where(QueuedJob.id == job_id).values(**values))
