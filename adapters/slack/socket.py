"""Socket Mode: the same Bolt app over a websocket, for workspaces without a public URL.

`apps.connections.open` (with the xapp- token) gives a wss:// URL; Slack pushes
envelopes there and the handler acks each with its envelope_id. No signature check is
involved: the connection itself is authenticated by the app token.
"""

from __future__ import annotations

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from adapters.slack.app import SlackAdapter


class SlackSocketMode:
    """Start/stop wrapper around Bolt's AsyncSocketModeHandler for the adapter's app."""

    def __init__(self, adapter: SlackAdapter, app_token: str, ping_interval_s: float = 10.0) -> None:
        if not app_token.startswith("xapp-"):
            raise ValueError("Socket Mode needs an app-level token (xapp-...)")
        self.adapter = adapter
        self.handler = AsyncSocketModeHandler(
            adapter.bolt, app_token, web_client=adapter.client, ping_interval=ping_interval_s
        )

    async def start(self) -> None:
        """Open the connection (returns once connected; the client reconnects on its own)."""
        await self.handler.connect_async()  # type: ignore[no-untyped-call]

    async def stop(self) -> None:
        await self.handler.close_async()  # type: ignore[no-untyped-call]
