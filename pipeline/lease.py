"""How a run writes for an execution whose driver lease it may lose mid-way.

The kernel drives each execution under a lease (see pipeline/kernel/runs.py). When another
replica takes the execution over, the kernel sets the run's `lost` event and cancels the
run: from then on the new driver owns the execution's record, so the old run must write
nothing more. `must_write` is how a run writes what has to survive cancellation (step
results, status, lock releases): shielded while the lease is held, cut short or dropped
once it is lost. A run not driven under a lease (no event set) always shields.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from contextvars import ContextVar
from typing import Any

LEASE_LOST: ContextVar[asyncio.Event | None] = ContextVar("opsconductor_lease_lost", default=None)


def lease_lost() -> bool:
    """True once the driver of the run in this context lost its lease."""
    lost = LEASE_LOST.get()
    return lost is not None and lost.is_set()


async def must_write(write: Coroutine[Any, Any, object]) -> None:
    """Run `write` to completion despite cancellation, unless the lease is (or gets) lost."""
    if lease_lost():
        write.close()
        return
    task = asyncio.ensure_future(write)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        if lease_lost():  # cancelled because another driver took over: stop writing now
            task.cancel()
        raise
