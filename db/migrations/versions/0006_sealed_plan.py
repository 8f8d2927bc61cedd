"""Executions keep the raw plan only sealed; the `plan` column holds it as masked.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

A command may carry a secret the target needs (`mysql -pS3cret ...`). The store writes the
plan, request, message and step rows as the redactor masks them and, when masking changed
the plan, the raw plan sealed with the credential key in `sealed_plan` (db/sealing.py).
Rows written before this revision have no sealed plan and are read as they are.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("sealed_plan", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.drop_column("sealed_plan")
