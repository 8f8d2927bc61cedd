"""A running command's output in the console, line by line as it arrives (no throttle: a
terminal is not rate-limited), each line prefixed with its host; and, once, how to cancel.

Quick runs print nothing live (their answer shows the output): lines start once the request
has run `after_s` seconds, beginning with what arrived before."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console
from rich.text import Text

from pipeline.contracts import Progress


class LiveLines:
    """A progress callback that prints each target's new complete lines."""

    def __init__(
        self, console: Console, after_s: float = 3.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.console = console
        self._clock = clock
        self._from = clock() + after_s
        self._printed: dict[tuple[str, str], int] = {}  # (execution, target) -> characters shown
        self._told: set[str] = set()

    async def __call__(self, event: Progress) -> None:
        if not event.output or self._clock() < self._from:
            return
        if event.execution_id not in self._told:
            self._told.add(event.execution_id)
            how = f"`opsconductor cancel {event.execution_id}` stops it"
            self.console.print(f"running as execution {event.execution_id}; {how}", style="dim", markup=False)
        key = (event.execution_id, event.output_target)
        printed = self._printed.get(key, 0)
        fresh = event.output_chars - printed
        if fresh <= 0:
            return
        text = event.output[-fresh:] if fresh <= len(event.output) else event.output
        skipped = fresh - len(text)
        complete = text[: text.rfind("\n") + 1]  # a partial last line waits for its end
        if not complete:
            return
        self._printed[key] = printed + skipped + len(complete)
        if skipped > 0:
            self.console.print(f"[{skipped:,} characters not shown]", style="dim", markup=False)
        prefix = f"{event.output_target} | " if event.output_target else ""
        for line in complete.splitlines():
            self.console.print(Text(prefix + line), soft_wrap=True)
