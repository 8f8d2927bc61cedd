"""Network diagnostics: ICMP ping, TCP port scan, traceroute, DNS lookups."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domains.network.icmp import icmp_ping
from pipeline.contracts import AssetRef, Risk, ToolOutput
from pipeline.errors import ToolFailed
from pipeline.registry import ToolContext, ToolSet

network = ToolSet("network")

_PORT_RANGE = re.compile(r"^\s*(\d{1,5})\s*(?:-\s*(\d{1,5}))?\s*$")
MAX_PORTS = 65535


class PingArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: int = Field(3, ge=1, le=20, description="echo requests per host")


class PortScanArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ports: list[int] = Field(
        ..., min_length=1, max_length=MAX_PORTS, description="ports; ranges like '1-1024' allowed"
    )

    @field_validator("ports", mode="before")
    @classmethod
    def expand_ranges(cls, value: object) -> object:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            return value
        ports: list[object] = []
        for item in items:
            match = _PORT_RANGE.match(item) if isinstance(item, str) else None
            if match and match.group(2):
                low, high = int(match.group(1)), int(match.group(2))
                if low > high or high - low >= MAX_PORTS:
                    raise ValueError(f"bad port range {item!r}")
                ports.extend(range(low, high + 1))
            else:
                ports.append(item)
        return ports

    @field_validator("ports")
    @classmethod
    def in_range(cls, ports: list[int]) -> list[int]:
        bad = [p for p in ports if not 1 <= p <= 65535]
        if bad:
            raise ValueError(f"ports must be 1-65535, got {bad[:5]}")
        return sorted(set(ports))


class TracerouteArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_hops: int = Field(30, ge=1, le=64)


RecordType = Literal["A", "AAAA", "MX", "TXT", "CNAME", "NS", "PTR", "SOA"]


class DnsLookupArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=1, max_length=253)
    record_type: RecordType = "A"

    @field_validator("record_type", mode="before")
    @classmethod
    def upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


@network.tool("network.ping", PingArgs, risk=Risk.READ, timeout_s=15)
async def ping(ctx: ToolContext, target: AssetRef | None, args: PingArgs) -> ToolOutput:
    """Send ICMP echo requests to each target and report reachability, latency and loss."""
    assert target is not None
    return await icmp_ping(target.address, count=args.count)


@network.tool("network.port_scan", PortScanArgs, risk=Risk.READ, timeout_s=60)
async def port_scan(ctx: ToolContext, target: AssetRef | None, args: PortScanArgs) -> ToolOutput:
    """TCP connect scan of the given ports (lists or ranges) on each target."""
    raise ToolFailed("port scan is not implemented yet")


@network.tool("network.traceroute", TracerouteArgs, risk=Risk.READ, timeout_s=60)
async def traceroute(ctx: ToolContext, target: AssetRef | None, args: TracerouteArgs) -> ToolOutput:
    """Trace the network path to each target, hop by hop."""
    raise ToolFailed("traceroute is not implemented yet")


@network.tool("network.dns_lookup", DnsLookupArgs, risk=Risk.READ, timeout_s=10, takes_targets=False)
async def dns_lookup(ctx: ToolContext, target: AssetRef | None, args: DnsLookupArgs) -> ToolOutput:
    """Look up DNS records (A, AAAA, MX, TXT, CNAME, NS, PTR, SOA) for a name."""
    raise ToolFailed("dns lookup is not implemented yet")
