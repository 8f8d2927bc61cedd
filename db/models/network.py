"""Network analysis results: scans, ping results, port states, throughput measurements."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models.columns import (
    PORT_STATES,
    SCAN_KINDS,
    SCAN_STATUSES,
    created,
    json_column,
    one_of,
)
from db.types import Base, UtcDateTime, new_id


class NetworkScan(Base):
    __tablename__ = "network_scans"
    __table_args__ = (
        one_of("kind", SCAN_KINDS),
        one_of("status", SCAN_STATUSES),
        Index(None, "execution_id"),
        Index(None, "started_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    execution_id: Mapped[str | None] = mapped_column(ForeignKey("executions.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    requested_by: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    targets: Mapped[list[str]] = json_column(list)
    parameters: Mapped[dict[str, Any]] = json_column(dict)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="running")
    summary: Mapped[dict[str, Any]] = json_column(dict)
    started_at: Mapped[datetime] = created()
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ConnectivityTest(Base):
    """Ping result for one target of a scan."""

    __tablename__ = "connectivity_tests"
    __table_args__ = (
        CheckConstraint("sent >= 0 AND received >= 0", name="counts_nonnegative"),
        Index(None, "scan_id"),
        Index(None, "target", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[str] = mapped_column(ForeignKey("network_scans.id", ondelete="CASCADE"), nullable=False)
    target: Mapped[str] = mapped_column(String(255), nullable=False)
    address: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    sent: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    received: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    loss_pct: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    rtt_min_ms: Mapped[float | None] = mapped_column(Float)
    rtt_avg_ms: Mapped[float | None] = mapped_column(Float)
    rtt_max_ms: Mapped[float | None] = mapped_column(Float)
    reachable: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    error: Mapped[str] = mapped_column(Text, nullable=False, default="")
    at: Mapped[datetime] = created()


class PortScanResult(Base):
    """State of one port on one target of a scan."""

    __tablename__ = "port_scans"
    __table_args__ = (
        UniqueConstraint("scan_id", "target", "port", "protocol"),
        CheckConstraint("port BETWEEN 1 AND 65535", name="port_range"),
        one_of("state", PORT_STATES),
        one_of("protocol", ("tcp", "udp")),
        Index(None, "target", "port"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[str] = mapped_column(ForeignKey("network_scans.id", ondelete="CASCADE"), nullable=False)
    target: Mapped[str] = mapped_column(String(255), nullable=False)
    address: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    port: Mapped[int] = mapped_column(Integer, nullable=False)
    protocol: Mapped[str] = mapped_column(String(8), nullable=False, default="tcp")
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    banner: Mapped[str] = mapped_column(Text, nullable=False, default="")
    at: Mapped[datetime] = created()


class BandwidthTest(Base):
    """Throughput from one asset (`source`) to another (`target`) in a scan."""

    __tablename__ = "bandwidth_tests"
    __table_args__ = (
        one_of("method", ("iperf3", "ssh")),
        CheckConstraint("bytes >= 0 AND seconds >= 0", name="amounts_nonnegative"),
        Index(None, "scan_id"),
        Index(None, "source", "target", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[str] = mapped_column(ForeignKey("network_scans.id", ondelete="CASCADE"), nullable=False)
    source: Mapped[str] = mapped_column(String(255), nullable=False)
    target: Mapped[str] = mapped_column(String(255), nullable=False)
    method: Mapped[str] = mapped_column(String(8), nullable=False)
    bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    seconds: Mapped[float] = mapped_column(Float, nullable=False)
    mbps: Mapped[float] = mapped_column(Float, nullable=False)
    retransmits: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = created()
