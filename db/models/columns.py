"""Enumerations and column helpers shared by the model modules."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.types import JsonType, UtcDateTime, utcnow

RISKS = ("read", "write", "critical")
EXECUTION_STATUSES = (
    "planned",
    "awaiting_approval",
    "approved",
    "rejected",
    "expired",
    "running",
    "succeeded",
    "failed",
    "refused",
    "answered",  # no_action / clarify: nothing to run, the bot only replied
)
STEP_STATUSES = ("planned", "running", "succeeded", "failed", "skipped")
APPROVAL_STATES = ("pending", "approved", "rejected", "expired")
TARGET_STATUSES = ("ok", "failed", "unreachable", "timeout", "skipped")
RELATIONSHIP_KINDS = ("depends_on", "runs_on", "member_of", "connects_to")
CREDENTIAL_KINDS = ("ssh_key", "password", "winrm")
QUEUE_STATES = ("queued", "claimed", "done", "failed", "dead")
SCAN_KINDS = ("ping", "port_scan", "traceroute", "dns_lookup")
SCAN_STATUSES = ("running", "completed", "failed")
PORT_STATES = ("open", "closed", "filtered")
CHANNELS = ("email", "slack", "teams", "webhook", "sms", "console", "any")
DELIVERY_STATUSES = ("sent", "failed", "retrying")


def one_of(column: str, values: Iterable[str], name: str | None = None) -> CheckConstraint:
    """CHECK column IN (...), named `<column>_valid` unless told."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=name or f"{column}_valid")


def created() -> Mapped[datetime]:
    return mapped_column(UtcDateTime(), default=utcnow, nullable=False)


def json_column(default: Any, *, nullable: bool = False) -> Mapped[Any]:
    return mapped_column(JsonType, default=default, nullable=nullable)
