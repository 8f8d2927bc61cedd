"""The composition root's scale-out part: which StepDispatcher the executor gets.

`jobs.engine = "inprocess"` (default): steps run in the process that planned them.
`jobs.engine = "arq"`: steps become arq jobs on Redis, run by `opsconductor worker`s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.settings import Settings
from pipeline.dispatch import StepDispatcher
from pipeline.ports import ExecutionStore

if TYPE_CHECKING:
    from adapters.jobs import JobsConfig

Closer = Callable[[], Awaitable[None]]


def jobs_config(settings: Settings) -> JobsConfig:
    """The `jobs` section as the arq engine's config."""
    from adapters.jobs import JobsConfig

    jobs = settings.jobs
    return JobsConfig(
        redis_url=jobs.redis_url or settings.redis.url,
        queue_name=jobs.queue_name,
        max_jobs=jobs.max_jobs,
        job_timeout_s=jobs.job_timeout_s,
        max_tries=jobs.max_tries,
        lease_s=jobs.lease_s,
        retry_changes=jobs.retry_changes,
        poll_s=jobs.poll_s,
        cancel_poll_s=jobs.cancel_poll_s,
    )


async def step_dispatcher(
    settings: Settings, store: ExecutionStore, closers: list[Closer]
) -> StepDispatcher | None:
    """arq workers on Redis when `jobs.engine` says so; None means in-process (the default)."""
    if settings.jobs.engine != "arq":
        return None
    from adapters.jobs import ArqDispatcher, open_pool

    config = jobs_config(settings)
    dispatcher = ArqDispatcher(await open_pool(config), store, config)
    closers.append(dispatcher.close)
    return dispatcher
