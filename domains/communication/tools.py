"""Notifications through Apprise channel URLs, with Jinja2 templates."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline.contracts import AssetRef, Risk, ToolOutput
from pipeline.errors import ToolFailed
from pipeline.registry import ToolContext, ToolSet

communication = ToolSet("communication")


class NotifyArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Literal["email", "slack", "teams", "webhook", "sms"]
    to: str = Field(..., min_length=1, max_length=320)
    message: str = Field("", max_length=10_000)
    template: str | None = Field(None, max_length=128)


class ListTemplatesArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


@communication.tool("communication.notify", NotifyArgs, risk=Risk.WRITE, timeout_s=60, takes_targets=False)
async def notify(ctx: ToolContext, target: AssetRef | None, args: NotifyArgs) -> ToolOutput:
    """Send a message by e-mail, Slack, Teams, webhook or SMS, optionally from a template."""
    raise ToolFailed("notify is not implemented yet")


@communication.tool(
    "communication.list_templates",
    ListTemplatesArgs,
    risk=Risk.READ,
    timeout_s=10,
    takes_targets=False,
)
async def list_templates(ctx: ToolContext, target: AssetRef | None, args: ListTemplatesArgs) -> ToolOutput:
    """List the notification templates."""
    raise ToolFailed("list_templates is not implemented yet")
