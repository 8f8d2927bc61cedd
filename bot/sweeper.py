"""Background duty of a serving replica: expire overdue approvals and tell each requester.

Every replica may sweep; the store reports each expiry to exactly one of them.
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
                "could not tell %s about an expired approval", message.identity.user_id, exc_info=True
            )
    return told


def expiry_sweeper(
    expire_due: ExpireDue, deliverers: Mapping[str, Deliver], interval_s: float
) -> Callable[[web.Application], None]:
    """A server mount running `sweep_once` every `interval_s` while the server is up."""

    async def loop() -> None:
        while True:
            try:
                await sweep_once(expire_due, deliverers)
            except Exception:
                log.warning("approval expiry sweep failed", exc_info=True)
            await asyncio.sleep(interval_s)

    async def lifetime(_: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(loop())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def mount(app: web.Application) -> None:
        app.cleanup_ctx.append(lifetime)

    return mount
