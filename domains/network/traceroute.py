"""Traceroute: ICMP echo with rising TTL over the shared IcmpProbe (privileged), or UDP.

Hops are probed in windows of several TTLs at once, so a path that goes dark costs
about one timeout per window rather than one per hop. The UDP method needs no
privileges: ICMP errors come back on the socket's error queue (IP_RECVERR), as
tracepath does it, and "port unreachable" from the target means it was reached.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from domains.network.icmp import EchoResult, IcmpProbe, address_family

_IP_RECVERR = getattr(socket, "IP_RECVERR", 11)
_IPV6_RECVERR = getattr(socket, "IPV6_RECVERR", 25)
_MSG_ERRQUEUE = getattr(socket, "MSG_ERRQUEUE", 0x2000)
_SO_EE_ORIGIN = {2: 4, 3: 6}  # SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6
_EXTENDED_ERR = struct.Struct("=IBBBBII")
_UDP_BASE_PORT = 33434
_PORT_UNREACHABLE = {4: (3, 3), 6: (1, 4)}
_TIME_EXCEEDED = {4: 11, 6: 3}


@dataclass(frozen=True)
class Hop:
    """One TTL: who answered (empty for no answer) and how fast."""

    ttl: int
    address: str = ""
    rtt_ms: float | None = None
    note: str = ""  # "destination", "unreachable", "no answer", or a send error


Probe = Callable[[str, int], Awaitable[EchoResult]]


async def trace(address: str, probe: Probe, *, max_hops: int, window: int) -> list[Hop]:
    """Probe TTLs 1..max_hops `window` at a time; stop at the window that reaches `address`."""
    hops: list[Hop] = []
    for first in range(1, max_hops + 1, window):
        ttls = range(first, min(first + window, max_hops + 1))
        results = await asyncio.gather(*(probe(address, ttl) for ttl in ttls))
        for ttl, result in zip(ttls, results, strict=True):
            hop = _hop(ttl, address, result)
            hops.append(hop)
            if hop.note in ("destination", "unreachable") or result.kind == "error":
                return hops
    return hops


def _hop(ttl: int, destination: str, result: EchoResult) -> Hop:
    if result.kind == "error":
        return Hop(ttl, note=result.error)
    if result.kind == "timeout":
        return Hop(ttl, note="no answer")
    reached = result.kind == "reply" or (result.kind == "port_unreachable")
    if reached or (result.responder == destination and result.kind == "unreachable"):
        return Hop(ttl, result.responder, result.rtt_ms, "destination")
    note = "unreachable" if result.kind == "unreachable" else ""
    return Hop(ttl, result.responder, result.rtt_ms, note)


def icmp_prober(icmp: IcmpProbe, timeout: float) -> Probe:
    """Echo requests with a TTL over the shared ICMP socket (needs the privileged mode)."""

    async def probe(address: str, ttl: int) -> EchoResult:
        return await icmp.echo(address, timeout=timeout, ttl=ttl)

    return probe


def udp_prober(timeout: float) -> Probe:
    """UDP datagrams to high ports with a TTL; no privileges needed."""

    async def probe(address: str, ttl: int) -> EchoResult:
        return await _udp_probe(address, ttl, timeout)

    return probe


async def _udp_probe(address: str, ttl: int, timeout: float) -> EchoResult:
    family = address_family(address)
    sock = socket.socket(socket.AF_INET6 if family == 6 else socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    if family == 6:
        sock.setsockopt(socket.IPPROTO_IPV6, _IPV6_RECVERR, 1)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, ttl)
    else:
        sock.setsockopt(socket.IPPROTO_IP, _IP_RECVERR, 1)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
    loop = asyncio.get_running_loop()
    try:
        sock.connect((address, _UDP_BASE_PORT + ttl))
        started = loop.time()
        sock.send(b"opsconductor-traceroute")
        error = await _wait_error(sock, timeout)
    except OSError as err:
        return EchoResult("error", error=err.strerror or str(err))
    finally:
        sock.close()
    if error is None:
        return EchoResult("timeout")
    return _classify(family, error, round((loop.time() - started) * 1000, 3))


async def _wait_error(sock: socket.socket, timeout: float) -> tuple[int, int, str] | None:
    """(icmp type, code, offender address) from the error queue, or None after `timeout`."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Event = asyncio.Event()
    loop.add_reader(sock.fileno(), ready.set)  # epoll reports a queued error as readable
    try:
        async with asyncio.timeout(timeout):
            while True:
                await ready.wait()
                ready.clear()
                error = _read_error_queue(sock)
                if error is not None:
                    return error
    except TimeoutError:
        return None
    finally:
        loop.remove_reader(sock.fileno())


def _read_error_queue(sock: socket.socket) -> tuple[int, int, str] | None:
    try:
        _, ancillary, _, _ = sock.recvmsg(512, 512, _MSG_ERRQUEUE)
    except (BlockingIOError, InterruptedError):
        return None
    for _level, _kind, data in ancillary:
        if len(data) < _EXTENDED_ERR.size:
            continue
        _errno, origin, icmp_type, code, _pad, _info, _data = _EXTENDED_ERR.unpack_from(data)
        if origin not in _SO_EE_ORIGIN:
            continue
        return icmp_type, code, _offender(data[_EXTENDED_ERR.size :])
    return None


def _offender(sockaddr: bytes) -> str:
    """The address in the sockaddr_in / sockaddr_in6 that follows sock_extended_err."""
    if len(sockaddr) < 2:
        return ""
    family = struct.unpack_from("=H", sockaddr)[0]
    if family == socket.AF_INET and len(sockaddr) >= 8:
        return socket.inet_ntop(socket.AF_INET, sockaddr[4:8])
    if family == socket.AF_INET6 and len(sockaddr) >= 24:
        return socket.inet_ntop(socket.AF_INET6, sockaddr[8:24])
    return ""


def _classify(family: int, error: tuple[int, int, str], rtt_ms: float) -> EchoResult:
    icmp_type, code, offender = error
    if (icmp_type, code) == _PORT_UNREACHABLE[family]:
        return EchoResult("port_unreachable", offender, rtt_ms, code)
    if icmp_type == _TIME_EXCEEDED[family]:
        return EchoResult("time_exceeded", offender, rtt_ms, code)
    return EchoResult("unreachable", offender, rtt_ms, code)
