"""ICMP echo over one shared socket per address family, multiplexed between concurrent callers.

`IcmpProbe` is the multi-host primitive behind `network.ping` and the privileged
traceroute. Every caller on the event loop shares one raw socket (as root) or one
unprivileged ICMP datagram socket (when ``net.ipv4.ping_group_range`` allows it),
and each echo request is matched back to its caller by identifier and sequence.
A sweep of 254 hosts therefore costs one socket and one parse per reply, where one
icmplib socket per host makes every raw socket see every reply (and drop some when
its buffer overflows). icmplib's socket classes open the sockets, so its permission
errors and defaults apply; the packets themselves are built and parsed here.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

from icmplib import ICMPv4Socket, ICMPv6Socket
from icmplib.exceptions import ICMPLibError, SocketPermissionError

from pipeline.errors import ToolFailed

PERMISSION_HINT = (
    "ICMP is not permitted for this user: run as root (raw sockets), or allow unprivileged "
    "ping with sysctl net.ipv4.ping_group_range='0 2147483647'"
)

_ECHO_REQUEST = {4: 8, 6: 128}
_ECHO_REPLY = {4: 0, 6: 129}
_TIME_EXCEEDED = {4: 11, 6: 3}
_UNREACHABLE = {4: 3, 6: 1}
_PAYLOAD = b"opsconductor-icmp-probe-" + bytes(range(32))
_DEFAULT_TTL = 64
_RECEIVE_BUFFER = 4 * 1024 * 1024  # a /24 sweep on loopback queues ~500 packets at once
_SOL_RAW, _ICMP_FILTER = 255, 1  # linux/icmp.h: drop what we do not parse, e.g. our own requests


@dataclass(frozen=True)
class EchoResult:
    """The outcome of one echo request.

    kind is "reply" (the target answered), "time_exceeded" or "unreachable" (a router
    or the local stack answered from `responder`), "timeout", or "error" (the request
    could not be sent: `error` says why, e.g. a blackhole route).
    """

    kind: str
    responder: str = ""
    rtt_ms: float | None = None
    code: int = 0
    error: str = ""


@dataclass
class PingStats:
    """Echo statistics for one address; loss data is kept for unreachable hosts too."""

    address: str
    sent: int = 0
    rtts_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def received(self) -> int:
        return len(self.rtts_ms)

    @property
    def alive(self) -> bool:
        return bool(self.rtts_ms)

    @property
    def loss_pct(self) -> float:
        return round(100.0 * (1 - self.received / self.sent), 1) if self.sent else 100.0

    def rtt(self, kind: str) -> float | None:
        if not self.rtts_ms:
            return None
        value = {"min": min, "max": max}.get(kind, lambda v: sum(v) / len(v))(self.rtts_ms)
        return round(value, 3)


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of `data`."""
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return int(~total & 0xFFFF)


def echo_request(family: int, ident: int, seq: int) -> bytes:
    """An ICMP(v6) echo request; the kernel fills the ICMPv6 checksum."""
    header = struct.pack("!BBHHH", _ECHO_REQUEST[family], 0, 0, ident, seq)
    if family == 6:
        return header + _PAYLOAD
    cksum = checksum(header + _PAYLOAD)
    return struct.pack("!BBHHH", _ECHO_REQUEST[family], 0, cksum, ident, seq) + _PAYLOAD


def parse_icmp(family: int, packet: bytes, has_ip_header: bool) -> tuple[str, int, int, int] | None:
    """(kind, code, ident, seq) of an echo reply or of an error quoting one of our requests."""
    if has_ip_header:
        packet = packet[(packet[0] & 0x0F) * 4 :] if packet else b""
    if len(packet) < 8:
        return None
    kind, code = packet[0], packet[1]
    if kind == _ECHO_REPLY[family]:
        ident, seq = struct.unpack("!HH", packet[4:8])
        return "reply", code, ident, seq
    if kind not in (_TIME_EXCEEDED[family], _UNREACHABLE[family]):
        return None
    inner = packet[8:]
    inner_ip_len = 40 if family == 6 else ((inner[0] & 0x0F) * 4 if inner else 0)
    quoted = inner[inner_ip_len : inner_ip_len + 8]
    if len(quoted) < 8 or quoted[0] != _ECHO_REQUEST[family]:
        return None
    ident, seq = struct.unpack("!HH", quoted[4:8])
    label = "time_exceeded" if kind == _TIME_EXCEEDED[family] else "unreachable"
    return label, code, ident, seq


