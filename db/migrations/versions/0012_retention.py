"""Retention: the claim of the bot's own periodic jobs, and an index to prune schedule runs by age.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04

`maintenance_runs` (job, tick_at) is claimed by one replica per tick, like `schedule_runs`;
the pruning job (bot.retention) deletes old results in batches once per period.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "maintenance_runs",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("tick_at", TIMESTAMP, nullable=False),
        sa.Column("claimed_by", sa.String(length=255), nullable=False),
        sa.Column("claimed_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("result", JSON, nullable=True),
        sa.PrimaryKeyConstraint("job", "tick_at", name=op.f("pk_maintenance_runs")),
    )
    op.create_index(op.f("ix_schedule_runs_tick_at"), "schedule_runs", ["tick_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_schedule_runs_tick_at"), table_name="schedule_runs")
    op.drop_table("maintenance_runs")
