"""SqlNetworkResults on SQLite and PostgreSQL: concurrent per-target writes share one scan row."""

from __future__ import annotations

import asyncio
import os

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import ConnectivityTest, NetworkScan, PortScanResult
from db.network_results import SqlNetworkResults, scan_id
from domains.network.icmp import IcmpProbe, PingStats
from domains.network.ports import NetworkResults, ScanContext
from domains.network.portscan import PortState
from domains.network.tools import DnsLookupArgs, PingArgs, dns_lookup, ping
from domains.network.traceroute import Hop
from pipeline.contracts import AssetRef
from pipeline.registry import ToolContext

Sessions = async_sessionmaker[AsyncSession]
SCAN = ScanContext("no-such-execution", "step-1", {"count": 2})


async def test_concurrent_pings_of_one_step_share_a_scan(sessions: Sessions) -> None:
    store = SqlNetworkResults(sessions)
    stats = [PingStats(f"127.0.0.{i}", sent=2, rtts_ms=[0.1, 0.3] if i % 2 else []) for i in range(1, 21)]
    await asyncio.gather(*(store.record_ping(SCAN, f"host-{i}", s) for i, s in enumerate(stats)))
    async with sessions() as session:
        scans = (await session.scalars(select(NetworkScan))).all()
        tests = (await session.scalars(select(ConnectivityTest).order_by(ConnectivityTest.address))).all()
    assert len(scans) == 1
    scan = scans[0]
    assert (scan.id, scan.kind, scan.status, scan.execution_id) == (
        scan_id(SCAN, "ping"),
        "ping",
        "completed",
        None,
    )
    assert scan.parameters == {"count": 2} and scan.finished_at is not None
    assert len(tests) == 20
    alive = next(t for t in tests if t.address == "127.0.0.1")
    assert (alive.sent, alive.received, alive.loss_pct, alive.reachable) == (2, 2, 0.0, True)
    assert (alive.rtt_min_ms, alive.rtt_avg_ms, alive.rtt_max_ms) == (0.1, 0.2, 0.3)
    dead = next(t for t in tests if t.address == "127.0.0.2")
    assert (dead.received, dead.loss_pct, dead.reachable, dead.rtt_avg_ms) == (0, 100.0, False, None)


async def test_port_states_traceroute_and_dns(sessions: Sessions) -> None:
    store = SqlNetworkResults(sessions)
    states = [PortState(22, "open", 0.2), PortState(23, "closed", 0.1, "refused"), PortState(24, "filtered")]
    await store.record_port_scan(SCAN, "web-01", "127.0.0.1", states)
    await store.record_traceroute(
        SCAN, "web-01", "127.0.0.1", "icmp", [Hop(1, "127.0.0.1", 0.05, "destination")]
    )
    await store.record_dns(SCAN, {"name": "web.example.test", "record_type": "A", "records": ["127.0.0.10"]})
    async with sessions() as session:
        ports = (await session.scalars(select(PortScanResult).order_by(PortScanResult.port))).all()
        kinds = {s.kind: s for s in (await session.scalars(select(NetworkScan))).all()}
    assert [(p.port, p.state, p.target) for p in ports] == [
        (22, "open", "web-01"),
        (23, "closed", "web-01"),
        (24, "filtered", "web-01"),
    ]
    assert set(kinds) == {"port_scan", "traceroute", "dns_lookup"}
    assert kinds["traceroute"].summary["reached"] is True and kinds["traceroute"].targets == ["web-01"]
    assert kinds["dns_lookup"].summary["records"] == ["127.0.0.10"]


async def test_large_scans_keep_only_open_and_filtered_ports(sessions: Sessions) -> None:
    states = [
        PortState(p, "open" if p == 443 else "filtered" if p == 1999 else "closed") for p in range(1, 2001)
    ]
    await SqlNetworkResults(sessions).record_port_scan(SCAN, "web-01", "127.0.0.1", states)
    async with sessions() as session:
        stored = (await session.scalars(select(PortScanResult.port).order_by(PortScanResult.port))).all()
    assert list(stored) == [443, 1999]  # closed ports are not stored past the cap


@pytest.mark.skipif(os.geteuid() != 0, reason="raw ICMP sockets need root")
async def test_tools_store_through_the_registered_port(sessions: Sessions) -> None:
    store = SqlNetworkResults(sessions)
    assert isinstance(store, SqlNetworkResults)
    async with IcmpProbe() as probe:
        services = {NetworkResults: store, IcmpProbe: probe}
        ctx = ToolContext("exec-x", "step-ping", services)
        await asyncio.gather(*(ping(ctx, AssetRef.raw(f"127.0.0.{i}"), PingArgs(count=1)) for i in (1, 2, 3)))
    async with sessions() as session:
        count = await session.scalar(select(func.count()).select_from(ConnectivityTest))
    assert count == 3


async def test_a_failing_store_never_hides_the_result(dns_server: tuple[str, int, object]) -> None:
    class BrokenStore:
        async def record_dns(self, scan: ScanContext, result: object) -> None:
            raise RuntimeError("database is gone")

    from domains.network.config import NetworkConfig

    config = NetworkConfig(dns_nameservers=(dns_server[0],), dns_port=dns_server[1])
    ctx = ToolContext("exec-1", "step-1", {NetworkConfig: config, NetworkResults: BrokenStore()})
    output = await dns_lookup(ctx, None, DnsLookupArgs(name="web.example.test"))
    assert sorted(output.data["records"]) == ["127.0.0.10", "127.0.0.11"]
