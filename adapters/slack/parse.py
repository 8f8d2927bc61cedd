"""Slack payloads -> neutral `InboundMessage` / `Decision`; Slack's text markup undone.

Slack encodes `&`, `<`, `>` and wraps links, e-mail addresses, channels and mentions in
`<...>`. The kernel wants the words the person typed, so the bot's own mention is
removed and the rest unwrapped to what a reader sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipeline.contracts import ChatIdentity, Decision, DecisionAction, InboundMessage

MAX_BUTTON_VALUE = 128
_LABELLED = re.compile(r"<(?:mailto:|tel:)?([^<>|]+)\|([^<>]+)>")
_CHANNEL = re.compile(r"<#[A-Z0-9]+\|?([^<>]*)>")
_BARE = re.compile(r"<(?:mailto:)?([^@#!<>|][^<>|]*)>")


def plain_text(text: str, bot_user_id: str | None) -> str:
    """What a reader sees: the bot's mention dropped, links and addresses unwrapped."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(1)}", text)
    text = _LABELLED.sub(lambda m: m.group(2), text)
    text = _BARE.sub(lambda m: m.group(1), text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


def team_of(body: dict[str, Any]) -> str:
    """The workspace id, wherever this payload kind keeps it."""
    team = body.get("team_id") or body.get("team")
    if isinstance(team, dict):
        team = team.get("id")
    if not team and isinstance(body.get("user"), dict):
        team = body["user"].get("team_id")
    return str(team or "")


def from_bot(event: dict[str, Any]) -> bool:
    return bool(event.get("bot_id")) or event.get("subtype") == "bot_message"


@dataclass(frozen=True)
class Where:
    """Where the answer goes: a channel, optionally a thread; a command's response_url."""

    channel: str
    thread_ts: str | None = None
    response_url: str | None = None


def event_message(
    body: dict[str, Any], event: dict[str, Any], bot_user_id: str | None, *, in_thread: bool
) -> tuple[InboundMessage, Where]:
    """An app_mention or DM event; channel mentions answer in a thread under the message."""
    team, channel, ts = team_of(body), str(event.get("channel", "")), str(event.get("ts", ""))
    thread = str(event.get("thread_ts") or (ts if in_thread else "")) or None
    message = InboundMessage(
        identity=ChatIdentity(platform="slack", tenant=team, user_id=str(event.get("user", ""))),
        text=plain_text(str(event.get("text", "")), bot_user_id),
        channel=channel,
        thread=thread or "",
        message_id=f"slack:{team}:{channel}:{ts}",
    )
    return message, Where(channel=channel, thread_ts=thread)


def command_message(body: dict[str, Any]) -> tuple[InboundMessage, Where]:
    """A slash command: answered in its channel (or through response_url when not a member)."""
    team, channel = team_of(body), str(body.get("channel_id", ""))
    message = InboundMessage(
        identity=ChatIdentity(
            platform="slack",
            tenant=team,
            user_id=str(body.get("user_id", "")),
            display_name=str(body.get("user_name", "")),
        ),
        text=plain_text(str(body.get("text", "")), None),
        channel=channel,
        message_id=f"slack:{team}:command:{body.get('trigger_id', '')}",
    )
    return message, Where(channel=channel, response_url=body.get("response_url"))


@dataclass(frozen=True)
class Click:
    """A button click on an approval prompt."""

    decision: Decision
    channel: str
    message_ts: str
    thread_ts: str | None
    response_url: str | None
    when: datetime


def click(
    body: dict[str, Any], action: dict[str, Any], approve: bool, kind: DecisionAction = "decide"
) -> Click | None:
    """The decision a click carries, or None when the payload is malformed."""
    value, user = str(action.get("value", "")), body.get("user") or {}
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    message_ts = (body.get("message") or {}).get("ts") or container.get("message_ts")
    if not value or len(value) > MAX_BUTTON_VALUE or not user.get("id") or not channel or not message_ts:
        return None
    try:
        when = datetime.fromtimestamp(float(action.get("action_ts", "")), UTC)
    except ValueError:
        when = datetime.now(UTC)
    identity = ChatIdentity(
        platform="slack",
        tenant=team_of(body),
        user_id=str(user["id"]),
        display_name=str(user.get("name", "")),
    )
    execution_id, _, digest = value.partition(":")  # "<execution id>:<plan digest>" (render_prompt)
    decision = Decision(
        execution_id=execution_id,
        digest=digest,
        approve=approve,
        action=kind,
        identity=identity,
        idempotency_key=f"slack:{identity.tenant}:{user['id']}:{action.get('action_ts', '')}",
        channel=str(channel),
    )
    thread_ts = (body.get("message") or {}).get("thread_ts") or container.get("thread_ts")
    return Click(decision, str(channel), str(message_ts), thread_ts, body.get("response_url"), when)


def suggestion(
    body: dict[str, Any], action: dict[str, Any], max_chars: int = 2_000
) -> tuple[InboundMessage, Where] | None:
    """A click on a suggested request: that request, sent by the person who clicked, in the
    thread of the message that offered it. None when the payload is malformed."""
    text, user = str(action.get("value", "")).strip(), body.get("user") or {}
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    message = body.get("message") or {}
    if not text or len(text) > max_chars or not user.get("id") or not channel:
        return None
    team = team_of(body)
    thread = message.get("thread_ts") or container.get("thread_ts") or None
    if thread is None and not str(channel).startswith("D"):  # a channel answer goes in a thread
        thread = message.get("ts") or container.get("message_ts") or None
    inbound = InboundMessage(
        identity=ChatIdentity(
            platform="slack", tenant=team, user_id=str(user["id"]), display_name=str(user.get("name", ""))
        ),
        text=text,
        channel=str(channel),
        thread=str(thread or ""),
        message_id=f"slack:{team}:suggestion:{user['id']}:{action.get('action_ts', '')}",
    )
    return inbound, Where(channel=str(channel), thread_ts=str(thread) if thread else None)


def dedupe_key(body: dict[str, Any]) -> str | None:
    """What identifies one delivery: event_id, a click (action_ts + user) or a command's trigger_id."""
    if body.get("event_id"):
        return f"event:{body['event_id']}"
    actions = body.get("actions")
    if body.get("type") == "block_actions" and isinstance(actions, list) and actions:
        user = (body.get("user") or {}).get("id", "")
        return f"action:{team_of(body)}:{user}:{actions[0].get('action_ts', '')}"
    if body.get("command") and body.get("trigger_id"):
        return f"command:{body['trigger_id']}"
    return None
