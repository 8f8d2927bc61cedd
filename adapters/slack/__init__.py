"""Slack adapter: Bolt AsyncApp in our aiohttp server (HTTP) or over Socket Mode.

Composition root:

    adapter = SlackAdapter(SlackConfig.from_section(settings.slack), submit=kernel.submit,
                           decide=kernel.decide, cache=cache, metrics=SlackMetrics(registry))
    web_app = build_web_app(..., mounts=[slack_mount(adapter)])
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from adapters.slack.app import COMMAND, SlackAdapter
from adapters.slack.config import SlackConfig
from adapters.slack.http import SLACK_PATH, SlackEndpoint
from adapters.slack.metrics import SlackMetrics
from adapters.slack.socket import SlackSocketMode

__all__ = [
    "COMMAND",
    "SLACK_PATH",
    "SlackAdapter",
    "SlackConfig",
    "SlackEndpoint",
    "SlackMetrics",
    "SlackSocketMode",
    "slack_mount",
]


def slack_mount(adapter: SlackAdapter) -> Callable[[web.Application], None]:
    """Mount the adapter on an aiohttp app: the HTTP endpoint (http mode) or a Socket Mode
    connection (socket mode), plus worker start/stop with the app's lifecycle."""

    def mount(app: web.Application) -> None:
        config = adapter.config
        socket = SlackSocketMode(adapter, config.app_token) if config.mode == "socket" else None
        if socket is None:
            app.add_routes(SlackEndpoint(adapter, config.signing_secret).routes())

        async def start(_: web.Application) -> None:
            await adapter.start()
            if socket is not None:
                await socket.start()

        async def stop(_: web.Application) -> None:
            if socket is not None:
                await socket.stop()
            await adapter.stop()

        app.on_startup.append(start)
        app.on_cleanup.append(stop)

    return mount
