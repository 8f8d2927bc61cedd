"""network.ping on loopback (privileged and unprivileged sockets) and on dead addresses in a namespace."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path
from typing import Any

import pytest

from domains.network.config import NetworkConfig
from domains.network.icmp import PERMISSION_HINT, IcmpProbe, checksum, echo_request, parse_icmp
from domains.network.services import network_services
from domains.network.tools import PingArgs, ping
from pipeline.contracts import AssetRef
from pipeline.errors import ToolFailed
from pipeline.registry import ToolContext
from tests.domains.network.conftest import run_in_netns

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="raw ICMP sockets need root")


def context(*services: object) -> ToolContext:
    registered: dict[type[Any], Any] = {
        NetworkConfig: NetworkConfig(ping_interval_s=0.05, ping_timeout_s=1.0)
    }
    registered.update({type(s): s for s in services})
    return ToolContext("exec-1", "step-1", registered)


@needs_root
@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.2"])
async def test_ping_loopback_without_shared_probe(address: str) -> None:
    output = await ping(context(), AssetRef.raw(address), PingArgs(count=3))
    assert output.ok
    assert output.data["sent"] == 3 and output.data["received"] == 3
    assert output.data["loss_pct"] == 0
    assert 0 < output.data["rtt_min_ms"] <= output.data["rtt_avg_ms"] <= output.data["rtt_max_ms"]
    assert output.summary.startswith("3/3 replies, 0% loss")


@needs_root
async def test_shared_probe_serves_254_concurrent_targets_over_one_socket() -> None:
    async with IcmpProbe() as probe:
        ctx = context(probe)
        targets = [AssetRef.raw(f"127.0.0.{i}") for i in range(1, 255)]
        outputs = await asyncio.gather(*(ping(ctx, t, PingArgs(count=2)) for t in targets))
        assert probe.mode == "privileged"
    assert [o.data["address"] for o in outputs] == [t.address for t in targets]
    assert all(o.data["received"] == 2 for o in outputs)


@needs_root
async def test_ping_ipv6_loopback() -> None:
    if not socket.has_ipv6 or not _ipv6_enabled():
        pytest.skip("IPv6 is disabled on this machine")
    async with IcmpProbe() as probe:
        stats = await probe.ping("::1", count=2, interval=0.05, timeout=1)
    assert stats.received == 2


def _ipv6_enabled() -> bool:
    return bool(Path("/proc/net/if_inet6").read_text().strip())


def _unprivileged_ping_allowed() -> bool:
    low, high = map(int, Path("/proc/sys/net/ipv4/ping_group_range").read_text().split())
    return low <= os.getgid() <= high


async def test_unprivileged_mode_answers_or_explains() -> None:
    """Datagram ICMP sockets work when ping_group_range allows them, else the hint says why."""
    async with IcmpProbe(privileged=False) as probe:
        if _unprivileged_ping_allowed():
            stats = await probe.ping("127.0.0.1", count=1, timeout=1)
            assert stats.received == 1 and probe.mode == "unprivileged"
        else:
            with pytest.raises(ToolFailed) as failure:
                await probe.ping("127.0.0.1", count=1, timeout=1)
            assert str(failure.value) == PERMISSION_HINT
            assert "ping_group_range" in str(failure.value)


async def test_unprivileged_ping_in_a_namespace_that_allows_it(netns: str) -> None:
    answer = await run_in_netns(
        netns, {"tool": "ping", "address": "127.0.0.3", "count": 2, "config": {"icmp_privileged": False}}
    )
    assert answer["output"]["data"]["received"] == 2


async def test_non_root_user_falls_back_to_unprivileged_sockets(netns: str) -> None:
    answer = await run_in_netns(netns, {"tool": "ping", "address": "127.0.0.4", "count": 1}, user="65534")
    assert answer["output"]["data"]["received"] == 1


async def test_blackholed_address_is_unreachable_with_loss_data(netns: str) -> None:
    answer = await run_in_netns(netns, {"tool": "ping", "address": "10.99.0.7", "count": 2})
    assert answer["error"] == "TargetUnreachable"
    assert "100% loss" in answer["message"]
    data = answer["output"]["data"]
    assert (data["sent"], data["received"], data["loss_pct"]) == (2, 0, 100.0)
    assert data["errors"] == ["Invalid argument"]  # the blackhole route refuses to send


async def test_silently_dropped_sweep_reports_every_host_unreachable(netns: str) -> None:
    addresses = [f"10.98.0.{i}" for i in range(1, 41)] + ["127.0.0.1"]
    answers = await run_in_netns(
        netns,
        {"tool": "sweep", "addresses": addresses, "count": 1, "config": {"ping_timeout_s": 0.5}},
    )
    dead, alive = answers[:-1], answers[-1]
    assert all(a["error"] == "TargetUnreachable" for a in dead)
    assert all(a["output"]["data"]["loss_pct"] == 100.0 and a["output"]["data"]["errors"] == [] for a in dead)
    assert alive["output"]["data"]["received"] == 1


def test_echo_request_checksum_verifies_and_replies_parse() -> None:
    packet = echo_request(4, 0x1234, 7)
    assert checksum(packet) == 0
    reply = bytes([0, 0]) + packet[2:]
    assert parse_icmp(4, reply, has_ip_header=False) == ("reply", 0, 0x1234, 7)
    ip_header = bytes([0x45]) + bytes(19)
    time_exceeded = bytes([11, 0, 0, 0, 0, 0, 0, 0]) + ip_header + packet[:8]
    assert parse_icmp(4, ip_header + time_exceeded, has_ip_header=True) == ("time_exceeded", 0, 0x1234, 7)
    assert parse_icmp(4, bytes([8, 0]) + packet[2:], has_ip_header=False) is None  # our own request


@needs_root
async def test_registered_services_serve_the_tools() -> None:
    services, close = network_services(NetworkConfig(ping_interval_s=0.01))
    try:
        ctx = ToolContext("exec-1", "step-1", services)
        output = await ping(ctx, AssetRef.raw("127.0.0.9"), PingArgs(count=2))
        assert output.data["received"] == 2 and services[IcmpProbe].mode == "privileged"
    finally:
        await close()
