"""The whole data model: assets, tool catalog and audit, executions, network analysis, communication.

Portable between SQLite and PostgreSQL: string hex ids, JSON (JSONB on PostgreSQL),
UTC-aware timestamps (`UtcDateTime`), named constraints. Enumerations are plain
strings guarded by CHECK constraints so adding a value is a one-line migration.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.types import Base, JsonType, UtcDateTime, new_id, utcnow

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


# --------------------------------------------------------------------------- assets


class Asset(Base):
    __tablename__ = "assets"
    __table_args__ = (
        Index(None, "type"),
        Index(None, "environment"),
        Index(None, "address"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(63), unique=True, nullable=False)
    address: Mapped[str] = mapped_column(String(255), nullable=False)
    type: Mapped[str] = mapped_column(String(64), nullable=False, default="server")
    os: Mapped[str] = mapped_column(String(64), nullable=False, default="linux")
    environment: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    location: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    tags: Mapped[dict[str, str]] = json_column(dict)
    services: Mapped[list[str]] = json_column(list)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class AssetRelationship(Base):
    __tablename__ = "asset_relationships"
    __table_args__ = (
        UniqueConstraint("source_id", "target_id", "kind"),
        CheckConstraint("source_id <> target_id", name="not_self"),
        one_of("kind", RELATIONSHIP_KINDS),
        Index(None, "target_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), nullable=False)
    target_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    created_at: Mapped[datetime] = created()


class AssetCredential(Base):
    """An encrypted secret (AES-256-GCM); associated data binds it to asset name + kind."""

    __tablename__ = "asset_credentials"
    __table_args__ = (
        UniqueConstraint("asset_id", "kind"),
        one_of("kind", CREDENTIAL_KINDS),
        Index(None, "key_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    username: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    nonce: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    key_id: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = created()
    rotated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


# --------------------------------------------------------------------------- tool catalog, audit


class Tool(Base):
    __tablename__ = "tools"
    __table_args__ = (one_of("risk", RISKS), CheckConstraint("timeout_s > 0", name="timeout_positive"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    domain: Mapped[str] = mapped_column(String(64), nullable=False)
    risk: Mapped[str] = mapped_column(String(16), nullable=False)
    timeout_s: Mapped[float] = mapped_column(Float, nullable=False, default=30.0)
    takes_targets: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    args_schema: Mapped[dict[str, Any]] = json_column(dict)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class ToolCapability(Base):
    __tablename__ = "tool_capabilities"
    __table_args__ = (UniqueConstraint("tool", "capability"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tool: Mapped[str] = mapped_column(ForeignKey("tools.name", ondelete="CASCADE"), nullable=False)
    capability: Mapped[str] = mapped_column(String(64), nullable=False)


class IntentPattern(Base):
    __tablename__ = "intent_patterns"
    __table_args__ = (Index(None, "tool"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pattern: Mapped[str] = mapped_column(Text, nullable=False)
    tool: Mapped[str] = mapped_column(ForeignKey("tools.name", ondelete="CASCADE"), nullable=False)
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class ToolTelemetry(Base):
    __tablename__ = "tool_telemetry"
    __table_args__ = (one_of("status", TARGET_STATUSES), Index(None, "tool", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tool: Mapped[str] = mapped_column(String(128), nullable=False)
    execution_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    duration_ms: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    at: Mapped[datetime] = created()


class AuditRecord(Base):
    """One audit entry; `hash` chains it to the previous one (see db.audit)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint("seq > 0", name="seq_positive"),
        Index(None, "execution_id"),
        Index(None, "at"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    actor: Mapped[str] = mapped_column(String(255), nullable=False)
    event: Mapped[str] = mapped_column(String(64), nullable=False)
    execution_id: Mapped[str | None] = mapped_column(String(32))  # no FK: audit outlives executions
    chat: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    detail: Mapped[dict[str, Any]] = json_column(dict)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)


