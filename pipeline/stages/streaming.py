"""A running command's output as progress: the newest lines of each target, as it arrives.

Tools hand their output to `ToolContext.stream` chunk by chunk (a synchronous call from the
transport). `OutputFeed` keeps the last `TAIL_CHARS` of each target, cut at a line start (so
redaction never sees half a secret's label), and forwards at most one event at a time to the
run's progress callback, the newest state each time; the chat adapters' throttle
(`adapters.progress.ThrottledProgress`) decides how often a message is edited.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from pipeline.contracts import PlanStep, Progress

log = logging.getLogger(__name__)

TAIL_CHARS = 2_000  # fits a Slack section (3,000) and a Teams text block with room to spare


class OutputFeed:
    """One step's output, per target; `done` is kept up to date by the executor's fan-out."""

    def __init__(
        self,
        progress: Callable[[Progress], Awaitable[None]],
        execution_id: str,
        step: PlanStep,
        total: int,
        redact: Callable[[str], str],
    ) -> None:
        self._progress = progress
        self._execution_id = execution_id
        self._step = step
        self.total = total
        self.done = 0
        self._redact = redact
        self._tails: dict[str, str] = {}
        self._seen: dict[str, int] = {}
        self._latest = ""
        self._sending: asyncio.Task[None] | None = None

    def feed(self, target: str, text: str) -> None:
        if not text:
            return
        tail = self._tails.get(target, "") + text
        if len(tail) > TAIL_CHARS:
            tail = tail[-TAIL_CHARS:]
            tail = tail[tail.find("\n") + 1 :]  # whole lines only
        self._tails[target] = tail
        self._seen[target] = self._seen.get(target, 0) + len(text)
        self._latest = target
        if self._sending is None or self._sending.done():
            self._sending = asyncio.get_running_loop().create_task(self._send())

    async def _send(self) -> None:
        target = self._latest
        event = Progress(
            execution_id=self._execution_id,
            step_id=self._step.id,
            tool=self._step.tool,
            done=self.done,
            total=self.total,
            output_target=target,
            output=self._redact(self._tails[target]),
            output_chars=self._seen[target],
        )
        try:
            await self._progress(event)
        except Exception:  # progress is best effort; the run goes on
            log.warning("output progress failed", exc_info=True)

    async def close(self) -> None:
        if self._sending is not None:
            await asyncio.gather(self._sending, return_exceptions=True)
