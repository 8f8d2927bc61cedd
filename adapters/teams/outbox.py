"""Where answers go: one card posted once (a reply to the request) and then updated in place.

Every call is a proactive turn (`CloudAdapter.continue_conversation` with the request's
conversation reference), so it works the same during the request's turn and long after
it ended (a run that finishes minutes after its approval). Posts go to
`/v3/conversations/{conversation}/activities/{request id}` (a reply, in the channel thread
of the request), updates to `PUT .../activities/{card id}`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes, Attachment, ConversationReference

from adapters.rendering import shorten
from adapters.teams.files import outgoing
from adapters.teams.render import CONTENT_TYPE, Card

log = logging.getLogger(__name__)


def card_activity(content: Card, summary: str = "") -> Activity:
    """A message carrying one Adaptive Card; `summary` is what notifications show."""
    return Activity(
        type=ActivityTypes.message,
        attachments=[Attachment(content_type=CONTENT_TYPE, content=content)],
        summary=shorten(summary, 200) if summary else None,
    )


class CardThread:
    """One answer in one conversation: posted once, then updated in place.

    `activity_id` is the card already showing (an approval prompt being decided), or None
    until the first `show` posts one.
    """

    def __init__(
        self,
        adapter: CloudAdapter,
        reference: ConversationReference,
        app_id: str,
        activity_id: str | None = None,
    ) -> None:
        self._adapter = adapter
        self._reference = reference
        self._app_id = app_id
        self.activity_id = activity_id
        self.posts = 0
        self.updates = 0

    async def show(self, content: Card, summary: str = "") -> None:
        """Post the card (first call) or replace the one showing."""
        activity = card_activity(content, summary)
        if self.activity_id is None:
            self.activity_id = await self._post(activity)
        else:
            await self._update(activity, self.activity_id)

    async def post(self, content: Card, summary: str = "") -> None:
        """A card of its own in the same conversation, before the one `show` posts and updates."""
        await self._post(card_activity(content, summary))

    async def say(self, text: str) -> None:
        """A short plain message in the same conversation (refusals, busy)."""
        await self._post(Activity(type=ActivityTypes.message, text=text))

    async def attach(self, files: tuple[str, ...]) -> None:
        """An answer's files after its card: each image inline (a message of its own, so the card
        keeps its size budget), one note naming the files Teams cannot receive."""
        sent = outgoing(files)
        for image in sent.images:
            await self._post(Activity(type=ActivityTypes.message, attachments=[image]))
        if sent.notes:
            await self.say("\n\n".join(sent.notes))

    async def _post(self, activity: Activity) -> str | None:
        async def send(context: TurnContext) -> str | None:
            TurnContext.apply_conversation_reference(activity, self._reference)
            [answer] = await context.adapter.send_activities(context, [activity])
            return str(answer.id) if answer is not None and answer.id else None

        self.posts += 1
        posted = await self._proactive(send)
        return str(posted) if posted else None

    async def _update(self, activity: Activity, activity_id: str) -> None:
        async def update(context: TurnContext) -> None:
            TurnContext.apply_conversation_reference(activity, self._reference)
            activity.id = activity_id
            activity.reply_to_id = None
            await context.adapter.update_activity(context, activity)

        self.updates += 1
        await self._proactive(update)

    async def _proactive(self, action: Callable[[TurnContext], Awaitable[Any]]) -> Any:
        result: list[Any] = []

        async def logic(context: TurnContext) -> None:
            result.append(await action(context))

        await self._adapter.continue_conversation(self._reference, logic, bot_app_id=self._app_id)
        return result[0] if result else None
