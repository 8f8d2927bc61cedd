"""An approval records the door it was decided through, and whether the requester's thread was told.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04

A plan asked for in a Slack or Teams thread may be approved from the command line, the web
console or the API. The thread then hears of it from a sweeper: `decided_via` says which door
decided (a click in the thread itself needs no telling), `requester_told` how far the thread
was told ('' nothing yet, 'decision', 'outcome').
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("approvals") as batch:
        batch.add_column(sa.Column("decided_via", sa.String(length=32), nullable=False, server_default=""))
        batch.add_column(sa.Column("requester_told", sa.String(length=16), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("approvals") as batch:
        batch.drop_column("requester_told")
        batch.drop_column("decided_via")