class AuditChainHead(Base):
    """The single row holding the last seq/hash: serialises appends, reveals deletions at the end."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)


# --------------------------------------------------------------------------- execution


class Execution(Base):
    __tablename__ = "executions"
    __table_args__ = (
        one_of("status", EXECUTION_STATUSES),
        one_of("risk", RISKS),
        Index(None, "status"),
        Index(None, "principal"),
        Index(None, "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    request: Mapped[str] = mapped_column(Text, nullable=False)
    platform: Mapped[str] = mapped_column(String(32), nullable=False)
    tenant: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    user_id: Mapped[str] = mapped_column(String(255), nullable=False)
    channel: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    thread: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    principal: Mapped[str] = mapped_column(String(255), nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False, default="plan")
    risk: Mapped[str] = mapped_column(String(16), nullable=False, default="read")
    plan: Mapped[dict[str, Any]] = json_column(dict)
    message: Mapped[dict[str, Any]] = json_column(dict)
    created_at: Mapped[datetime] = created()
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ExecutionStep(Base):
    __tablename__ = "execution_steps"
    __table_args__ = (
        UniqueConstraint("execution_id", "step_id"),
        one_of("status", STEP_STATUSES),
        one_of("risk", RISKS),
        CheckConstraint("attempt >= 0", name="attempt_nonnegative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    execution_id: Mapped[str] = mapped_column(ForeignKey("executions.id", ondelete="CASCADE"), nullable=False)
    step_id: Mapped[str] = mapped_column(String(64), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    tool: Mapped[str] = mapped_column(String(128), nullable=False)
    args: Mapped[dict[str, Any]] = json_column(dict)
    targets: Mapped[list[Any]] = json_column(list)
    depends_on: Mapped[list[str]] = json_column(list)
    risk: Mapped[str] = mapped_column(String(16), nullable=False, default="read")
    timeout_s: Mapped[float] = mapped_column(Float, nullable=False, default=30.0)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="planned")
    attempt: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    result: Mapped[dict[str, Any] | None] = json_column(None, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class QueuedJob(Base):
    """A unit of work for executor workers (embedded default and SQL-backed queues)."""

    __tablename__ = "execution_queue"
    __table_args__ = (
        one_of("state", QUEUE_STATES),
        CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
        Index(None, "state", "available_at"),
        Index(None, "execution_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    execution_id: Mapped[str] = mapped_column(ForeignKey("executions.id", ondelete="CASCADE"), nullable=False)
    step_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    available_at: Mapped[datetime] = created()
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = created()


class ExecutionLock(Base):
    """One running execution per target at a time; stale locks expire."""

    __tablename__ = "execution_locks"
    __table_args__ = (Index(None, "expires_at"), Index(None, "execution_id"))

    target: Mapped[str] = mapped_column(String(255), primary_key=True)
    execution_id: Mapped[str] = mapped_column(ForeignKey("executions.id", ondelete="CASCADE"), nullable=False)
    acquired_at: Mapped[datetime] = created()
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class Approval(Base):
    __tablename__ = "approvals"
    __table_args__ = (one_of("state", APPROVAL_STATES), Index(None, "state", "expires_at"))

    execution_id: Mapped[str] = mapped_column(
        ForeignKey("executions.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    requester: Mapped[str] = mapped_column(String(255), nullable=False)
    four_eyes: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = created()
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    decided_by: Mapped[str | None] = mapped_column(String(255))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class TimeoutPolicy(Base):
    """Per-tool timeout/retry overrides; `tool_pattern` is a glob such as 'network.*'."""

    __tablename__ = "timeout_policies"
    __table_args__ = (
        CheckConstraint("timeout_s > 0", name="timeout_positive"),
        CheckConstraint("retries >= 0", name="retries_nonnegative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tool_pattern: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    timeout_s: Mapped[float] = mapped_column(Float, nullable=False)
    retries: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


# --------------------------------------------------------------------------- network analysis


class NetworkScan(Base):
    __tablename__ = "network_scans"
    __table_args__ = (
        one_of("kind", SCAN_KINDS),
        one_of("status", SCAN_STATUSES),
        Index(None, "execution_id"),
        Index(None, "started_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    execution_id: Mapped[str | None] = mapped_column(ForeignKey("executions.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    requested_by: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    targets: Mapped[list[str]] = json_column(list)
    parameters: Mapped[dict[str, Any]] = json_column(dict)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="running")
    summary: Mapped[dict[str, Any]] = json_column(dict)
    started_at: Mapped[datetime] = created()
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ConnectivityTest(Base):
    """Ping result for one target of a scan."""

    __tablename__ = "connectivity_tests"
    __table_args__ = (
        CheckConstraint("sent >= 0 AND received >= 0", name="counts_nonnegative"),
        Index(None, "scan_id"),
        Index(None, "target", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[str] = mapped_column(ForeignKey("network_scans.id", ondelete="CASCADE"), nullable=False)
    target: Mapped[str] = mapped_column(String(255), nullable=False)
    address: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    sent: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    received: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    loss_pct: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    rtt_min_ms: Mapped[float | None] = mapped_column(Float)
    rtt_avg_ms: Mapped[float | None] = mapped_column(Float)
    rtt_max_ms: Mapped[float | None] = mapped_column(Float)
    reachable: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    error: Mapped[str] = mapped_column(Text, nullable=False, default="")
    at: Mapped[datetime] = created()


class PortScanResult(Base):
    """State of one port on one target of a scan."""

    __tablename__ = "port_scans"
    __table_args__ = (
        UniqueConstraint("scan_id", "target", "port", "protocol"),
        CheckConstraint("port BETWEEN 1 AND 65535", name="port_range"),
        one_of("state", PORT_STATES),
        one_of("protocol", ("tcp", "udp")),
        Index(None, "target", "port"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[str] = mapped_column(ForeignKey("network_scans.id", ondelete="CASCADE"), nullable=False)
    target: Mapped[str] = mapped_column(String(255), nullable=False)
    address: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    port: Mapped[int] = mapped_column(Integer, nullable=False)
    protocol: Mapped[str] = mapped_column(String(8), nullable=False, default="tcp")
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    banner: Mapped[str] = mapped_column(Text, nullable=False, default="")
    at: Mapped[datetime] = created()


# --------------------------------------------------------------------------- communication


class MessageTemplate(Base):
    """A Jinja2 template for notifications; `channel` 'any' fits every channel."""

    __tablename__ = "message_templates"
    __table_args__ = (one_of("channel", CHANNELS),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False, default="any")
    subject: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class DeliveryLog(Base):
    """One notification attempt; `to_redacted` never holds a full address or URL secret."""

    __tablename__ = "delivery_logs"
    __table_args__ = (
        one_of("status", DELIVERY_STATUSES),
        CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
        Index(None, "at"),
        Index(None, "execution_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    execution_id: Mapped[str | None] = mapped_column(ForeignKey("executions.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    template: Mapped[str | None] = mapped_column(String(128))
    to_redacted: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    error: Mapped[str] = mapped_column(Text, nullable=False, default="")
    at: Mapped[datetime] = created()


class ProcessedEvent(Base):
    """Platform event ids already handled (Slack retries, Teams redeliveries)."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("platform", "event_id"), Index(None, "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(32), nullable=False)
    event_id: Mapped[str] = mapped_column(String(255), nullable=False)
    at: Mapped[datetime] = created()
