"""network.port_scan against listeners the test opens on loopback, and a silent net in a namespace."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from domains.network.config import NetworkConfig
from domains.network.portscan import PortScanner
from domains.network.tools import PortScanArgs, network, port_scan
from pipeline.contracts import AssetRef
from pipeline.errors import InvalidRequest
from pipeline.registry import ToolContext, ToolSpec
from tests.domains.network.conftest import run_in_netns


@pytest.fixture
async def listeners() -> AsyncIterator[list[int]]:
    servers = [await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0) for _ in range(2)]
    try:
        yield sorted(s.sockets[0].getsockname()[1] for s in servers)
    finally:
        for server in servers:
            server.close()
            await server.wait_closed()


def closed_port() -> int:
    """A port that nothing listens on (bound and released, so it is free right now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_open_and_closed_ports(listeners: list[int]) -> None:
    closed = closed_port()
    ctx = ToolContext("exec-1", "step-1", {NetworkConfig: NetworkConfig(scan_concurrency=50)})
    output = await port_scan(ctx, AssetRef.raw("127.0.0.1"), PortScanArgs(ports=[*listeners, closed]))
    assert output.data["open"] == listeners
    assert output.data["ports"][str(closed)] == "closed"
    assert output.data["closed_count"] == 1 and output.data["filtered_count"] == 0
    assert output.summary.startswith(f"2 open ({listeners[0]}, {listeners[1]})")


async def test_range_scan_through_a_shared_scanner(listeners: list[int]) -> None:
    scanner = PortScanner(concurrency=64, timeout_s=1)
    ctx = ToolContext("exec-1", "step-1", {PortScanner: scanner})
    ranges = ",".join(f"{p - 3}-{p + 3}" for p in listeners)
    args = PortScanArgs.model_validate({"ports": ranges})
    outputs = await asyncio.gather(
        *(port_scan(ctx, AssetRef.raw(a), args) for a in ("127.0.0.1", "127.0.0.2"))
    )
    # other processes may listen next to ours; ours are bound to 127.0.0.1 only
    assert set(listeners) <= set(outputs[0].data["open"])
    assert not set(listeners) & set(outputs[1].data["open"])
    assert len(outputs[0].data["ports"]) == len(args.ports) == 14


def test_port_lists_and_ranges_parse() -> None:
    assert PortScanArgs.model_validate({"ports": "22, 80-82,443"}).ports == [22, 80, 81, 82, 443]
    assert PortScanArgs.model_validate({"ports": ["8080", "1-3", 3]}).ports == [1, 2, 3, 8080]
    spec = next(s for s in _network_specs() if s.name == "network.port_scan")
    with pytest.raises(InvalidRequest, match="ports"):
        spec.parse_args({"ports": [0, 70000]})
    with pytest.raises(InvalidRequest, match="bad port range"):
        spec.parse_args({"ports": "90-80"})


def _network_specs() -> list[ToolSpec]:
    return list(network.specs)


async def test_silently_dropped_ports_are_filtered(netns: str) -> None:
    answer = await run_in_netns(
        netns,
        {
            "tool": "port_scan",
            "address": "10.98.0.9",
            "ports": [22, 80, 443],
            "config": {"port_timeout_s": 0.3},
        },
    )
    data = answer["output"]["data"]
    assert data["open"] == [] and data["filtered"] == [22, 80, 443]
    assert "no open ports; 0 closed, 3 filtered" in answer["output"]["summary"]


async def test_blackholed_ports_are_filtered(netns: str) -> None:
    answer = await run_in_netns(netns, {"tool": "port_scan", "address": "10.99.0.9", "ports": [80]})
    assert answer["output"]["data"]["filtered"] == [80]


async def test_ipv6_loopback_scan() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 support")
    try:
        server = await asyncio.start_server(lambda r, w: w.close(), "::1", 0)
    except OSError as err:
        pytest.skip(f"IPv6 loopback unavailable: {err}")
    port = server.sockets[0].getsockname()[1]
    try:
        output = await port_scan(ToolContext("e", "s"), AssetRef.raw("::1"), PortScanArgs(ports=[port]))
    finally:
        server.close()
        await server.wait_closed()
    assert output.data["open"] == [port] and output.data["address"] == "::1"
