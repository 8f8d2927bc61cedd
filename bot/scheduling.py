"""Schedules in a running bot: the tick loop every serving replica runs, and the CLI's operations.

    every schedules.tick_s: Scheduler.due_ticks() (each tick won by one replica)
        -> a task per won tick: Scheduler.run_tick -> deliver the post (Slack, Teams) or log it
      and each periodic job's due tick (the retention job, bot.retention), won by one replica
        -> a task running it

A replica that dies while driving a scheduled run leaves an execution whose lease lapses;
another replica's sweeper resumes it like any other (bot.sweeper).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import console_identity, running_app
from bot.settings import Settings
from bot.sweeper import Deliver
from db.engine import session_factory
from db.schedules import SqlScheduleStore
from pipeline.contracts import InboundMessage, Reply
from pipeline.kernel import Kernel
from pipeline.scheduler import Post, Scheduler, Tick
from pipeline.schedules import Cadence, Destination, Notify, Schedule

log = logging.getLogger(__name__)


def build_scheduler(kernel: Kernel, engine: AsyncEngine) -> Scheduler:
    """The kernel's scheduler (bot.app wires one), or one on the engine's database."""
    if isinstance(kernel.schedules, Scheduler):
        return kernel.schedules
    return Scheduler(kernel, SqlScheduleStore(session_factory(engine)), by=kernel.driver)


class PeriodicJob(Protocol):
    """One of the bot's own jobs on the tick loop (bot.retention.RetentionJob)."""

    async def claim_due(self) -> datetime | None:
        """The due tick when this replica won it (one replica per tick), else None."""

    async def run(self, tick: datetime) -> object: ...


class TickLoop:
    """Looks for due ticks every `tick_s`; runs those this replica won, `max_running` at once.
    Without a scheduler (schedules.enabled false) only the periodic jobs tick."""

    def __init__(
        self,
        scheduler: Scheduler | None,
        deliverers: Mapping[str, Deliver],
        tick_s: float,
        max_running: int,
        jobs: Sequence[PeriodicJob] = (),
    ) -> None:
        self.scheduler = scheduler
        self.deliverers = deliverers
        self.tick_s = tick_s
        self.jobs = jobs
        self.slots = asyncio.Semaphore(max_running)
        self.running: set[asyncio.Task[None]] = set()

    async def once(self) -> int:
        """One look; returns how many ticks this replica won (their runs go on in tasks)."""
        ticks = await self.scheduler.due_ticks() if self.scheduler is not None else []
        for tick in ticks:
            self._start(self._run(tick))
        won = len(ticks)
        for job in self.jobs:
            at = await job.claim_due()
            if at is not None:
                self._start(self._run_job(job, at))
                won += 1
        return won

    def _start(self, run: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(run)
        self.running.add(task)
        task.add_done_callback(self.running.discard)

    async def _run_job(self, job: PeriodicJob, at: datetime) -> None:
        try:
            await job.run(at)
        except Exception:
            log.warning("periodic job %s at %s failed", type(job).__name__, at, exc_info=True)

    async def forever(self) -> None:
        while True:
            try:
                await self.once()
            except Exception:
                log.warning("schedule tick failed", exc_info=True)
            await asyncio.sleep(self.tick_s)

    async def _run(self, tick: Tick) -> None:
        assert self.scheduler is not None  # ticks come from it
        async with self.slots:
            try:
                post = await self.scheduler.run_tick(tick)
                if post is not None:
                    await self.deliver(post)
            except Exception:
                log.warning("scheduled run of %s failed", tick.schedule.id, exc_info=True)

    async def deliver(self, post: Post) -> None:
        deliver = self.deliverers.get(post.destination.platform)
        if deliver is None:  # console (or a platform not enabled here): the log and the history have it
            log.info("schedule %s: %s", post.message.message_id, post.reply.summary)
            return
        await deliver(post.message, post.reply)

    async def stop(self) -> None:
        for task in list(self.running):
            task.cancel()
        await asyncio.gather(*self.running, return_exceptions=True)


def tick_loop_mount(loop: TickLoop) -> Callable[[web.Application], None]:
    """A server mount running the tick loop while the server is up."""

    async def lifetime(_: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(loop.forever())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await loop.stop()

    def mount(app: web.Application) -> None:
        app.cleanup_ctx.append(lifetime)

    return mount


# ---------------------------------------------------------------------- the command line


async def add_from_console(
    settings: Settings, text: str, cadence: Cadence, destination: Destination, notify: Notify, name: str
) -> Reply:
    """`opsconductor schedules add`: planned and stored as the local console user."""
    async with running_app(settings) as app:
        message = InboundMessage(identity=console_identity(), text=text, channel="console")
        _schedule, reply = await build_scheduler(app.kernel, app.engine).create(
            message, cadence, destination, notify, name
        )
    return reply


async def list_schedules(settings: Settings) -> list[Schedule]:
    async with running_app(settings) as app:
        return await build_scheduler(app.kernel, app.engine).store.all()


async def change_from_console(settings: Settings, schedule_id: str, to: str) -> Reply:
    """pause (to=paused), resume (active), delete (deleted) or approve (approved) as the local user."""
    async with running_app(settings) as app:
        scheduler = build_scheduler(app.kernel, app.engine)
        message = InboundMessage(identity=console_identity(), text=f"schedule {to}", channel="console")
        if to == "approved":
            return await scheduler.approve(schedule_id, message)
        return await scheduler.change(schedule_id, to, message)


def schedule_line(schedule: Schedule) -> str:
    """One line per schedule for `schedules list`."""
    last = schedule.last_run_at.strftime("%Y-%m-%d %H:%M") if schedule.last_run_at else "never"
    return (
        f"{schedule.number:>3}  {schedule.id}  {schedule.state:<16} {schedule.cadence.describe():<24} "
        f"next {schedule.next_run_at:%Y-%m-%d %H:%M:%S}  last {last}  "
        f"-> {schedule.destination.describe()} ({schedule.notify})  {schedule.name}"
    )
