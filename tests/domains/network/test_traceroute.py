"""network.traceroute over ICMP (privileged) and UDP (unprivileged), on loopback and in a namespace."""

from __future__ import annotations

import os

import pytest

from domains.network.config import NetworkConfig
from domains.network.icmp import EchoResult, IcmpProbe
from domains.network.tools import TracerouteArgs, traceroute
from domains.network.traceroute import Hop, trace, udp_prober
from pipeline.contracts import AssetRef
from pipeline.registry import ToolContext
from tests.domains.network.conftest import run_in_netns


@pytest.mark.skipif(os.geteuid() != 0, reason="raw ICMP sockets need root")
async def test_icmp_traceroute_to_loopback_is_one_hop() -> None:
    async with IcmpProbe() as probe:
        ctx = ToolContext("exec-1", "step-1", {IcmpProbe: probe})
        output = await traceroute(ctx, AssetRef.raw("127.0.0.5"), TracerouteArgs(max_hops=5))
    assert output.ok and output.data["method"] == "icmp" and output.data["reached"]
    assert output.data["hops"][0]["address"] == "127.0.0.5"
    assert output.data["hops"][0]["note"] == "destination"
    assert output.summary == "127.0.0.5 reached in 1 hop"


async def test_udp_traceroute_to_loopback_reads_port_unreachable() -> None:
    hops = await trace("127.0.0.6", udp_prober(1.0), max_hops=3, window=3)
    assert hops[0].address == "127.0.0.6" and hops[0].note == "destination"
    assert hops[0].rtt_ms is not None


async def test_traceroute_without_raw_sockets_uses_udp() -> None:
    config = NetworkConfig(icmp_privileged=False, traceroute_timeout_s=1.0)
    ctx = ToolContext("exec-1", "step-1", {NetworkConfig: config})
    output = await traceroute(ctx, AssetRef.raw("127.0.0.7"), TracerouteArgs(max_hops=3))
    assert output.data["method"] == "udp" and output.data["reached"]


async def test_dark_path_costs_one_timeout_per_window() -> None:
    """Hops that never answer are probed a window at a time and all reported."""
    calls: list[int] = []

    async def silent(address: str, ttl: int) -> EchoResult:
        calls.append(ttl)
        return EchoResult("timeout")

    hops = await trace("127.0.0.8", silent, max_hops=10, window=4)
    assert [h.ttl for h in hops] == list(range(1, 11))
    assert all(h == Hop(h.ttl, note="no answer") for h in hops)


async def test_path_stops_at_a_router_that_says_unreachable() -> None:
    async def router(address: str, ttl: int) -> EchoResult:
        if ttl == 1:
            return EchoResult("time_exceeded", "127.0.0.100", 0.2)
        return EchoResult("unreachable", "127.0.0.100", 0.3, code=1)

    hops = await trace("127.0.0.9", router, max_hops=8, window=8)
    assert [(h.address, h.note) for h in hops] == [("127.0.0.100", ""), ("127.0.0.100", "unreachable")]


async def test_blackholed_target_reports_why(netns: str) -> None:
    answer = await run_in_netns(netns, {"tool": "traceroute", "address": "10.99.0.3", "max_hops": 4})
    data = answer["output"]["data"]
    assert not data["reached"] and answer["output"]["ok"] is False
    assert data["hops"] == [{"ttl": 1, "address": "", "rtt_ms": None, "note": "Invalid argument"}]


async def test_silent_target_reports_every_hop_dark(netns: str) -> None:
    answer = await run_in_netns(
        netns,
        {
            "tool": "traceroute",
            "address": "10.98.0.3",
            "max_hops": 4,
            "config": {"traceroute_timeout_s": 0.3},
        },
    )
    assert [h["note"] for h in answer["output"]["data"]["hops"]] == ["no answer"] * 4
    assert answer["output"]["summary"] == "10.98.0.3 not reached after 4 hops"
