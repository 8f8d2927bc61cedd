"""Targets where a command may still be running after the bot stopped waiting for it.

A remote adapter that gives up on a command (its timeout, a cancelled run, a lost
connection) kills it on the target and waits for the target to confirm it is gone. When
that cannot be confirmed (the host went away), the adapter raises `OutcomeUncertain`
and also notes the target here, because on a cancelled run no exception reaches the
executor. The executor tracks the notes of each step and keeps those targets' locks
until they expire on their own, so no other run changes a host that may still be busy.

    with tracking_unconfirmed_stops() as unconfirmed:   # the executor, around a step
        ...                                           # adapters call note_unconfirmed_stop(name)
    keep = unconfirmed                                # locks not to release
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

_UNCONFIRMED: ContextVar[set[str] | None] = ContextVar("opsconductor_unconfirmed_stops", default=None)


def note_unconfirmed_stop(target: str) -> None:
    """`target` may still run a command the bot gave up on (no-op outside a tracked step)."""
    unconfirmed = _UNCONFIRMED.get()
    if unconfirmed is not None:
        unconfirmed.add(target)


@contextlib.contextmanager
def tracking_unconfirmed_stops() -> Iterator[set[str]]:
    """Collect the targets noted in this context (tasks started inside share the set)."""
    unconfirmed: set[str] = set()
    token = _UNCONFIRMED.set(unconfirmed)
    try:
        yield unconfirmed
    finally:
        _UNCONFIRMED.reset(token)
