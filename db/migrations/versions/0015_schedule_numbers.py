"""Schedules get a short number people can say ("resume schedule 3").

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04

Numbers are given in creation order and never reused while the schedule exists; existing
schedules are numbered by `created_at`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("schedules") as batch:
        batch.add_column(sa.Column("number", sa.Integer(), nullable=True))
    schedules = sa.table("schedules", sa.column("id", sa.String), sa.column("created_at"), sa.column("number"))
    connection = op.get_bind()
    ids = connection.execute(sa.select(schedules.c.id).order_by(schedules.c.created_at, schedules.c.id))
    for number, (schedule_id,) in enumerate(list(ids), start=1):
        connection.execute(schedules.update().where(schedules.c.id == schedule_id).values(number=number))
    with op.batch_alter_table("schedules") as batch:
        batch.alter_column("number", existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint(op.f("uq_schedules_number"), ["number"])


def downgrade() -> None:
    with op.batch_alter_table("schedules") as batch:
        batch.drop_constraint(op.f("uq_schedules_number"), type_="unique")
        batch.drop_column("number")
