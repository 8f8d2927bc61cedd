"""Alert diagnosis threads in a Teams channel (adapters.alerts.AlertPoster).

A thread is a new conversation in the channel (`POST {serviceUrl}/v3/conversations` with
`channelData.channel.id`, botbuilder's `CloudAdapter.create_conversation`); its id
(`19:...@thread.tacv2;messageid=...`) is all that is needed to post in it later, from any
replica, so notes and findings are proactive messages to that conversation. Findings are the
answer's Adaptive Card, suggestions included (Action.Submit: a click is the clicker's own request).
"""

from __future__ import annotations

from botbuilder.core import TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)

from adapters.teams import render
from adapters.teams.app import TeamsAdapter
from adapters.teams.outbox import CardThread
from pipeline.contracts import InboundMessage, Response

TEAMS_CHANNEL_ID = "msteams"


class TeamsAlertPoster:
    """Heads threads in the Teams `channel` (`19:...@thread.tacv2`) of the team at `service_url`."""

    name = "teams"

    def __init__(self, adapter: TeamsAdapter, channel: str, service_url: str, tenant_id: str = "") -> None:
        self.adapter = adapter
        self.channel = channel
        self.service_url = service_url
        self.tenant_id = tenant_id

    async def open(self, text: str) -> str:
        app_id = self.adapter.config.app_id
        channel_data: dict[str, object] = {"channel": {"id": self.channel}}
        if self.tenant_id:
            channel_data["tenant"] = {"id": self.tenant_id}
        parameters = ConversationParameters(
            is_group=True,
            bot=ChannelAccount(id=app_id),
            channel_data=channel_data,
            activity=Activity(type=ActivityTypes.message, text=text),
            tenant_id=self.tenant_id or None,
        )
        created: list[str] = []

        async def remember(context: TurnContext) -> None:
            created.append(str(context.activity.conversation.id))

        await self.adapter.cloud.create_conversation(
            app_id, remember, parameters, TEAMS_CHANNEL_ID, self.service_url
        )
        return created[0]

    async def note(self, thread: str, text: str) -> None:
        await self._thread(thread).say(text)

    async def findings(self, message: InboundMessage, response: Response) -> None:
        await self._thread(message.thread).show(render.render(response), response.summary)

    def _thread(self, thread: str) -> CardThread:
        reference = ConversationReference(
            channel_id=TEAMS_CHANNEL_ID,
            service_url=self.service_url,
            bot=ChannelAccount(id=self.adapter.config.app_id),
            conversation=ConversationAccount(
                id=thread, is_group=True, conversation_type="channel", tenant_id=self.tenant_id or None
            ),
        )
        return CardThread(self.adapter.cloud, reference, self.adapter.config.app_id)
