"""Background duty of a serving replica: expire overdue approvals and tell each requester;
finish executions whose replica died mid-plan and tell their requesters too; tell chat
requesters what was decided on their requests through another door (pipeline.elsewhere).

Every replica may sweep; the store reports each expiry (and hands each stalled execution)
to exactly one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from aiohttp import web

from pipeline.contracts import InboundMessage, Reply, Response

log = logging.getLogger(__name__)

Deliver = Callable[[InboundMessage, Response], Awaitable[None]]
ExpireDue = Callable[[], Awaitable[list[tuple[InboundMessage, Reply]]]]


async def sweep_once(expire_due: ExpireDue, deliverers: Mapping[str, Deliver]) -> int:
    """One pass; returns how many requesters were told."""
    told = 0
    for message, reply in await expire_due():
        deliver = deliverers.get(message.identity.platform)
        if deliver is None:
            continue  # console requests: the requester sees it when they next ask
        try:
            await deliver(message, reply)
            told += 1
        except Exception:
            log.warning(
                "could not tell %s about execution %s",
                message.identity.user_id,
                reply.execution_id,
                exc_info=True,
            )
    return told


def expiry_sweeper(
    expire_due: ExpireDue,
    deliverers: Mapping[str, Deliver],
    interval_s: float,
    resume_stalled: ExpireDue | None = None,
    decided_elsewhere: ExpireDue | None = None,
) -> Callable[[web.Application], None]:
    """A server mount running `sweep_once` every `interval_s` while the server is up.

    `resume_stalled` (Kernel.resume_stalled) sweeps in its own loop: finishing a plan may
    take long, and approvals must keep expiring meanwhile. `decided_elsewhere` (Teller.due)
    has its own loop too.
    """

    async def loop(sweep: ExpireDue, what: str) -> None:
        while True:
            try:
                await sweep_once(sweep, deliverers)
            except Exception:
                log.warning("%s sweep failed", what, exc_info=True)
            await asyncio.sleep(interval_s)

    async def lifetime(_: web.Application) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(loop(expire_due, "approval expiry"))]
        if resume_stalled is not None:
            tasks.append(asyncio.create_task(loop(resume_stalled, "stalled execution")))
        if decided_elsewhere is not None:
            tasks.append(asyncio.create_task(loop(decided_elsewhere, "decided elsewhere")))
        yield
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def mount(app: web.Application) -> None:
        app.cleanup_ctx.append(lifetime)

    return mount
