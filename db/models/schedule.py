"""Schedules and their runs: one run row per (schedule, tick), the tick's claim across replicas;
the same claim for the bot's own periodic jobs (retention)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.columns import created, json_column, one_of
from db.types import Base, UtcDateTime

SCHEDULE_STATES = ("active", "paused", "pending_approval")
NOTIFY_MODES = ("change", "always")


class ScheduleRow(Base):
    __tablename__ = "schedules"
    __table_args__ = (
        one_of("state", SCHEDULE_STATES),
        one_of("notify", NOTIFY_MODES),
        Index(None, "state", "next_run_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)  # "schedule 3" in chat
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    plan: Mapped[dict[str, Any]] = json_column(dict)
    cadence: Mapped[dict[str, Any]] = json_column(dict)
    destination: Mapped[dict[str, Any]] = json_column(dict)
    notify: Mapped[str] = mapped_column(String(8), nullable=False, default="change")
    owner: Mapped[str] = mapped_column(String(255), nullable=False)
    message: Mapped[dict[str, Any]] = json_column(dict)
    state: Mapped[str] = mapped_column(String(20), nullable=False, default="active")
    next_run_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    last_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_state: Mapped[dict[str, Any] | None] = json_column(None, nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = created()


class ScheduleRun(Base):
    """One tick of a schedule; its primary key is the tick's claim (a second insert fails)."""

    __tablename__ = "schedule_runs"
    __table_args__ = (Index(None, "execution_id"), Index(None, "tick_at"))

    schedule_id: Mapped[str] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"), primary_key=True)
    tick_at: Mapped[datetime] = mapped_column(UtcDateTime(), primary_key=True)
    claimed_by: Mapped[str] = mapped_column(String(255), nullable=False)
    claimed_at: Mapped[datetime] = created()
    execution_id: Mapped[str | None] = mapped_column(String(32))  # no FK: executions have their own retention
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    state: Mapped[dict[str, Any] | None] = json_column(None, nullable=True)
    posted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class MaintenanceRun(Base):
    """One tick of one of the bot's own periodic jobs (pruning old results): the primary key
    (job, tick) is the tick's claim across replicas, as for schedule runs."""

    __tablename__ = "maintenance_runs"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    tick_at: Mapped[datetime] = mapped_column(UtcDateTime(), primary_key=True)
    claimed_by: Mapped[str] = mapped_column(String(255), nullable=False)
    claimed_at: Mapped[datetime] = created()
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    result: Mapped[dict[str, Any] | None] = json_column(None, nullable=True)