def address_family(address: str) -> int:
    """4 or 6 for a canonical IP literal."""
    return 6 if ":" in address else 4


def canonical_ip(address: str) -> str | None:
    """The canonical text of an IP literal (as the kernel reports sources), or None for a name."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            return socket.inet_ntop(family, socket.inet_pton(family, address.split("%", 1)[0]))
        except OSError:
            continue
    return None


async def resolve(address: str) -> str:
    """A canonical IP address for `address` (IPv4 preferred); ToolFailed when a name does not resolve."""
    literal = canonical_ip(address)
    if literal is not None:
        return literal
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(address, None, type=socket.SOCK_DGRAM)
    except socket.gaierror as err:
        raise ToolFailed(f"cannot resolve {address}: {err.strerror}") from err
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    return str(infos[0][4][0])


@dataclass
class _Pending:
    future: asyncio.Future[EchoResult]
    destination: str
    sent_at: float


class _Channel:
    """One ICMP socket of one family, its reader callback and its outstanding requests."""

    def __init__(self, family: int, privileged: bool) -> None:
        self.family = family
        self.privileged = privileged
        cls = ICMPv6Socket if family == 6 else ICMPv4Socket
        self._icmp = cls(None, privileged)  # raises SocketPermissionError
        self.sock: socket.socket = self._icmp.sock
        self.sock.setblocking(False)
        self._tune()
        self.ident = random.randrange(1, 0xFFFF)
        self.pending: dict[int, _Pending] = {}
        self._seqs: Iterator[int] = itertools.cycle(range(0x10000))
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.sock.fileno(), self._drain)

    def _tune(self) -> None:
        """A larger receive buffer and, on raw IPv4 sockets, a kernel filter by ICMP type."""
        for option in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
            try:
                if option is not None:
                    self.sock.setsockopt(socket.SOL_SOCKET, option, _RECEIVE_BUFFER)
                    break
            except OSError:
                continue
        if self.privileged and self.family == 4:
            wanted = (1 << _ECHO_REPLY[4]) | (1 << _TIME_EXCEEDED[4]) | (1 << _UNREACHABLE[4])
            with contextlib.suppress(OSError):  # not Linux: parse_icmp ignores the rest
                self.sock.setsockopt(_SOL_RAW, _ICMP_FILTER, struct.pack("I", ~wanted & 0xFFFFFFFF))

    def next_seq(self) -> int:
        if len(self.pending) >= 0xFFFF:
            raise ToolFailed("too many ICMP requests in flight")
        seq = next(self._seqs)
        while seq in self.pending:
            seq = next(self._seqs)
        return seq

    def send(self, destination: str, seq: int, ttl: int | None) -> None:
        packet = echo_request(self.family, self.ident, seq)
        if ttl is None:
            self.sock.sendto(packet, (destination, 0))
            return
        level, option = (
            (socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS)
            if self.family == 6
            else (socket.IPPROTO_IP, socket.IP_TTL)
        )
        self.sock.setsockopt(level, option, ttl)
        try:
            self.sock.sendto(packet, (destination, 0))
        finally:
            self.sock.setsockopt(level, option, _DEFAULT_TTL)

    def _drain(self) -> None:
        while True:
            try:
                packet, source = self.sock.recvfrom(4096)
            except BlockingIOError:
                return
            except OSError:
                continue  # a queued ICMP error on a datagram socket: the request times out
            self._dispatch(packet, str(source[0]))

    def _dispatch(self, packet: bytes, source: str) -> None:
        parsed = parse_icmp(self.family, packet, self.privileged and self.family == 4)
        if parsed is None:
            return
        kind, code, ident, seq = parsed
        if self.privileged and ident != self.ident:
            return  # another process's ping
        pending = self.pending.get(seq)
        if pending is None or pending.future.done():
            return
        if kind == "reply" and source != pending.destination:
            return
        rtt = (self._loop.time() - pending.sent_at) * 1000
        pending.future.set_result(EchoResult(kind, source, round(rtt, 3), code))

    def close(self) -> None:
        self._loop.remove_reader(self.sock.fileno())
        for pending in self.pending.values():
            if not pending.future.done():
                pending.future.cancel()
        self._icmp.close()


def _expire(future: asyncio.Future[EchoResult]) -> None:
    if not future.done():
        future.set_result(EchoResult("timeout"))


class IcmpProbe:
    """Echo requests for any number of concurrent callers over one socket per family.

    privileged: True for raw sockets, False for unprivileged datagram sockets, None to
    choose (raw as root, else datagram). Bind one instance to one event loop; `close()`
    releases the sockets. Raises ToolFailed with PERMISSION_HINT when ICMP is not allowed.
    """

    def __init__(self, *, privileged: bool | None = None) -> None:
        self.privileged = privileged
        self._channels: dict[int, _Channel] = {}

    def _channel(self, family: int) -> _Channel:
        channel = self._channels.get(family)
        if channel is None:
            channel = self._open(family)
            self._channels[family] = channel
        return channel

    def _open(self, family: int) -> _Channel:
        modes = [self.privileged] if self.privileged is not None else [os.geteuid() == 0, False]
        for mode in dict.fromkeys(modes):
            try:
                return _Channel(family, bool(mode))
            except SocketPermissionError:
                continue
            except (ICMPLibError, OSError) as err:
                raise ToolFailed(f"cannot open an ICMP socket: {err}") from err
        raise ToolFailed(PERMISSION_HINT)

    def mode_for(self, address: str) -> str:
        """ "privileged" or "unprivileged": the socket that `address` will use (opened now)."""
        return "privileged" if self._channel(address_family(address)).privileged else "unprivileged"

    @property
    def mode(self) -> str:
        """ "privileged", "unprivileged" or "unopened" (for reports)."""
        channel = next(iter(self._channels.values()), None)
        if channel is None:
            return "unopened"
        return "privileged" if channel.privileged else "unprivileged"

    async def echo(self, address: str, *, timeout: float = 2.0, ttl: int | None = None) -> EchoResult:
        """Send one echo request to a canonical IP address (see `resolve`); wait up to `timeout`."""
        channel = self._channel(address_family(address))
        loop = asyncio.get_running_loop()
        seq = channel.next_seq()
        future: asyncio.Future[EchoResult] = loop.create_future()
        channel.pending[seq] = _Pending(future, address, loop.time())
        # a timer resolves the future on timeout: cheaper than wait_for's extra task per request
        timer = loop.call_later(timeout, _expire, future)
        try:
            try:
                channel.send(address, seq, ttl)
            except OSError as err:
                return EchoResult("error", error=err.strerror or str(err))
            return await future
        finally:
            timer.cancel()
            channel.pending.pop(seq, None)

    async def ping(
        self, address: str, *, count: int = 3, interval: float = 0.2, timeout: float = 2.0
    ) -> PingStats:
        """`count` echo requests `interval` seconds apart, each waited for up to `timeout`."""
        ip = await resolve(address)
        stats = PingStats(ip)

        async def one(index: int) -> EchoResult:
            if index:
                await asyncio.sleep(index * interval)
            return await self.echo(ip, timeout=timeout)

        results = [await one(0)] if count == 1 else await asyncio.gather(*(one(i) for i in range(count)))
        for result in results:
            stats.sent += 1
            if result.kind == "reply" and result.rtt_ms is not None:
                stats.rtts_ms.append(result.rtt_ms)
            elif result.kind == "error":
                stats.errors.append(result.error)
            elif result.kind == "unreachable":
                stats.errors.append(f"destination unreachable (from {result.responder})")
        return stats

    async def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()

    async def __aenter__(self) -> IcmpProbe:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
