"""network.bandwidth against the real OpenSSH sshd testbed: iperf3 when both ends have it, else
a transfer relayed through the SSH sessions; stored and read back as a history series."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.ssh import AsyncsshShell
from db.assets import SqlAssetRepository
from db.history import SqlHistory
from db.models import BandwidthTest, NetworkScan
from db.network_results import SqlNetworkResults
from domains.assets.directory import AssetStore
from domains.automation.ports import RemoteShell
from domains.network.bandwidth import ThroughputMeter
from domains.network.config import NetworkConfig
from domains.network.ports import NetworkResults, ShellPipe
from domains.network.tools import BandwidthArgs, bandwidth
from pipeline.contracts import AssetRef, ToolOutput, utcnow
from pipeline.errors import InvalidRequest, UnknownTarget
from pipeline.registry import ToolContext
from tests.integration.sshd_fixtures import (
    SSH_HOSTS,
    in_testbed,
    sessions,
    shell_fixture,
    sshd_testbed,
    testbed_known_hosts,
)
from tests.integration.target_processes import kill_groups, running

__all__ = ["in_testbed", "sessions", "sshd_testbed", "testbed_known_hosts"]

pytestmark = pytest.mark.sshd

WEB = AssetRef(name="web-01", address=SSH_HOSTS[4], type="web_server")
DB = AssetRef(name="db-01", address=SSH_HOSTS[5], type="db_server")
IPERF3 = Path("/usr/bin/iperf3")


shell = shell_fixture()


@pytest.fixture
async def inventory(sessions: async_sessionmaker[AsyncSession]) -> SqlAssetRepository:
    repo = SqlAssetRepository(sessions)
    for asset in (WEB, DB):
        await repo.create(asset)
    return repo


@pytest.fixture
def port() -> int:
    return random.randrange(20_000, 30_000)


async def measure(
    shell: AsyncsshShell,
    inventory: SqlAssetRepository,
    sessions: async_sessionmaker[AsyncSession],
    config: NetworkConfig,
    **raw: Any,
) -> ToolOutput:
    services: dict[type[Any], Any] = {
        RemoteShell: shell,
        ShellPipe: shell,
        AssetStore: inventory,
        NetworkConfig: config,
        ThroughputMeter: ThroughputMeter(config),
        NetworkResults: SqlNetworkResults(sessions),
    }
    ctx = ToolContext(execution_id="bw-test", step_id="s1", services=services)
    return await bandwidth(ctx, WEB, BandwidthArgs.model_validate(raw))


@pytest.mark.skipif(not IPERF3.exists(), reason="iperf3 is not installed (scripts/test.sh installs it)")
async def test_iperf3_on_both_ends_measures_and_stores_a_series(
    shell: AsyncsshShell, inventory: SqlAssetRepository, sessions: async_sessionmaker[AsyncSession], port: int
) -> None:
    token = f"-s -1 -p {port}"
    try:
        output = await measure(
            shell, inventory, sessions, NetworkConfig(iperf3_port=port), to="db-01", duration_s=1
        )
    finally:
        kill_groups(token)
    data = output.data
    assert data["method"] == "iperf3" and data["to"] == "db-01"
    assert data["bytes"] > 0 and data["mbps"] > 0 and 0.5 < data["seconds"] < 3
    assert output.summary.startswith("web-01 -> db-01: ") and "Mbit/s" in output.summary
    assert running(token) == [], "the one-off iperf3 server is gone once the test ended"
    async with sessions() as session:
        row = (await session.scalars(select(BandwidthTest))).one()
        scan = (await session.scalars(select(NetworkScan))).one()
    assert (row.source, row.target, row.method, row.mbps) == ("web-01", "db-01", "iperf3", data["mbps"])
    assert (scan.kind, scan.status, scan.targets) == ("bandwidth", "completed", ["web-01", "db-01"])
    now = utcnow()
    series = await SqlHistory(sessions).measurements("bandwidth", ["web-01"], now - timedelta(hours=1), now)
    assert [s.value for s in series["web-01"]] == [data["mbps"]]


async def test_without_iperf3_the_transfer_is_relayed_through_ssh(
    shell: AsyncsshShell, inventory: SqlAssetRepository, sessions: async_sessionmaker[AsyncSession]
) -> None:
    config = NetworkConfig(iperf3_command="/nonexistent/iperf3", bandwidth_max_bytes=8 << 20)
    output = await measure(shell, inventory, sessions, config, to="db-01", duration_s=5)
    data = output.data
    assert data["method"] == "ssh"
    assert data["bytes"] == 8 << 20, "everything the source sent arrived (bounded by max bytes)"
    assert data["mbps"] == pytest.approx(data["bytes"] * 8 / data["seconds"] / 1e6, rel=0.01)
    assert "relayed over SSH" in output.summary


async def test_the_duration_is_cut_to_the_configured_maximum(
    shell: AsyncsshShell, inventory: SqlAssetRepository, sessions: async_sessionmaker[AsyncSession]
) -> None:
    config = NetworkConfig(
        iperf3_command="/nonexistent/iperf3", bandwidth_max_s=1, bandwidth_max_bytes=1 << 40
    )
    output = await measure(shell, inventory, sessions, config, to="db-01", duration_s=60)
    assert output.data["seconds"] < 5, "the source stopped sending after the 1 s maximum"
    assert "cut to the configured maximum" in output.summary


async def test_the_other_end_must_be_another_inventory_asset(
    shell: AsyncsshShell, inventory: SqlAssetRepository, sessions: async_sessionmaker[AsyncSession]
) -> None:
    with pytest.raises(UnknownTarget):
        await measure(shell, inventory, sessions, NetworkConfig(), to="nowhere-01")
    with pytest.raises(InvalidRequest, match="between two assets"):
        await measure(shell, inventory, sessions, NetworkConfig(), to="web-01")
