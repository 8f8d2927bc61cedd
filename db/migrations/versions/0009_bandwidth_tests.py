"""Throughput measurements (network.bandwidth): a scan kind and a results table.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

Each measurement from one asset to another is one `bandwidth_tests` row under a
`network_scans` row of kind "bandwidth", like ping results under theirs.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
_BEFORE = "kind IN ('ping', 'port_scan', 'traceroute', 'dns_lookup')"
_AFTER = "kind IN ('ping', 'port_scan', 'traceroute', 'dns_lookup', 'bandwidth')"


def _kind_check(condition: str) -> None:
    with op.batch_alter_table("network_scans") as batch:
        batch.drop_constraint(op.f("ck_network_scans_kind_valid"), type_="check")
        batch.create_check_constraint(op.f("ck_network_scans_kind_valid"), condition)


def upgrade() -> None:
    _kind_check(_AFTER)
    op.create_table(
        "bandwidth_tests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scan_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("mbps", sa.Float(), nullable=False),
        sa.Column("retransmits", sa.Integer(), nullable=True),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("method IN ('iperf3', 'ssh')", name=op.f("ck_bandwidth_tests_method_valid")),
        sa.CheckConstraint(
            "bytes >= 0 AND seconds >= 0", name=op.f("ck_bandwidth_tests_amounts_nonnegative")
        ),
        sa.ForeignKeyConstraint(
            ["scan_id"],
            ["network_scans.id"],
            name=op.f("fk_bandwidth_tests_scan_id_network_scans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bandwidth_tests")),
    )
    op.create_index(op.f("ix_bandwidth_tests_scan_id"), "bandwidth_tests", ["scan_id"], unique=False)
    op.create_index(
        op.f("ix_bandwidth_tests_source_target_at"), "bandwidth_tests", ["source", "target", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_bandwidth_tests_source_target_at"), table_name="bandwidth_tests")
    op.drop_index(op.f("ix_bandwidth_tests_scan_id"), table_name="bandwidth_tests")
    op.drop_table("bandwidth_tests")
    op.execute("DELETE FROM network_scans WHERE kind = 'bandwidth'")
    _kind_check(_BEFORE)
