"""Notification templates and delivery logs; processed platform events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models.columns import (
    CHANNELS,
    DELIVERY_STATUSES,
    created,
    one_of,
)
from db.types import Base, UtcDateTime, utcnow


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
