"""Network results in the network-analysis tables: implements `domains.network.ports.NetworkResults`.

One `network_scans` row per execution step and kind (per target, too, for traceroute
and DNS), created on first use with a deterministic id, so the concurrent per-target
calls of one step share it without a race. Ping results go to `connectivity_tests`,
port states to `port_scans`, throughput to `bandwidth_tests`; traceroute hops and DNS answers to
the scan's summary.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import store_errors
from db.models import BandwidthTest, ConnectivityTest, Execution, NetworkScan, PortScanResult
from db.types import utcnow
from domains.network.bandwidth import Throughput
from domains.network.icmp import PingStats
from domains.network.ports import ScanContext
from domains.network.portscan import PortState
from domains.network.traceroute import Hop

MAX_CLOSED_ROWS = 1024
"""Scans of more ports store only open and filtered ones: closed = scanned (parameters) - stored."""
_SCAN_NAMESPACE = uuid.UUID("6f1c2a57-8d0e-4d8b-9a53-0c6d1e4b7f21")


def scan_id(scan: ScanContext, kind: str, target: str = "") -> str:
    """Deterministic id of the scan row for one step (and target, where given)."""
    return uuid.uuid5(_SCAN_NAMESPACE, f"{scan.execution_id}\x00{scan.step_id}\x00{kind}\x00{target}").hex


class SqlNetworkResults:
    """Stores ping, port scan, traceroute and DNS results; one short transaction per call."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record_ping(self, scan: ScanContext, target: str, stats: PingStats) -> None:
        async with self._write() as session:
            sid = await self._open_scan(session, scan, "ping")
            session.add(
                ConnectivityTest(
                    scan_id=sid,
                    target=target,
                    address=stats.address,
                    sent=stats.sent,
                    received=stats.received,
                    loss_pct=stats.loss_pct,
                    rtt_min_ms=stats.rtt("min"),
                    rtt_avg_ms=stats.rtt("avg"),
                    rtt_max_ms=stats.rtt("max"),
                    reachable=stats.alive,
                    error="; ".join(sorted(set(stats.errors))),
                )
            )
            await self._finish(session, sid)

    async def record_port_scan(
        self, scan: ScanContext, target: str, address: str, states: Sequence[PortState]
    ) -> None:
        async with self._write() as session:
            sid = await self._open_scan(session, scan, "port_scan")
            rows = [
                {
                    "scan_id": sid,
                    "target": target,
                    "address": address,
                    "port": s.port,
                    "state": s.state,
                    "latency_ms": s.latency_ms,
                    "protocol": "tcp",
                    "banner": "",
                    "at": utcnow(),
                }
                for s in states
                if len(states) <= MAX_CLOSED_ROWS or s.state != "closed"
            ]
            if rows:
                await session.execute(insert(PortScanResult), rows)
            await self._finish(session, sid)

    async def record_traceroute(
        self, scan: ScanContext, target: str, address: str, method: str, hops: Sequence[Hop]
    ) -> None:
        summary = {
            "address": address,
            "method": method,
            "reached": bool(hops) and hops[-1].note == "destination",
            "hops": [{"ttl": h.ttl, "address": h.address, "rtt_ms": h.rtt_ms, "note": h.note} for h in hops],
        }
        await self._single(scan, "traceroute", target, summary)

    async def record_bandwidth(self, scan: ScanContext, source: str, dest: str, result: Throughput) -> None:
        async with self._write() as session:
            sid = await self._open_scan(session, scan, "bandwidth", source)
            session.add(
                BandwidthTest(
                    scan_id=sid,
                    source=source,
                    target=dest,
                    method=result.method,
                    bytes=result.bytes,
                    seconds=result.seconds,
                    mbps=result.mbps,
                    retransmits=result.retransmits,
                )
            )
            await self._finish(session, sid, targets=[source, dest])

    async def record_dns(self, scan: ScanContext, result: dict[str, Any]) -> None:
        await self._single(scan, "dns_lookup", str(result.get("name", "")), result)

    async def _single(self, scan: ScanContext, kind: str, target: str, summary: dict[str, Any]) -> None:
        async with self._write() as session:
            sid = await self._open_scan(session, scan, kind, target)
            await self._finish(session, sid, targets=[target], summary=summary)

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncSession]:
        """A write transaction; on SQLite BEGIN IMMEDIATE, so concurrent writers queue, not deadlock."""
        async with store_errors(), self._sessions() as session, session.begin():
            await session.connection(execution_options={"sqlite_immediate": True})
            yield session

    async def _open_scan(self, session: AsyncSession, scan: ScanContext, kind: str, target: str = "") -> str:
        sid = scan_id(scan, kind, target)
        execution = await session.scalar(select(Execution.id).where(Execution.id == scan.execution_id))
        values: dict[str, Any] = {
            "id": sid,
            "execution_id": execution,
            "kind": kind,
            "parameters": scan.parameters,
            "targets": [],
            "summary": {},
            "status": "running",
            "started_at": utcnow(),
        }
        upsert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
        await session.execute(upsert(NetworkScan).values(**values).on_conflict_do_nothing())
        return sid

    async def _finish(self, session: AsyncSession, sid: str, **values: Any) -> None:
        await session.execute(
            update(NetworkScan)
            .where(NetworkScan.id == sid)
            .values(status="completed", finished_at=utcnow(), **values)
        )
