"""Executions, their steps, jobs, target locks, approvals and timeout policies."""

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
    APPROVAL_STATES,
    EXECUTION_STATUSES,
    QUEUE_STATES,
    RISKS,
    STEP_STATUSES,
    created,
    json_column,
    one_of,
)
from db.types import Base, UtcDateTime, new_id


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
    plan: Mapped[dict[str, Any]] = json_column(dict)  # as shown: masked by the redactor
    sealed_plan: Mapped[str | None] = mapped_column(Text)  # the raw plan, sealed, when masking changed it
    message: Mapped[dict[str, Any]] = json_column(dict)
    created_at: Mapped[datetime] = created()
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    driver: Mapped[str | None] = mapped_column(String(255))  # the replica running the plan
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # renewed while it runs
    cancel_requested_by: Mapped[str | None] = mapped_column(String(255))  # the driver polls it


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
    # digest of the catalog definition this step runs ("" for a built-in tool)
    definition: Mapped[str] = mapped_column(String(64), nullable=False, default="", server_default="")
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
    # plan_digest() of the plan the prompt showed: a decision, and the run after it, hold only for it
    plan_digest: Mapped[str] = mapped_column(String(64), nullable=False, default="", server_default="")
    # the platform of the person who decided (console, api, slack...); the requester's chat thread
    # is told by the sweeper when another door decided: '' nothing yet, 'decision', 'outcome'
    decided_via: Mapped[str] = mapped_column(String(32), nullable=False, default="", server_default="")
    requester_told: Mapped[str] = mapped_column(String(16), nullable=False, default="", server_default="")


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
