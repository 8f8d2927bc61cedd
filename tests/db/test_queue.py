"""SqlJobQueue: each job claimed once, retries with delay, dead letters, stale claims requeued."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.queue import SqlJobQueue

Sessions = async_sessionmaker[AsyncSession]
MakeExecution = Callable[[], Awaitable[str]]


async def test_each_job_is_claimed_once(sessions: Sessions, make_execution: MakeExecution) -> None:
    queue = SqlJobQueue(sessions)
    execution_id = await make_execution()
    ids = [await queue.enqueue(execution_id, f"s{i}") for i in range(10)]
    workers = [SqlJobQueue(sessions) for _ in range(3)]

    async def drain(queue: SqlJobQueue, name: str) -> list[int]:
        got = []
        while (job := await queue.claim(name)) is not None:
            got.append(job.id)
            await queue.complete(job.id)
        return got

    claimed = await asyncio.gather(*(drain(w, f"w{i}") for i, w in enumerate(workers)))
    assert sorted(j for jobs in claimed for j in jobs) == sorted(ids)
    assert await queue.counts() == {"done": 10}


async def test_delayed_jobs_wait(sessions: Sessions, make_execution: MakeExecution) -> None:
    queue = SqlJobQueue(sessions)
    execution_id = await make_execution()
    await queue.enqueue(execution_id, delay_s=60)
    assert await queue.claim("w") is None
    job = await queue.claim("w", now=datetime.now(UTC) + timedelta(minutes=2))
    assert job is not None and (job.execution_id, job.step_id, job.attempts) == (execution_id, None, 1)


async def test_failures_retry_then_go_dead(sessions: Sessions, make_execution: MakeExecution) -> None:
    queue = SqlJobQueue(sessions, max_attempts=2)
    await queue.enqueue(await make_execution(), "s0")
    job = await queue.claim("w")
    assert job is not None
    assert await queue.fail(job.id, "boom", retry_in_s=0) == "queued"
    job = await queue.claim("w")
    assert job is not None and job.attempts == 2
    assert await queue.fail(job.id, "boom again") == "dead"
    assert await queue.claim("w") is None
    assert await queue.counts() == {"dead": 1}


async def test_stale_claims_are_requeued(sessions: Sessions, make_execution: MakeExecution) -> None:
    queue = SqlJobQueue(sessions)
    await queue.enqueue(await make_execution())
    assert await queue.claim("dead-worker") is not None
    assert await queue.requeue_stale(older_than_s=60) == 0
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert await queue.requeue_stale(older_than_s=60, now=later) == 1
    job = await queue.claim("w2", now=later)
    assert job is not None and job.attempts == 2
