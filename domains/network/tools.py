"""Network diagnostics: ICMP ping, TCP port scan, traceroute, DNS lookups, throughput.

Services looked up through the context, each optional (a default is built per call):
`NetworkConfig` (resolver, timeouts, concurrency), `IcmpProbe` (one shared ICMP socket
for every concurrent ping), `PortScanner` (one concurrency bound for every scan) and
`NetworkResults` (stores results in the network-analysis tables), `ThroughputMeter` (one
measurement per destination at a time). `network.bandwidth` also needs the automation domain's
`RemoteShell`, `AssetStore` (its `to` asset) and, for hosts without iperf3, a `ShellPipe`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domains.assets.directory import AssetStore
from domains.automation.ports import RemoteShell
from domains.network import dns, hosts_file
from domains.network import phrasing as words
from domains.network import traceroute as tracing
from domains.network.bandwidth import Throughput, ThroughputMeter
from domains.network.config import NetworkConfig
from domains.network.icmp import IcmpProbe, PingStats, resolve
from domains.network.ports import NetworkResults, ScanContext, ShellPipe
from domains.network.portscan import PortScanner, summarize
from pipeline.contracts import AssetRef, Risk, ToolOutput
from pipeline.errors import InvalidRequest, TargetUnreachable, ToolFailed, UnknownTarget
from pipeline.messages import counted
from pipeline.params import PROBES
from pipeline.registry import ToolContext, ToolSet

log = logging.getLogger(__name__)

network = ToolSet("network")

_PORT_RANGE = re.compile(r"^\s*(\d{1,5})\s*(?:-\s*(\d{1,5}))?\s*$")
MAX_PORTS = 65535


class PingArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: int = Field(3, ge=1, le=20, description="echo requests per host")


COMMON_PORTS = (21, 22, 23, 25, 53, 80, 110, 143, 443, 445, 3306, 3389, 5432, 6379, 8080, 8443)


class PortScanArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ports: Annotated[list[int], PROBES] = Field(
        default_factory=lambda: list(COMMON_PORTS),
        min_length=1,
        max_length=MAX_PORTS,
        description="ports; ranges like '1-1024' allowed (default: the common ports; '1-65535' for all)",
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


class BandwidthArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field(
        ..., min_length=1, max_length=255, description="the asset at the other end (inventory name)"
    )
    duration_s: float = Field(5.0, gt=0, le=60, description="seconds to send for (capped by the settings)")


RecordType = Literal["A", "AAAA", "MX", "TXT", "CNAME", "NS", "PTR", "SOA", "SRV"]


class DnsLookupArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=1, max_length=253)
    record_type: RecordType = Field("A", description="A by default; PTR by default for an address")

    @model_validator(mode="before")
    @classmethod
    def reverse_for_addresses(cls, value: object) -> object:
        """An address with no record type asks for its name (PTR)."""
        if isinstance(value, dict) and not value.get("record_type") and _is_address(value.get("name")):
            return {**value, "record_type": "PTR"}
        return value

    @field_validator("record_type", mode="before")
    @classmethod
    def upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


def _is_address(value: object) -> bool:
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


def config_of(ctx: ToolContext) -> NetworkConfig:
    return ctx.find(NetworkConfig) or NetworkConfig()


@asynccontextmanager
async def icmp_probe(ctx: ToolContext, config: NetworkConfig) -> AsyncIterator[IcmpProbe]:
    """The shared probe, or a probe of our own for this call."""
    shared = ctx.find(IcmpProbe)
    if shared is not None:
        yield shared
        return
    async with IcmpProbe(privileged=config.icmp_privileged) as own:
        yield own


async def record(ctx: ToolContext, write: Callable[[NetworkResults], Awaitable[None]]) -> None:
    """Store a result when a store is registered; a store failure never hides the measurement."""
    store = ctx.find(NetworkResults)  # type: ignore[type-abstract]
    if store is None:
        return
    try:
        await asyncio.shield(write(store))
    except Exception:
        log.warning("could not store a network result of step %s", ctx.step_id, exc_info=True)


def scan_context(ctx: ToolContext, **parameters: Any) -> ScanContext:
    return ScanContext(ctx.execution_id, ctx.step_id, parameters)


def target_address(target: AssetRef | None) -> str:
    if target is None:
        raise InvalidRequest("this tool needs a target")
    return target.address


async def connect_address(ctx: ToolContext, target: AssetRef | None) -> str:
    """The IP address to send to, resolved here and cleared by policy before anything is sent
    (a host name that resolves to a denied address, e.g. cloud metadata, is refused)."""
    address = await resolve(target_address(target))
    assert target is not None
    ctx.check_address(target, address)
    return address


def ping_output(target: str, stats: PingStats) -> ToolOutput:
    data: dict[str, Any] = {
        "address": stats.address,
        "sent": stats.sent,
        "received": stats.received,
        "loss_pct": stats.loss_pct,
        "rtt_min_ms": stats.rtt("min"),
        "rtt_avg_ms": stats.rtt("avg"),
        "rtt_max_ms": stats.rtt("max"),
    }
    errors = sorted(set(stats.errors))
    data["errors"] = errors
    summary = f"{stats.received}/{stats.sent} replies, {stats.loss_pct:g}% loss"
    if stats.alive:
        summary += f", rtt min/avg/max {data['rtt_min_ms']}/{data['rtt_avg_ms']}/{data['rtt_max_ms']} ms"
    elif errors:
        summary += f" ({'; '.join(errors)})"
    return ToolOutput(summary=summary, data=data, ok=stats.alive)


@network.tool("network.ping", PingArgs, risk=Risk.READ, timeout_s=15, phrasing=words.PING, addresses=True)
async def ping(ctx: ToolContext, target: AssetRef | None, args: PingArgs) -> ToolOutput:
    """Send ICMP echo requests to each target and report reachability, latency and loss."""
    address = await connect_address(ctx, target)
    config = config_of(ctx)
    async with icmp_probe(ctx, config) as probe:
        stats = await probe.ping(
            address, count=args.count, interval=config.ping_interval_s, timeout=config.ping_timeout_s
        )
    name = target.name if target else address
    await record(ctx, lambda store: store.record_ping(scan_context(ctx, count=args.count), name, stats))
    output = ping_output(name, stats)
    if not stats.alive:
        raise TargetUnreachable(f"no reply from {address}: {output.summary}", output=output)
    return output


@network.tool(
    "network.port_scan",
    PortScanArgs,
    risk=Risk.READ,
    timeout_s=300,
    phrasing=words.PORT_SCAN,
    addresses=True,
)
async def port_scan(ctx: ToolContext, target: AssetRef | None, args: PortScanArgs) -> ToolOutput:
    """TCP connect scan of the given ports (lists or ranges) on each target."""
    config = config_of(ctx)
    address = await connect_address(ctx, target)
    scanner = ctx.find(PortScanner) or PortScanner(
        concurrency=config.scan_concurrency, timeout_s=config.port_timeout_s
    )
    states = await scanner.scan(address, args.ports)
    name = target.name if target else address
    parameters = {"ports": _compact(args.ports), "timeout_s": scanner.timeout_s}
    await record(
        ctx, lambda store: store.record_port_scan(scan_context(ctx, **parameters), name, address, states)
    )
    data = {
        "address": address,
        "open": [s.port for s in states if s.state == "open"],
        "closed_count": sum(s.state == "closed" for s in states),
        "filtered": [s.port for s in states if s.state == "filtered"][:200],
        "filtered_count": sum(s.state == "filtered" for s in states),
        "ports": {str(s.port): s.state for s in states} if len(states) <= 256 else {},
    }
    summary = summarize(address, states)
    if args.ports == list(COMMON_PORTS):
        summary += f" (the {len(COMMON_PORTS)} common ports; `scan all ports on {name}` scans 1-65535)"
    return ToolOutput(summary=summary, data=data)


def _compact(ports: list[int]) -> str:
    """[1, 2, 3, 8] -> "1-3,8" for the stored scan parameters."""
    runs: list[list[int]] = []
    for port in ports:
        if runs and port == runs[-1][1] + 1:
            runs[-1][1] = port
        else:
            runs.append([port, port])
    return ",".join(f"{a}-{b}" if a != b else str(a) for a, b in runs)


@network.tool(
    "network.traceroute",
    TracerouteArgs,
    risk=Risk.READ,
    timeout_s=60,
    phrasing=words.TRACEROUTE,
    addresses=True,
)
async def traceroute(ctx: ToolContext, target: AssetRef | None, args: TracerouteArgs) -> ToolOutput:
    """Trace the network path to each target, hop by hop."""
    config = config_of(ctx)
    address = await connect_address(ctx, target)
    async with icmp_probe(ctx, config) as probe:
        method = "icmp" if _privileged(probe, address) else "udp"
        prober = (
            tracing.icmp_prober(probe, config.traceroute_timeout_s)
            if method == "icmp"
            else tracing.udp_prober(config.traceroute_timeout_s)
        )
        hops = await tracing.trace(address, prober, max_hops=args.max_hops, window=config.traceroute_window)
    name = target.name if target else address
    scan = scan_context(ctx, max_hops=args.max_hops)
    await record(ctx, lambda store: store.record_traceroute(scan, name, address, method, hops))
    reached = bool(hops) and hops[-1].note == "destination"
    data = {
        "address": address,
        "method": method,
        "reached": reached,
        "hops": [{"ttl": h.ttl, "address": h.address, "rtt_ms": h.rtt_ms, "note": h.note} for h in hops],
    }
    verdict = (
        f"reached in {counted(len(hops), 'hop')}"
        if reached
        else f"not reached after {counted(len(hops), 'hop')}"
    )
    last = hops[-1].note if hops and not reached else ""
    summary = f"{address} {verdict}" + (f" ({last})" if last and last != "no answer" else "")
    return ToolOutput(summary=summary, data=data, ok=reached)


def _privileged(probe: IcmpProbe, address: str) -> bool:
    """True when the probe can use raw ICMP sockets for `address` (needed to see TTL errors)."""
    try:
        return probe.mode_for(address) == "privileged"
    except ToolFailed:
        return False


@network.tool(
    "network.dns_lookup",
    DnsLookupArgs,
    risk=Risk.READ,
    timeout_s=10,
    phrasing=words.DNS_LOOKUP,
)
async def dns_lookup(ctx: ToolContext, target: AssetRef | None, args: DnsLookupArgs) -> ToolOutput:
    """Look up DNS records (A, AAAA, MX, TXT, CNAME, NS, PTR, SOA, SRV) for a name: with the bot's
    resolver, or asking each target (a nameserver in the inventory) directly."""
    config = config_of(ctx)
    result = None
    if target is not None:  # 'ask ns1 for ...': that server answers, on the configured DNS port
        server = await connect_address(ctx, target)
        resolver = dns.make_resolver((server,), config.dns_port, config.dns_timeout_s)
        result = await dns.lookup(resolver, args.name, args.record_type)
    elif config.hosts_file and not config.dns_nameservers:  # the system resolver reads it first
        listed = Path(config.hosts_file)
        result = await asyncio.to_thread(hosts_file.answer, listed, args.name, args.record_type)
    if result is None:
        resolver = dns.make_resolver(config.dns_nameservers, config.dns_port, config.dns_timeout_s)
        result = await dns.lookup(resolver, args.name, args.record_type)
    scan = scan_context(ctx, name=args.name, record_type=args.record_type)
    await record(ctx, lambda store: store.record_dns(scan, result))
    return ToolOutput(summary=dns.summarize(result), data=result)


@network.tool("network.bandwidth", BandwidthArgs, risk=Risk.READ, timeout_s=120, phrasing=words.BANDWIDTH)
async def bandwidth(ctx: ToolContext, target: AssetRef | None, args: BandwidthArgs) -> ToolOutput:
    """Measure TCP throughput (Mbit/s) from each target to another asset (`to`) for a bounded time:
    iperf3 over SSH when both ends have it, otherwise a transfer relayed through the SSH sessions."""
    if target is None:
        raise InvalidRequest("this tool needs a target")
    dest = await ctx.get(AssetStore).get(args.to)  # type: ignore[type-abstract]
    if dest is None:
        raise UnknownTarget([args.to])
    if dest.name == target.name:
        raise InvalidRequest(f"bandwidth is measured between two assets; {args.to} is the target itself")
    ctx.check_target(dest)  # the other end passes the step's own policy rules, like a target
    address = await connect_address(ctx, dest)
    config = config_of(ctx)
    seconds = min(args.duration_s, config.bandwidth_max_s)
    meter = ctx.find(ThroughputMeter) or ThroughputMeter(config)
    shell = ctx.get(RemoteShell)  # type: ignore[type-abstract]
    pipe = ctx.find(ShellPipe)  # type: ignore[type-abstract]
    result = await meter.measure(shell, pipe, target, dest, address, seconds)
    scan = scan_context(ctx, to=dest.name, duration_s=seconds)
    await record(ctx, lambda store: store.record_bandwidth(scan, target.name, dest.name, result))
    return bandwidth_output(target.name, dest.name, result, cut=seconds < args.duration_s)


def bandwidth_output(source: str, dest: str, result: Throughput, *, cut: bool) -> ToolOutput:
    how = "iperf3" if result.method == "iperf3" else "relayed over SSH through the bot (a lower bound)"
    summary = f"{source} -> {dest}: {result.mbps:g} Mbit/s over {result.seconds:.1f} s ({how})"
    if result.retransmits:
        summary += f", {result.retransmits} retransmits"
    if cut:
        summary += "; the duration was cut to the configured maximum"
    data = {
        "to": dest,
        "method": result.method,
        "mbps": result.mbps,
        "bytes": result.bytes,
        "seconds": round(result.seconds, 3),
        "retransmits": result.retransmits,
    }
    return ToolOutput(summary=summary, data=data)
