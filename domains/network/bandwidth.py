"""Throughput between two assets, measured over SSH.

iperf3 when both ends have it: a one-off server (`iperf3 -s -1`) on the destination, the
client on the source (`iperf3 -c <destination> -t <seconds> -J`, retried while the server is
not listening yet); the receiver's figure is reported. Otherwise a bounded TCP transfer
through the SSH sessions: the source writes zeros (`dd`, bounded by time where `timeout` exists
and always by `max_bytes`), the bot relays them into the destination's `wc -c`; the figure is
what arrived over the time it took, so it is the slower of the two legs (source -> bot ->
destination), a lower bound of the direct path.

One measurement per destination at a time (`ThroughputMeter` keeps the locks): two streams
into one host would each report half of its capacity, and two iperf3 servers would take the
same port.
"""

from __future__ import annotations

import asyncio
import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from domains.automation.ports import CommandResult, RemoteShell
from domains.network.config import NetworkConfig
from pipeline.contracts import AssetRef
from pipeline.errors import ToolFailed

if TYPE_CHECKING:
    from domains.network.ports import ShellPipe

SETUP_S = 10.0  # connect, start the server, first bytes: on top of the transfer itself
BLOCK = 64 * 1024


@dataclass(frozen=True)
class Throughput:
    """What one measurement moved, and how."""

    method: Literal["iperf3", "ssh"]
    bytes: int
    seconds: float
    retransmits: int | None = None

    @property
    def mbps(self) -> float:
        """Megabits (10^6 bits) per second."""
        return round(self.bytes * 8 / self.seconds / 1e6, 2) if self.seconds > 0 else 0.0


class ThroughputMeter:
    """Measures source -> destination throughput; shared so that one destination serves one
    measurement at a time."""

    def __init__(self, config: NetworkConfig) -> None:
        self.config = config
        self._busy: dict[str, asyncio.Lock] = {}

    async def measure(
        self,
        shell: RemoteShell,
        pipe: ShellPipe | None,
        source: AssetRef,
        dest: AssetRef,
        dest_address: str,
        seconds: float,
    ) -> Throughput:
        lock = self._busy.setdefault(dest.name, asyncio.Lock())
        async with lock:
            if await self._both_have_iperf3(shell, source, dest):
                return await self._iperf3(shell, source, dest, dest_address, seconds)
            if pipe is None:
                raise ToolFailed("iperf3 is missing on one end and no SSH relay is available")
            return await self._relay(pipe, source, dest, seconds)

    async def _both_have_iperf3(self, shell: RemoteShell, source: AssetRef, dest: AssetRef) -> bool:
        probe = f"command -v {shlex.quote(self.config.iperf3_command)} >/dev/null 2>&1 && echo present"
        found = await asyncio.gather(*(shell.run(host, probe, timeout_s=SETUP_S) for host in (source, dest)))
        return all(result.stdout.strip() == "present" for result in found)

    async def _iperf3(
        self, shell: RemoteShell, source: AssetRef, dest: AssetRef, address: str, seconds: float
    ) -> Throughput:
        iperf3, port = shlex.quote(self.config.iperf3_command), self.config.iperf3_port
        server = asyncio.create_task(
            shell.run(dest, f"exec {iperf3} -s -1 -p {port}", timeout_s=seconds + 2 * SETUP_S)
        )
        try:
            client = await shell.run(
                source, client_command(iperf3, address, port, seconds), timeout_s=seconds + SETUP_S
            )
            report = parse_iperf3(client)
            await asyncio.wait_for(asyncio.shield(server), SETUP_S)
            return report
        finally:
            if not server.done():
                server.cancel()  # the shell stops the server's process group on the destination
            await asyncio.gather(server, return_exceptions=True)

    async def _relay(self, pipe: ShellPipe, source: AssetRef, dest: AssetRef, seconds: float) -> Throughput:
        count = max(self.config.bandwidth_max_bytes // BLOCK, 1)
        send = f"dd if=/dev/zero bs={BLOCK} count={count} 2>/dev/null"
        timed = f"exec timeout {seconds:g} {send}"
        command = f"if command -v timeout >/dev/null 2>&1; then {timed}; else exec {send}; fi"
        _sent, received = await pipe.pipe(source, command, dest, "exec wc -c", timeout_s=seconds + SETUP_S)
        moved = received.stdout.strip()
        if not received.ok or not moved.isdigit():
            raise ToolFailed(
                f"the relayed transfer to {dest.name} failed: {received.stderr.strip() or moved}"
            )
        return Throughput("ssh", int(moved), received.duration_ms / 1000)


def client_command(iperf3: str, address: str, port: int, seconds: float) -> str:
    """The iperf3 client, retried for a few seconds while the server is not listening yet (iperf
    3.12 exits 0 even then, with the error in its JSON, so the output decides)."""
    run = f"{iperf3} -c {shlex.quote(address)} -p {port} -t {max(round(seconds), 1)} -J"
    return (
        f"n=0; while :; do out=$({run} 2>&1); rc=$?; n=$((n + 1)); "
        'case "$out" in *"Connection refused"*) [ "$n" -lt 50 ] || break;; *) break;; esac; '
        'sleep 0.1; done; printf "%s" "$out"; exit $rc'
    )


def parse_iperf3(result: CommandResult) -> Throughput:
    """The receiver's total from `iperf3 -J` output; ToolFailed with iperf3's own error."""
    try:
        report: dict[str, Any] = json.loads(result.stdout)
    except ValueError as err:
        raise ToolFailed(f"iperf3 gave no report: {(result.stdout or result.stderr).strip()[:200]}") from err
    error = report.get("error")
    if error or not result.ok:
        raise ToolFailed(f"iperf3 failed: {error or result.stderr.strip()[:200]}")
    end: Mapping[str, Any] = report.get("end", {})
    received: Mapping[str, Any] = end.get("sum_received", {})
    sent: Mapping[str, Any] = end.get("sum_sent", {})
    if not received.get("seconds"):
        raise ToolFailed("iperf3 reported no received data")
    retransmits = sent.get("retransmits")
    return Throughput(
        "iperf3",
        int(received.get("bytes", 0)),
        float(received["seconds"]),
        int(retransmits) if isinstance(retransmits, int) else None,
    )
