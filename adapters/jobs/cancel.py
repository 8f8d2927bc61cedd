"""Cancelling a step that runs on a worker: the driver's cancel reaches the worker's tool calls.

    replica: Kernel polls the store -> the run's CancelRequest is set
             -> `forwarded` (around ArqDispatcher.dispatch) publishes who cancelled on the step's channel
    worker:  `watched` (around the step's run) sets the step's own CancelRequest from
             that channel, or from the store (polled every `poll_s`: the truth for a
             message published before it subscribed, or by a driver that died)
             -> pipeline.cancel.until_cancelled stops the running commands on their targets

The worker's result then says who cancelled ("cancelled by alice; it was stopped") and the
driver, which waits for it as for any step, starts no further step.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from arq import ArqRedis

from pipeline.cancel import CANCEL, CancelLookup, CancelRequest, look_up, watch_store

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def forwarded(redis: ArqRedis, channel: str) -> AsyncIterator[None]:
    """Replica side: while the block runs, a cancel of this run is published on `channel`."""
    request = CANCEL.get()
    if request is None:
        yield
        return
    task = asyncio.create_task(_publish_when_set(redis, channel, request))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _publish_when_set(redis: ArqRedis, channel: str, request: CancelRequest) -> None:
    await request.event.wait()
    try:
        await redis.publish(channel, request.by)
    except Exception:  # the worker polls the store as well
        log.warning("could not publish the cancel on %s", channel, exc_info=True)


@contextlib.asynccontextmanager
async def watched(
    redis: ArqRedis | None, channel: str, lookup: CancelLookup, execution_id: str, poll_s: float
) -> AsyncIterator[CancelRequest]:
    """Worker side: the step's CancelRequest (bound to `CANCEL` in the block), set by a message
    on `channel` (when `redis` is given) or a cancel found in the store. Subscribed before the
    store is first read, and read once before the block starts: a step cancelled before it
    started finds it `requested`."""
    request = CancelRequest()
    pubsub = redis.pubsub(ignore_subscribe_messages=True) if redis is not None else None
    tasks: list[asyncio.Task[None]] = []
    token = CANCEL.set(request)
    try:
        if pubsub is not None:
            await pubsub.subscribe(channel)
            tasks.append(asyncio.create_task(_listen(pubsub, request)))
        await look_up(lookup, execution_id, request)
        tasks.append(asyncio.create_task(watch_store(lookup, execution_id, request, poll_s)))
        yield request
    finally:
        CANCEL.reset(token)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if pubsub is not None:
            with contextlib.suppress(Exception):  # the connection goes back to the pool either way
                await pubsub.unsubscribe(channel)
            await pubsub.aclose()  # type: ignore[no-untyped-call]


async def _listen(pubsub: Any, request: CancelRequest) -> None:
    async for message in pubsub.listen():
        data = message.get("data")
        by = data.decode() if isinstance(data, bytes) else str(data)
        log.info("step cancelled by %s (published)", by)
        request.set(by)
        return
