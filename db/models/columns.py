"""Enumerations and column helpers shared by the model modules."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, get_args

from sqlalchemy import (
    CheckConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.types import JsonType, UtcDateTime, utcnow
from pipeline.contracts import ExecutionStatus, Risk
from pipeline.ports import ApprovalState

# The kernel's contracts are the one source of these values; the migrations spell them out.
RISKS = tuple(risk.value for risk in Risk)
EXECUTION_STATUSES = get_args(ExecutionStatus)
STEP_STATUSES = ("planned", "running", "succeeded", "failed", "skipped")
APPROVAL_STATES = get_args(ApprovalState)
TARGET_STATUSES = ("ok", "failed", "unreachable", "timeout", "uncertain", "skipped")
RELATIONSHIP_KINDS = ("depends_on", "runs_on", "member_of", "connects_to")
CREDENTIAL_KINDS = ("ssh_key", "password", "winrm")
QUEUE_STATES = ("queued", "claimed", "done", "failed", "dead")
SCAN_KINDS = ("ping", "port_scan", "traceroute", "dns_lookup", "bandwidth")
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
