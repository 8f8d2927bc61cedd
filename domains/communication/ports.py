"""Ports the notification tools need; `db.templates` implements them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

DeliveryStatus = Literal["sent", "failed", "retrying"]


@dataclass(frozen=True)
class MessageTemplate:
    """A stored Jinja2 template; `channel` "any" fits every channel."""

    name: str
    body: str
    subject: str = ""
    channel: str = "any"


@dataclass(frozen=True)
class DeliveryAttempt:
    """One delivery attempt as logged: never a URL secret, never a full recipient address."""

    channel: str
    route: str
    to_redacted: str
    status: DeliveryStatus
    attempts: int
    error: str = ""
    template: str | None = None
    execution_id: str | None = None


class TemplateStore(Protocol):
    """Notification templates by name."""

    async def list_templates(self) -> Sequence[MessageTemplate]: ...

    async def get_template(self, name: str) -> MessageTemplate | None: ...


class DeliveryLog(Protocol):
    """Appends one row per delivery attempt. Implementations must not raise for a missing execution."""

    async def record(self, attempt: DeliveryAttempt) -> None: ...
