"""Cancelling a running execution: who asked, and the event the executor's tool calls watch.

The requester or an approver asks (a Cancel button under the progress, `opsconductor cancel
ID`); the request is stored, so a click that reaches any replica gets to the run's driver,
which polls for it (`Kernel`, `watch_store`). The driver then sets the run's `CancelRequest`:
every tool call still running is cancelled, which stops its remote command like a timeout does
(the whole process group, confirmed gone: adapters/ssh), and no further step starts.

A step running on an `opsconductor worker` has a `CancelRequest` of its own there: the
dispatcher tells the worker at once (adapters/jobs: Redis pub/sub), and the worker also polls
the store (`watch_store`), the truth for a message it missed (it started late, Redis blipped,
the driver died). A step whose job starts after the cancel does not run at all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TypeVar

from pipeline.errors import Cancelled, OpsError

log = logging.getLogger(__name__)

T = TypeVar("T")
CancelLookup = Callable[[str], Awaitable[str | None]]  # execution id -> who asked to cancel, or None


@dataclass
class CancelRequest:
    """Set once, by whoever cancelled the run."""

    event: asyncio.Event = field(default_factory=asyncio.Event)
    by: str = ""

    def set(self, by: str) -> None:
        self.by = by
        self.event.set()

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    def reason(self) -> str:
        return f"cancelled by {self.by or 'someone'}"


CANCEL: ContextVar[CancelRequest | None] = ContextVar("opsconductor_cancel", default=None)


async def until_cancelled(call: Awaitable[T]) -> T:
    """Await `call`, or cancel it (and wait until it has stopped) once the run is cancelled."""
    request = CANCEL.get()
    if request is None:
        return await call
    task = asyncio.ensure_future(call)
    waiter = asyncio.ensure_future(request.event.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:  # our own timeout or cancellation: the call goes with it
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise
    finally:
        waiter.cancel()
    if task.done():
        return task.result()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    raise Cancelled(f"{request.reason()}; it was stopped")


async def watch_store(lookup: CancelLookup, execution_id: str, request: CancelRequest, poll_s: float) -> None:
    """Every `poll_s` (real time): look up a stored cancel; once found, set `request` and return."""
    while not request.requested:
        await asyncio.sleep(poll_s)
        await look_up(lookup, execution_id, request)


async def look_up(lookup: CancelLookup, execution_id: str, request: CancelRequest) -> None:
    """Set `request` when the store says someone cancelled the run; a store blip is only logged."""
    try:
        by = await lookup(execution_id)
    except OpsError:
        log.warning("execution %s: could not look for a cancel request", execution_id, exc_info=True)
        return
    if by and not request.requested:
        log.info("execution %s: cancelled by %s", execution_id, by)
        request.set(by)
