"""Tool catalog, telemetry and the hash-chained audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models.columns import (
    RISKS,
    TARGET_STATUSES,
    created,
    json_column,
    one_of,
)
from db.types import Base, UtcDateTime, utcnow


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
