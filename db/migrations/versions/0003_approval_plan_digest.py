"""Approvals remember the digest of the plan their prompt showed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

A decision holds only for the plan that was shown: the kernel compares this digest with the
stored plan when someone decides and again before the run, and refuses a plan edited since.
Approvals opened before this revision have an empty digest and are refused (fail closed).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("approvals") as batch:
        batch.add_column(sa.Column("plan_digest", sa.String(length=64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("approvals") as batch:
        batch.drop_column("plan_digest")
