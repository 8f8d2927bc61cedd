"""A target's result may be "uncertain": a stopped command the target never confirmed gone.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

The executor kills a timed-out or cancelled command's process group on the target and waits
for the target to confirm it; when it cannot (the host went away) the result is "uncertain"
and the host's lock is kept until it expires. Tool telemetry records that status too.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BEFORE = "status IN ('ok', 'failed', 'unreachable', 'timeout', 'skipped')"
_AFTER = "status IN ('ok', 'failed', 'unreachable', 'timeout', 'uncertain', 'skipped')"


def _status_check(condition: str) -> None:
    with op.batch_alter_table("tool_telemetry") as batch:
        batch.drop_constraint(op.f("ck_tool_telemetry_status_valid"), type_="check")
        batch.create_check_constraint(op.f("ck_tool_telemetry_status_valid"), condition)


def upgrade() -> None:
    _status_check(_AFTER)


def downgrade() -> None:
    op.execute("UPDATE tool_telemetry SET status = 'timeout' WHERE status = 'uncertain'")
    _status_check(_BEFORE)
