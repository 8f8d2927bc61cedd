"""Each execution step records the digest of the catalog definition it runs.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

A tool defined in a catalog file can be edited while the bot runs; the step row keeps the
SHA-256 of the file version that was planned (and approved), which is the version the executor
runs: it refuses a step whose definition changed since. Built-in tools record "".
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("execution_steps") as batch:
        batch.add_column(sa.Column("definition", sa.String(length=64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("execution_steps") as batch:
        batch.drop_column("definition")
