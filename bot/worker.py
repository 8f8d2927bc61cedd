"""`opsconductor worker`: runs plan steps that bot replicas dispatched through arq on Redis.

A worker is the same app as a replica (database, tool services, policy) without chat
adapters; it serves `/health` (database and Redis) and `/metrics` on `server.host:port`.
SIGTERM or SIGINT: stop taking jobs, let running steps finish for `STOP_GRACE_S`, then
cancel what is left (arq puts those jobs back; the recovery policy settles their steps).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiohttp import web
from prometheus_client import CollectorRegistry

from adapters.jobs import SqlStepRecovery, StepJobHandler, build_worker, stop_worker
from bot import scaleout
from bot.app import App, running_app
from bot.catalog import reload_on_sighup
from bot.metrics import Metrics
from bot.server import HealthCheck, _cache_check, _db_check, build_web_app
from bot.settings import Settings
from db.engine import session_factory

log = logging.getLogger(__name__)

STOP_GRACE_S = 20.0


def worker_checks(app: App) -> dict[str, HealthCheck]:
    checks = {"db": _db_check(app.engine), "redis": _cache_check(app.cache)}
    pool = getattr(app.dispatcher, "pool", None)
    if app.settings.jobs.redis_url and pool is not None:  # the job queue has a Redis of its own

        async def jobs() -> bool:
            return bool(await pool.ping())

        checks["jobs"] = jobs
    return checks


def step_handler(app: App, metrics: Metrics) -> StepJobHandler:
    """The arq function of this worker: the app's executor runs each step here."""
    executor = app.kernel.executor
    return StepJobHandler(
        executor.run_here,
        app.kernel.store,
        SqlStepRecovery(session_factory(app.engine)),
        scaleout.jobs_config(app.settings),
        locks=executor.locks,
        observe=metrics.observe_job,
    )


async def run_worker(settings: Settings) -> None:
    """Run step jobs until SIGTERM/SIGINT. Needs jobs.engine = 'arq' (and so redis.url)."""
    if settings.jobs.engine != "arq":
        raise ValueError(
            "opsconductor worker needs OPSCONDUCTOR_JOBS__ENGINE=arq and OPSCONDUCTOR_REDIS__URL"
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with running_app(settings) as app:
        reload_on_sighup(app.registry)
        registry = CollectorRegistry()
        metrics = Metrics(registry)
        worker = build_worker(step_handler(app, metrics), scaleout.jobs_config(settings))
        runner = web.AppRunner(build_web_app(checks=worker_checks(app), registry=registry), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, settings.server.host, settings.server.port).start()
            log.info("worker listening on http://%s:%s", settings.server.host, settings.server.port)
            await _until_stopped(worker, stop)
        finally:
            await runner.cleanup()


async def _until_stopped(worker: object, stop: asyncio.Event) -> None:
    from arq.worker import Worker

    assert isinstance(worker, Worker)
    running = asyncio.create_task(worker.async_run())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    worker.allow_pick_jobs = False
    log.info("worker stopping: %d step(s) still running", len(worker.tasks))
    running_steps = [t for t in worker.tasks.values() if not t.done()]
    if running_steps:
        await asyncio.wait(running_steps, timeout=STOP_GRACE_S)
    await stop_worker(worker)
    with contextlib.suppress(asyncio.CancelledError):
        await running
