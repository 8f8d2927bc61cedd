"""Initial schema: assets, tool catalog and audit, executions, network analysis, communication.

Revision ID: 0001
Revises:
Create Date: 2026-11-27

Written once from the models and reviewed; plain SQLAlchemy types only, so it
never changes when the models do. Runs unchanged on SQLite and PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "assets",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("os", sa.String(length=64), nullable=False),
        sa.Column("environment", sa.String(length=64), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=False),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("services", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets")),
        sa.UniqueConstraint("name", name=op.f("uq_assets_name")),
    )
    op.create_index(op.f("ix_assets_address"), "assets", ["address"], unique=False)
    op.create_index(op.f("ix_assets_environment"), "assets", ["environment"], unique=False)
    op.create_index(op.f("ix_assets_type"), "assets", ["type"], unique=False)

    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("execution_id", sa.String(length=32), nullable=True),
        sa.Column("chat", sa.String(length=255), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("seq > 0", name=op.f("ck_audit_log_seq_positive")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_index(op.f("ix_audit_log_execution_id"), "audit_log", ["execution_id"], unique=False)

    op.create_table(
        "executions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=255), nullable=False),
        sa.Column("thread", sa.String(length=255), nullable=False),
        sa.Column("principal", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("risk", sa.String(length=16), nullable=False),
        sa.Column("plan", JSON, nullable=False),
        sa.Column("message", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint("risk IN ('read', 'write', 'critical')", name=op.f("ck_executions_risk_valid")),
        sa.CheckConstraint(
            "status IN ('planned', 'awaiting_approval', 'approved', 'rejected', 'expired', 'running', 'succeeded', 'failed', 'refused', 'answered')",
            name=op.f("ck_executions_status_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_executions")),
    )
    op.create_index(op.f("ix_executions_created_at"), "executions", ["created_at"], unique=False)
    op.create_index(op.f("ix_executions_principal"), "executions", ["principal"], unique=False)
    op.create_index(op.f("ix_executions_status"), "executions", ["status"], unique=False)

    op.create_table(
        "message_templates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "channel IN ('email', 'slack', 'teams', 'webhook', 'sms', 'console', 'any')",
            name=op.f("ck_message_templates_channel_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_templates")),
        sa.UniqueConstraint("name", name=op.f("uq_message_templates_name")),
    )
    op.create_table(
        "processed_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processed_events")),
        sa.UniqueConstraint("platform", "event_id", name=op.f("uq_processed_events_platform_event_id")),
    )
    op.create_index(op.f("ix_processed_events_at"), "processed_events", ["at"], unique=False)

    op.create_table(
        "timeout_policies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tool_pattern", sa.String(length=128), nullable=False),
        sa.Column("timeout_s", sa.Float(), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.CheckConstraint("retries >= 0", name=op.f("ck_timeout_policies_retries_nonnegative")),
        sa.CheckConstraint("timeout_s > 0", name=op.f("ck_timeout_policies_timeout_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeout_policies")),
        sa.UniqueConstraint("tool_pattern", name=op.f("uq_timeout_policies_tool_pattern")),
    )
    op.create_table(
        "tool_telemetry",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tool", sa.String(length=128), nullable=False),
        sa.Column("execution_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "status IN ('ok', 'failed', 'unreachable', 'timeout', 'skipped')",
            name=op.f("ck_tool_telemetry_status_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tool_telemetry")),
    )
    op.create_index(op.f("ix_tool_telemetry_tool_at"), "tool_telemetry", ["tool", "at"], unique=False)

    op.create_table(
        "tools",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("domain", sa.String(length=64), nullable=False),
        sa.Column("risk", sa.String(length=16), nullable=False),
        sa.Column("timeout_s", sa.Float(), nullable=False),
        sa.Column("takes_targets", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("args_schema", JSON, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("risk IN ('read', 'write', 'critical')", name=op.f("ck_tools_risk_valid")),
        sa.CheckConstraint("timeout_s > 0", name=op.f("ck_tools_timeout_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tools")),
        sa.UniqueConstraint("name", name=op.f("uq_tools_name")),
    )
    op.create_table(
        "approvals",
        sa.Column("execution_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requester", sa.String(length=255), nullable=False),
        sa.Column("four_eyes", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("decided_by", sa.String(length=255), nullable=True),
        sa.Column("decided_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'approved', 'rejected', 'expired')", name=op.f("ck_approvals_state_valid")
        ),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["executions.id"],
            name=op.f("fk_approvals_execution_id_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("execution_id", name=op.f("pk_approvals")),
    )
    op.create_index(op.f("ix_approvals_state_expires_at"), "approvals", ["state", "expires_at"], unique=False)

    op.create_table(
        "asset_credentials",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("asset_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("rotated_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "kind IN ('ssh_key', 'password', 'winrm')", name=op.f("ck_asset_credentials_kind_valid")
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_asset_credentials_asset_id_assets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_credentials")),
        sa.UniqueConstraint("asset_id", "kind", name=op.f("uq_asset_credentials_asset_id_kind")),
    )
    op.create_index(op.f("ix_asset_credentials_key_id"), "asset_credentials", ["key_id"], unique=False)

    op.create_table(
        "asset_relationships",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_id", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "kind IN ('depends_on', 'runs_on', 'member_of', 'connects_to')",
            name=op.f("ck_asset_relationships_kind_valid"),
        ),
        sa.CheckConstraint("source_id <> target_id", name=op.f("ck_asset_relationships_not_self")),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["assets.id"],
            name=op.f("fk_asset_relationships_source_id_assets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["assets.id"],
            name=op.f("fk_asset_relationships_target_id_assets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_relationships")),
        sa.UniqueConstraint(
            "source_id", "target_id", "kind", name=op.f("uq_asset_relationships_source_id_target_id_kind")
        ),
    )
    op.create_index(
        op.f("ix_asset_relationships_target_id"), "asset_relationships", ["target_id"], unique=False
    )

    op.create_table(
        "delivery_logs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("execution_id", sa.String(length=32), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("template", sa.String(length=128), nullable=True),
        sa.Column("to_redacted", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "status IN ('sent', 'failed', 'retrying')", name=op.f("ck_delivery_logs_status_valid")
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_delivery_logs_attempts_nonnegative")),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["executions.id"],
            name=op.f("fk_delivery_logs_execution_id_executions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_logs")),
    )
    op.create_index(op.f("ix_delivery_logs_at"), "delivery_logs", ["at"], unique=False)
    op.create_index(op.f("ix_delivery_logs_execution_id"), "delivery_logs", ["execution_id"], unique=False)

    op.create_table(
        "execution_locks",
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("execution_id", sa.String(length=32), nullable=False),
        sa.Column("acquired_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["executions.id"],
            name=op.f("fk_execution_locks_execution_id_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("target", name=op.f("pk_execution_locks")),
    )
    op.create_index(
        op.f("ix_execution_locks_execution_id"), "execution_locks", ["execution_id"], unique=False
    )

    op.create_index(op.f("ix_execution_locks_expires_at"), "execution_locks", ["expires_at"], unique=False)

    op.create_table(
        "execution_queue",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("execution_id", sa.String(length=32), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("available_at", TIMESTAMP, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=255), nullable=True),
        sa.Column("claimed_at", TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "state IN ('queued', 'claimed', 'done', 'failed', 'dead')",
            name=op.f("ck_execution_queue_state_valid"),
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_execution_queue_attempts_nonnegative")),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["executions.id"],
            name=op.f("fk_execution_queue_execution_id_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_execution_queue")),
    )
    op.create_index(
        op.f("ix_execution_queue_execution_id"), "execution_queue", ["execution_id"], unique=False
    )

    op.create_index(
        op.f("ix_execution_queue_state_available_at"),
        "execution_queue",
        ["state", "available_at"],
        unique=False,
    )

    op.create_table(
        "execution_steps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("execution_id", sa.String(length=32), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tool", sa.String(length=128), nullable=False),
        sa.Column("args", JSON, nullable=False),
        sa.Column("targets", JSON, nullable=False),
        sa.Column("depends_on", JSON, nullable=False),
        sa.Column("risk", sa.String(length=16), nullable=False),
        sa.Column("timeout_s", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("claimed_by", sa.String(length=255), nullable=True),
        sa.Column("claimed_at", TIMESTAMP, nullable=True),
        sa.Column("result", JSON, nullable=True),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "risk IN ('read', 'write', 'critical')", name=op.f("ck_execution_steps_risk_valid")
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'running', 'succeeded', 'failed', 'skipped')",
            name=op.f("ck_execution_steps_status_valid"),
        ),
        sa.CheckConstraint("attempt >= 0", name=op.f("ck_execution_steps_attempt_nonnegative")),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["executions.id"],
            name=op.f("fk_execution_steps_execution_id_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_execution_steps")),
        sa.UniqueConstraint("execution_id", "step_id", name=op.f("uq_execution_steps_execution_id_step_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_execution_steps_idempotency_key")),
    )
    op.create_table(
        "intent_patterns",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pattern", sa.Text(), nullable=False),
        sa.Column("tool", sa.String(length=128), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tool"], ["tools.name"], name=op.f("fk_intent_patterns_tool_tools"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intent_patterns")),
    )
    op.create_index(op.f("ix_intent_patterns_tool"), "intent_patterns", ["tool"], unique=False)

    op.create_table(
        "network_scans",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("execution_id", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=255), nullable=False),
        sa.Column("targets", JSON, nullable=False),
        sa.Column("parameters", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("summary", JSON, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "kind IN ('ping', 'port_scan', 'traceroute', 'dns_lookup')",
            name=op.f("ck_network_scans_kind_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('running', 'completed', 'failed')", name=op.f("ck_network_scans_status_valid")
        ),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["executions.id"],
            name=op.f("fk_network_scans_execution_id_executions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_scans")),
    )
    op.create_index(op.f("ix_network_scans_execution_id"), "network_scans", ["execution_id"], unique=False)
    op.create_index(op.f("ix_network_scans_started_at"), "network_scans", ["started_at"], unique=False)

    op.create_table(
        "tool_capabilities",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tool", sa.String(length=128), nullable=False),
        sa.Column("capability", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["tool"], ["tools.name"], name=op.f("fk_tool_capabilities_tool_tools"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tool_capabilities")),
        sa.UniqueConstraint("tool", "capability", name=op.f("uq_tool_capabilities_tool_capability")),
    )
    op.create_table(
        "connectivity_tests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scan_id", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("loss_pct", sa.Float(), nullable=False),
        sa.Column("rtt_min_ms", sa.Float(), nullable=True),
        sa.Column("rtt_avg_ms", sa.Float(), nullable=True),
        sa.Column("rtt_max_ms", sa.Float(), nullable=True),
        sa.Column("reachable", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "sent >= 0 AND received >= 0", name=op.f("ck_connectivity_tests_counts_nonnegative")
        ),
        sa.ForeignKeyConstraint(
            ["scan_id"],
            ["network_scans.id"],
            name=op.f("fk_connectivity_tests_scan_id_network_scans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connectivity_tests")),
    )
    op.create_index(op.f("ix_connectivity_tests_scan_id"), "connectivity_tests", ["scan_id"], unique=False)
    op.create_index(
        op.f("ix_connectivity_tests_target_at"), "connectivity_tests", ["target", "at"], unique=False
    )

    op.create_table(
        "port_scans",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scan_id", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("protocol", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("banner", sa.Text(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("protocol IN ('tcp', 'udp')", name=op.f("ck_port_scans_protocol_valid")),
        sa.CheckConstraint("state IN ('open', 'closed', 'filtered')", name=op.f("ck_port_scans_state_valid")),
        sa.CheckConstraint("port BETWEEN 1 AND 65535", name=op.f("ck_port_scans_port_range")),
        sa.ForeignKeyConstraint(
            ["scan_id"],
            ["network_scans.id"],
            name=op.f("fk_port_scans_scan_id_network_scans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_port_scans")),
        sa.UniqueConstraint(
            "scan_id", "target", "port", "protocol", name=op.f("uq_port_scans_scan_id_target_port_protocol")
        ),
    )
    op.create_index(op.f("ix_port_scans_target_port"), "port_scans", ["target", "port"], unique=False)
    # The audit chain starts at seq 0 with the genesis hash (see db.audit).
    op.execute(
        sa.text(
            "INSERT INTO audit_chain_head (id, seq, hash, updated_at) "
            "VALUES (1, 0, :genesis, CURRENT_TIMESTAMP)"
        ).bindparams(genesis="0" * 64)
    )


def downgrade() -> None:
    # Dependants first; dropping a table drops its indexes.
    for table in (
        "port_scans",
        "connectivity_tests",
        "tool_capabilities",
        "network_scans",
        "intent_patterns",
        "execution_steps",
        "execution_queue",
        "execution_locks",
        "delivery_logs",
        "asset_relationships",
        "asset_credentials",
        "approvals",
        "tools",
        "tool_telemetry",
        "timeout_policies",
        "processed_events",
        "message_templates",
        "executions",
        "audit_log",
        "audit_chain_head",
        "assets",
    ):
        op.drop_table(table)
