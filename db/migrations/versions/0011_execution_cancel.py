"""A running execution can be cancelled: who asked, polled by the run's driver.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

The Cancel button or `opsconductor cancel ID` may reach any replica; the request is stored on
the execution and the replica driving the run polls for it, then stops the run's commands.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("cancel_requested_by", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.drop_column("cancel_requested_by")
