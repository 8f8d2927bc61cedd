"""Notifications through Apprise channel URLs, with Jinja2 templates stored in the database.

Services looked up through the context: `NotifyConfig` (channel routes, retries;
without it nothing is configured), `TemplateStore` and `DeliveryLog` (optional:
no templates / no delivery log without them), `Notifier` (optional: built per call
from the config otherwise; register one to share its redactor).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domains.communication import phrasing as words
from domains.communication.config import NotifyConfig
from domains.communication.destinations import check_channel_host
from domains.communication.notifier import Notifier, route_for
from domains.communication.ports import DeliveryLog, MessageTemplate, TemplateStore
from domains.communication.templates import Rendered, render
from pipeline.contracts import AssetRef, Risk, ToolOutput
from pipeline.errors import InvalidRequest, ToolFailed
from pipeline.registry import ToolContext, ToolSet

communication = ToolSet("communication")
DEFAULT_TITLE = "OpsConductor"
NO_ROUTE_FIX = (
    "an administrator adds the channel's Apprise URL to OPSCONDUCTOR_NOTIFY__CHANNELS: "
    "docs/operations.md, Notifications"
)


class NotifyArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Literal["email", "slack", "teams", "webhook", "sms"] = Field(
        description="from the recipient when not given (an address: email, a URL: webhook, a phone "
        "number: sms, anything else: slack); an address, URL or number overrides a channel it "
        "cannot be"
    )
    to: str = Field(..., min_length=1, max_length=320)
    message: str = Field("", max_length=10_000)
    template: str | None = Field(None, max_length=128)

    @model_validator(mode="before")
    @classmethod
    def channel_from_recipient(cls, value: object) -> object:
        if not isinstance(value, dict) or not isinstance(value.get("to"), str):
            return value
        written, kind = value.get("channel"), channel_for(value["to"])
        if not written:
            return {**value, "channel": kind}
        addressed = kind in ("email", "webhook", "sms")  # an address, a URL or a number says it all
        return {**value, "channel": kind} if addressed and written != kind else value


def channel_for(to: str) -> str:
    """The channel a recipient is written for: an address, a URL, a phone number or a chat channel."""
    if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", to):
        return "email"
    if re.match(r"https?://", to):
        return "webhook"
    if re.fullmatch(r"\+\d{7,15}", to):
        return "sms"
    return "slack"


class ListTemplatesArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


def channel_ready(services: Mapping[type[Any], Any], args: NotifyArgs) -> str | None:
    """Why the message has nowhere to go (no route configured for its channel or name), or None."""
    config = services.get(NotifyConfig) or NotifyConfig()
    try:
        route_for(config, args.channel, args.to)
    except (ToolFailed, InvalidRequest) as err:
        return f"{err} ({NO_ROUTE_FIX})"
    return None


@communication.tool(
    "communication.notify",
    NotifyArgs,
    risk=Risk.WRITE,
    timeout_s=60,
    takes_targets=False,
    phrasing=words.NOTIFY,
    ready=channel_ready,
)
async def notify(ctx: ToolContext, target: AssetRef | None, args: NotifyArgs) -> ToolOutput:
    """Send a message by e-mail, Slack, Teams, webhook or SMS, optionally from a template."""
    config = ctx.find(NotifyConfig) or NotifyConfig()
    notifier = ctx.find(Notifier) or Notifier(
        config,
        log_store=ctx.find(DeliveryLog),  # type: ignore[type-abstract]
    )
    route = route_for(config, args.channel, args.to)
    await check_channel_host(ctx, route.url, route.name)
    content = await _content(ctx, args, config.max_message_chars)
    outcome = await notifier.deliver(
        route,
        channel=args.channel,
        title=content.subject or DEFAULT_TITLE,
        body=content.body,
        template=args.template,
        execution_id=ctx.execution_id,
    )
    data = {
        "channel": args.channel,
        "route": outcome.route,
        "to": outcome.to_redacted,
        "template": args.template,
        "status": outcome.status,
        "attempts": outcome.attempts,
    }
    tries = f"{outcome.attempts} attempt{'s' if outcome.attempts != 1 else ''}"
    if outcome.status != "sent":
        output = ToolOutput(
            summary=f"not delivered after {tries}", data={**data, "error": outcome.error}, ok=False
        )
        raise ToolFailed(
            f"could not deliver by {args.channel} to {outcome.to_redacted} after {tries}: {outcome.error}",
            output=output,
        )
    return ToolOutput(summary=f"sent by {args.channel} to {outcome.to_redacted} ({tries})", data=data)


async def _content(ctx: ToolContext, args: NotifyArgs, max_chars: int) -> Rendered:
    if not args.template:
        if not args.message.strip():
            raise InvalidRequest("nothing to send: give a message or a template")
        return Rendered("", args.message)
    template = await _template(ctx, args.template, args.channel)
    context = {
        "message": args.message,
        "to": args.to,
        "channel": args.channel,
        "execution_id": ctx.execution_id,
        "now": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return render(template, context, max_chars=max_chars)


async def _template(ctx: ToolContext, name: str, channel: str) -> MessageTemplate:
    store = ctx.find(TemplateStore)  # type: ignore[type-abstract]
    template = await store.get_template(name) if store is not None else None
    if template is None:
        names = sorted(t.name for t in await store.list_templates()) if store is not None else []
        known = f"; available: {', '.join(names)}" if names else ""
        raise ToolFailed(f"no template named {name!r}{known}")
    if template.channel not in ("any", channel):
        raise ToolFailed(f"template {name!r} is for {template.channel}, not {channel}")
    return template


@communication.tool(
    "communication.list_templates",
    ListTemplatesArgs,
    risk=Risk.READ,
    timeout_s=10,
    takes_targets=False,
    phrasing=words.LIST_TEMPLATES,
)
async def list_templates(ctx: ToolContext, target: AssetRef | None, args: ListTemplatesArgs) -> ToolOutput:
    """List the notification templates."""
    store = ctx.find(TemplateStore)  # type: ignore[type-abstract]
    templates = sorted(await store.list_templates(), key=lambda t: t.name) if store is not None else []
    rows = [{"name": t.name, "channel": t.channel, "subject": t.subject} for t in templates]
    names = ", ".join(r["name"] for r in rows[:20]) + (" ..." if len(rows) > 20 else "")
    summary = f"{len(rows)} template{'s' if len(rows) != 1 else ''}" + (f": {names}" if rows else "")
    return ToolOutput(summary=summary, data={"templates": rows})
