"""Microsoft Teams adapter: botbuilder's CloudAdapter behind `/api/messages` in our aiohttp server.

Composition root:

    adapter = TeamsAdapter(TeamsConfig.from_section(settings.teams), submit=kernel.submit,
                           decide=kernel.decide, cache=cache, metrics=TeamsMetrics(registry))
    deliverers["teams"] = adapter.deliver          # later answers (expired approvals)
    web_app = build_web_app(..., registry=registry, mounts=[slack_mount(...), teams_mount(adapter)])

Everything botbuilder-specific stays in this package (the Bot Framework SDK is archived
upstream; a move to the Microsoft 365 Agents SDK should stay local to it).
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from adapters.teams.app import TeamsAdapter
from adapters.teams.config import TeamsConfig
from adapters.teams.http import TEAMS_PATH, TeamsEndpoint
from adapters.teams.metrics import TeamsMetrics

__all__ = ["TEAMS_PATH", "TeamsAdapter", "TeamsConfig", "TeamsEndpoint", "TeamsMetrics", "teams_mount"]


def teams_mount(adapter: TeamsAdapter) -> Callable[[web.Application], None]:
    """Mount `/api/messages` on an aiohttp app, with worker start/stop on its lifecycle."""

    def mount(app: web.Application) -> None:
        app.add_routes(TeamsEndpoint(adapter).routes())

        async def start(_: web.Application) -> None:
            await adapter.start()

        async def stop(_: web.Application) -> None:
            await adapter.stop()

        app.on_startup.append(start)
        app.on_cleanup.append(stop)

    return mount
