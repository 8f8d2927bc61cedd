"""Schedules and their runs.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

A schedule stores its plan whole; each tick is claimed by one replica (a conditional UPDATE
of `next_run_at` and the (schedule_id, tick_at) primary key of `schedule_runs`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("plan", JSON, nullable=False),
        sa.Column("cadence", JSON, nullable=False),
        sa.Column("destination", JSON, nullable=False),
        sa.Column("notify", sa.String(length=8), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("message", JSON, nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("next_run_at", TIMESTAMP, nullable=False),
        sa.Column("last_run_at", TIMESTAMP, nullable=True),
        sa.Column("last_state", JSON, nullable=True),
        sa.Column("approved_by", sa.String(length=255), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "state IN ('active', 'paused', 'pending_approval')", name=op.f("ck_schedules_state_valid")
        ),
        sa.CheckConstraint("notify IN ('change', 'always')", name=op.f("ck_schedules_notify_valid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
    )
    op.create_index(
        op.f("ix_schedules_state_next_run_at"), "schedules", ["state", "next_run_at"], unique=False
    )
    op.create_table(
        "schedule_runs",
        sa.Column("schedule_id", sa.String(length=32), nullable=False),
        sa.Column("tick_at", TIMESTAMP, nullable=False),
        sa.Column("claimed_by", sa.String(length=255), nullable=False),
        sa.Column("claimed_at", TIMESTAMP, nullable=False),
        sa.Column("execution_id", sa.String(length=32), nullable=True),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("state", JSON, nullable=True),
        sa.Column("posted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_schedule_runs_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("schedule_id", "tick_at", name=op.f("pk_schedule_runs")),
    )
    op.create_index(op.f("ix_schedule_runs_execution_id"), "schedule_runs", ["execution_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_schedule_runs_execution_id"), table_name="schedule_runs")
    op.drop_table("schedule_runs")
    op.drop_index(op.f("ix_schedules_state_next_run_at"), table_name="schedules")
    op.drop_table("schedules")
