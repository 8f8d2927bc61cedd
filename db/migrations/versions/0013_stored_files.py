"""Fetched files are kept in the database, readable by every replica and worker.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04

`automation.fetch_file` may run on an `opsconductor worker` while another process answers in
the thread: the file's content (capped by the tool) is stored with its execution and copied to
the answering process's disk when the reply is made.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "stored_files",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("execution_id", sa.String(length=32), nullable=True),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["executions.id"],
            name=op.f("fk_stored_files_execution_id_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_files")),
    )
    op.create_index(op.f("ix_stored_files_execution_id"), "stored_files", ["execution_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_stored_files_execution_id"), table_name="stored_files")
    op.drop_table("stored_files")
