"""Cancelling a running execution: who asked, and the event the executor's tool calls watch.

The requester or an approver asks (a Cancel button under the progress, `opsconductor cancel
ID`); the request is stored, so a click that reaches any replica gets to the run's driver,
which polls for it (`Kernel`). The driver then sets the run's `CancelRequest`: every tool call
still running is cancelled, which stops its remote command like a timeout does (the whole
process group, confirmed gone: adapters/ssh), and no further step starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TypeVar

from pipeline.errors import Cancelled

T = TypeVar("T")


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
