"""Ports the network tools need; `db.network_results` implements them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from domains.automation.ports import CommandResult
from domains.network.bandwidth import Throughput
from domains.network.icmp import PingStats
from domains.network.portscan import PortState
from domains.network.traceroute import Hop
from pipeline.contracts import AssetRef


@dataclass(frozen=True)
class ScanContext:
    """Which execution step a result belongs to; one network_scans row per step and kind."""

    execution_id: str
    step_id: str
    parameters: dict[str, Any] = field(default_factory=dict)


class NetworkResults(Protocol):
    """Stores network results in the network-analysis tables.

    Calls for many targets of one step arrive concurrently and go to the same scan
    (keyed by execution, step and kind). Implementations must not raise for a
    missing execution row (tools also run outside executions, e.g. in benchmarks).
    """

    async def record_ping(self, scan: ScanContext, target: str, stats: PingStats) -> None: ...

    async def record_port_scan(
        self, scan: ScanContext, target: str, address: str, states: Sequence[PortState]
    ) -> None: ...

    async def record_traceroute(
        self, scan: ScanContext, target: str, address: str, method: str, hops: Sequence[Hop]
    ) -> None: ...

    async def record_dns(self, scan: ScanContext, result: dict[str, Any]) -> None: ...

    async def record_bandwidth(
        self, scan: ScanContext, source: str, dest: str, result: Throughput
    ) -> None: ...


class ShellPipe(Protocol):
    """Two hosts' commands joined through the bot: one's stdout feeds the other's stdin (SSH)."""

    async def pipe(
        self, source: AssetRef, source_command: str, dest: AssetRef, dest_command: str, *, timeout_s: float
    ) -> tuple[CommandResult, CommandResult]:
        """Run both; return (source's result without its stdout, dest's result). Both commands
        must end by themselves (bound them); on a timeout both channels are closed and
        `ToolTimeout` raised. `duration_ms` of each counts from the start of the pipe."""
        ...
