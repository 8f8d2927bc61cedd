"""Alert diagnosis threads in a Slack channel (adapters.alerts.AlertPoster)."""

from __future__ import annotations

from adapters.slack.app import SlackAdapter
from pipeline.contracts import InboundMessage, Response


class SlackAlertPoster:
    """Heads a thread in `channel`, notes in it, and posts findings rendered like any answer."""

    name = "slack"

    def __init__(self, adapter: SlackAdapter, channel: str) -> None:
        self.adapter = adapter
        self.channel = channel

    async def open(self, text: str) -> str:
        answer = await self.adapter.client.chat_postMessage(channel=self.channel, text=text)
        return str(answer["ts"])

    async def note(self, thread: str, text: str) -> None:
        await self.adapter.client.chat_postMessage(channel=self.channel, thread_ts=thread, text=text)

    async def findings(self, message: InboundMessage, response: Response) -> None:
        await self.adapter.deliver(message, response)
