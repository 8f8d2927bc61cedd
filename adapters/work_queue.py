"""A bounded work queue: a chat adapter acks at once and hands the slow part to a few workers.

`offer` never waits: when the queue is full it returns False and the caller tells the
user to retry, so nothing is dropped silently and the platform's ack deadline
(Slack's 3 seconds, Teams' request timeout) is always met.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class QueueMetrics(Protocol):
    """Prometheus instruments a platform's metrics expose for its queue."""

    rejected: Any  # Counter
    queue_depth: Any  # Gauge


class WorkQueue:
    """`workers` tasks draining a queue of at most `size` pending jobs."""

    def __init__(
        self, size: int, workers: int, metrics: QueueMetrics | None = None, *, name: str = "chat"
    ) -> None:
        if size < 1 or workers < 1:
            raise ValueError("queue size and workers must be >= 1")
        self._queue: asyncio.Queue[Job] = asyncio.Queue(maxsize=size)
        self._workers = workers
        self._tasks: list[asyncio.Task[None]] = []
        self._metrics = metrics
        self._name = name

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    def offer(self, job: Job) -> bool:
        """Queue `job`; False (and counted as a rejection) when the queue is full."""
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            if self._metrics:
                self._metrics.rejected.inc()
            return False
        self._observe()
        return True

    async def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._run(), name=f"{self._name}-worker-{i}")
                for i in range(self._workers)
            ]

    async def stop(self) -> None:
        """Cancel the workers; jobs still queued are abandoned (their users see no answer)."""
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
            self._observe()
            try:
                await job()
            except Exception:  # one failed request must not stop the worker
                log.exception("%s job failed", self._name)
            finally:
                self._queue.task_done()

    def _observe(self) -> None:
        if self._metrics:
            self._metrics.queue_depth.set(self._queue.qsize())
