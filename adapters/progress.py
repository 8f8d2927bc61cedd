"""Throttled progress on one chat message or card: nothing for runs shorter than one interval,
then at most one update per interval, always showing the latest state. A 200-target run
therefore costs a handful of platform calls, however fast or slow its targets finish."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from pipeline.contracts import Progress

log = logging.getLogger(__name__)

Show = Callable[[Progress], Awaitable[None]]


class ThrottledProgress:
    """A `ProgressCallback` that never blocks the run on the chat platform and never floods it.

    `first` is set at the first event: a run has started (the decision took effect)."""

    def __init__(self, show: Show, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._show = show
        self._interval_s = interval_s
        self._clock = clock
        self._latest: Progress | None = None
        self._last_shown = clock()  # quick runs show no progress at all, just the answer
        self._task: asyncio.Task[None] | None = None
        self._showing = False
        self._closed = False
        self.first = asyncio.Event()
        self.updates = 0

    async def __call__(self, event: Progress) -> None:
        self.first.set()
        if self._closed:
            return
        self._latest = event
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush())

    async def close(self) -> None:
        """No more updates: one waiting for its slot is dropped, one being sent completes. When
        progress was shown, this returns only once the interval since it has passed: the final
        answer then replaces it on the same message, paced like every other edit."""
        self._closed = True
        task = self._task
        if task is not None and not task.done():
            if not self._showing:
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        wait = self._last_shown + self._interval_s - self._clock()
        if self.updates and wait > 0:
            await asyncio.sleep(wait)

    async def _flush(self) -> None:
        wait = self._last_shown + self._interval_s - self._clock()
        if wait > 0:
            await asyncio.sleep(wait)
        event = self._latest
        if event is None or self._closed:
            return
        self._showing = True
        self._last_shown = self._clock()
        try:
            await self._show(event)
            self.updates += 1
        except Exception:  # progress is best effort; the answer still comes
            log.warning("progress update failed", exc_info=True)
        finally:
            self._showing = False
