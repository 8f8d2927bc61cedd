"""Credentials for every host with a tag, or for every host (`opsconductor credentials set`).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

Per-host credentials stay in asset_credentials (bound to their asset); this table holds the
tag and default scopes, sealed with the same key and bound to their scope instead.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "scoped_credentials",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("rotated_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint("scope IN ('tag', 'default')", name=op.f("ck_scoped_credentials_scope_valid")),
        sa.CheckConstraint(
            "kind IN ('ssh_key', 'password', 'winrm')", name=op.f("ck_scoped_credentials_kind_valid")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoped_credentials")),
        sa.UniqueConstraint("scope", "value", "kind", name=op.f("uq_scoped_credentials_scope_value_kind")),
    )
    op.create_index(op.f("ix_scoped_credentials_key_id"), "scoped_credentials", ["key_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_scoped_credentials_key_id"), table_name="scoped_credentials")
    op.drop_table("scoped_credentials")
