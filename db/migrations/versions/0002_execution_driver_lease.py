"""Driver lease on executions: which replica drives a running execution, and until when.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

A replica that dies mid-plan stops renewing its lease; another replica takes the
execution over (one conditional UPDATE) and runs the rest of the plan. Batch mode so
SQLite (which cannot ALTER most things in place) and PostgreSQL run the same script.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("driver", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("driver")
