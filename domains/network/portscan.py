"""TCP connect scan: bounded concurrency shared by every scan that uses the same scanner."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

PortStateName = Literal["open", "closed", "filtered"]

# Answers that mean "something between us and the port dropped or refused it" (ICMP
# unreachable, admin prohibited, or a route that discards): reported as filtered.
_FILTERED_ERRNOS = {
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.EACCES,
    errno.EPERM,
    errno.EINVAL,
    errno.ETIMEDOUT,
}


@dataclass(frozen=True)
class PortState:
    """One port's answer: open (handshake completed), closed (RST) or filtered (no answer)."""

    port: int
    state: PortStateName
    latency_ms: float | None = None
    reason: str = ""


class PortScanner:
    """TCP connect scans whose connection attempts share one concurrency bound.

    concurrency caps the connection attempts in flight across all concurrent scans
    on this scanner; timeout_s is the per-port connect timeout.
    """

    def __init__(self, *, concurrency: int = 500, timeout_s: float = 1.0) -> None:
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self._slots = asyncio.Semaphore(concurrency)

    async def scan(self, address: str, ports: Sequence[int]) -> list[PortState]:
        """Probe `ports` on one IP address; results come back in port order."""
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        queue: Iterator[int] = iter(ports)
        results: list[PortState] = []

        async def worker() -> None:
            for port in queue:
                async with self._slots:
                    results.append(await self._probe(family, address, port))

        workers = min(self.concurrency, len(ports))
        async with asyncio.TaskGroup() as group:
            for _ in range(workers):
                group.create_task(worker())
        return sorted(results, key=lambda r: r.port)

    async def _probe(self, family: int, address: str, port: int) -> PortState:
        loop = asyncio.get_running_loop()
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        started = loop.time()
        try:
            code: int | None = sock.connect_ex((address, port))  # loopback and LAN often answer at once
            if code in (errno.EINPROGRESS, errno.EAGAIN):
                code = await self._wait_connected(sock)
        finally:
            _reset_close(sock)
        elapsed = _ms(loop.time() - started)
        if code == 0:
            return PortState(port, "open", elapsed)
        if code == errno.ECONNREFUSED:
            return PortState(port, "closed", elapsed, "refused")
        if code is None:
            return PortState(port, "filtered", reason="no answer")
        if code in _FILTERED_ERRNOS:
            return PortState(port, "filtered", reason=os.strerror(code))
        raise OSError(code, os.strerror(code))

    async def _wait_connected(self, sock: socket.socket) -> int | None:
        """The connect result (0 or an errno) once writable, or None after the timeout."""
        loop = asyncio.get_running_loop()
        writable: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not writable.done():
                writable.set_result(None)

        loop.add_writer(sock.fileno(), wake)
        try:
            async with asyncio.timeout(self.timeout_s):
                await writable
        except TimeoutError:
            return None
        finally:
            loop.remove_writer(sock.fileno())
        return sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)


def _reset_close(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0), as nmap does: no TIME_WAIT pile-up over large scans."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def summarize(address: str, states: Sequence[PortState]) -> str:
    """One line: open ports listed, closed/filtered counted."""
    open_ports = [s.port for s in states if s.state == "open"]
    closed = sum(s.state == "closed" for s in states)
    filtered = sum(s.state == "filtered" for s in states)
    listed = ", ".join(map(str, open_ports[:50])) + (" ..." if len(open_ports) > 50 else "")
    head = f"{len(open_ports)} open ({listed})" if open_ports else "no open ports"
    return f"{head}; {closed} closed, {filtered} filtered of {len(states)} scanned on {address}"
