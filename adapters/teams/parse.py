"""Teams activities -> neutral `InboundMessage` / `Decision`; the bot's mention removed.

Teams puts the tenant in `channelData.tenant.id`, the person's Azure AD object id in
`from.aadObjectId`, and a channel thread in the conversation id (`19:...;messageid=N`).
Card buttons arrive either as an `adaptiveCard/action` invoke (Action.Execute: verb and
data under `value.action`) or as a message whose `value` is the button's data
(Action.Submit, older clients).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from pipeline.contracts import ChatIdentity, Decision, DecisionAction, InboundMessage

PLATFORM = "teams"
CARD_ACTION = "adaptiveCard/action"
VERBS = {"approve": True, "reject": False, "check": False, "undo": False, "cancel": False}  # verb -> approve
ASIDES: dict[str, DecisionAction] = {"check": "check", "undo": "undo", "cancel": "cancel"}  # not approvals
SUGGEST = "suggest"  # Action.Submit data {"verb": "suggest", "text": <request>}: sent as the clicker's
MAX_SUGGESTION = 2_000
_EXECUTION_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_AT_TAG = re.compile(r"</?at[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]{1,200}>")


def tenant_of(activity: Activity) -> str:
    """The Azure AD tenant id: channelData.tenant.id, else conversation.tenantId."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = data.get("tenant") if isinstance(data.get("tenant"), dict) else {}
    found = tenant.get("id") if tenant else None
    if not found and activity.conversation is not None:
        found = activity.conversation.tenant_id
    return str(found or "")


def identity_of(activity: Activity) -> ChatIdentity | None:
    """Who sent it, or None when Teams gave no Azure AD object id (guests of other
    services, bots): such senders cannot be matched to a person."""
    sender = activity.from_property
    if sender is None or not sender.aad_object_id:
        return None
    return ChatIdentity(
        platform=PLATFORM,
        tenant=tenant_of(activity),
        user_id=str(sender.aad_object_id).lower(),
        display_name=str(sender.name or ""),
    )


def request_text(activity: Activity) -> str:
    """What the person asked: the bot's own mention removed, other mentions kept as names,
    HTML entities and stray tags undone, whitespace collapsed."""
    text = activity.text or ""
    if activity.recipient is not None and activity.entities:
        try:
            text = TurnContext.remove_recipient_mention(activity) or ""
        except (re.error, KeyError, TypeError):  # botbuilder treats the name as a regex
            text = activity.text or ""
    text = _AT_TAG.sub("", text)
    text = _TAG.sub(" ", text)
    return " ".join(html.unescape(text).split())


def split_conversation(conversation_id: str) -> tuple[str, str]:
    """`19:abc@thread.tacv2;messageid=123` -> ("19:abc@thread.tacv2", "123")."""
    base, _, rest = conversation_id.partition(";")
    thread = rest.split("=", 1)[1] if rest.startswith("messageid=") else ""
    return base, thread


def suggested(activity: Activity) -> str | None:
    """The request a suggestion button carries ('' when the button is malformed), or None when
    the activity is no suggestion click."""
    value = activity.value if isinstance(activity.value, dict) else {}
    if activity.type != "message" or value.get("verb") != SUGGEST:
        return None
    text = value.get("text")
    if not isinstance(text, str) or len(text) > MAX_SUGGESTION:
        return ""
    return " ".join(text.split())


def inbound(activity: Activity, identity: ChatIdentity) -> InboundMessage:
    """The message as the kernel takes it; a suggestion click is the request it carries."""
    conversation = activity.conversation.id if activity.conversation else ""
    channel, thread = split_conversation(conversation)
    return InboundMessage(
        identity=identity,
        text=suggested(activity) or request_text(activity),
        channel=channel,
        thread=thread,
        message_id=f"teams:{identity.tenant}:{conversation}:{activity.id or ''}",
    )


def is_personal(activity: Activity) -> bool:
    conversation = activity.conversation
    return conversation is None or conversation.conversation_type in (None, "personal")


@dataclass(frozen=True)
class CardClick:
    """A press of Approve/Reject: the verb and execution id it carries, where the card is."""

    verb: str
    execution_id: str
    card_activity_id: str | None  # the message holding the card (to update it in place)
    when: datetime
    digest: str = ""  # the plan digest the card showed

    @property
    def known(self) -> bool:
        return self.verb in VERBS and bool(_EXECUTION_ID.match(self.execution_id))


def card_click(activity: Activity) -> CardClick | None:
    """The click an invoke or an Action.Submit message carries; None when it carries none."""
    value = activity.value if isinstance(activity.value, dict) else None
    if value is None:
        return None
    if activity.type == "invoke":
        action = value.get("action")
        action = action if isinstance(action, dict) else {}
        verb, data = action.get("verb"), action.get("data")
    else:
        verb, data = value.get("verb"), value
    data = data if isinstance(data, dict) else {}
    execution_id, digest = data.get("execution_id"), data.get("digest")
    return CardClick(
        verb=str(verb or "")[:64],
        execution_id=execution_id if isinstance(execution_id, str) else "",
        card_activity_id=activity.reply_to_id,
        when=_timestamp(activity),
        digest=digest[:64] if isinstance(digest, str) else "",
    )


def decision(activity: Activity, click: CardClick, identity: ChatIdentity) -> Decision:
    return Decision(
        execution_id=click.execution_id,
        approve=VERBS[click.verb],
        action=ASIDES.get(click.verb, "decide"),
        identity=identity,
        digest=click.digest,
        idempotency_key=f"teams:{identity.tenant}:{activity.id or ''}",
        channel=split_conversation(activity.conversation.id if activity.conversation else "")[0],
    )


def _timestamp(activity: Activity) -> datetime:
    stamp: Any = activity.timestamp
    if isinstance(stamp, datetime):
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    return datetime.now(UTC)
