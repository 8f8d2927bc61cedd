"""A bounded work queue: the HTTP turn answers at once and hands the slow part to a few workers.

`offer` never waits: when the queue is full it returns False and the caller tells the
user to retry, so nothing is dropped silently and Teams' request timeout is always met.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class WorkQueue:
    """`workers` tasks draining a queue of at most `size` pending jobs."""

    def __init__(self, size: int, workers: int) -> None:
        if size < 1 or workers < 1:
            raise ValueError("queue size and workers must be >= 1")
        self._queue: asyncio.Queue[Job] = asyncio.Queue(maxsize=size)
        self._workers = workers
        self._tasks: list[asyncio.Task[None]] = []

    def offer(self, job: Job) -> bool:
        """Queue `job`; False when the queue is full."""
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            return False
        return True

    async def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._run(), name=f"teams-worker-{i}") for i in range(self._workers)
            ]

    async def stop(self) -> None:
        """Cancel the workers; jobs still queued are abandoned."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def join(self) -> None:
        """Wait until every queued job has finished (tests, graceful shutdown)."""
        await self._queue.join()

    async def _run(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                await job()
            except Exception:  # one failed request must not stop the worker
                log.exception("teams job failed")
            finally:
                self._queue.task_done()
