"""Address scopes for raw targets (addresses and host names that are not in the inventory).

A role may target raw addresses only inside the networks it lists (`addresses` in the policy
data). Some ranges are restricted for everyone (link-local, cloud metadata services): an
address in a restricted range is allowed only to a role that lists that range, or a
narrower network inside it, itself; `0.0.0.0/0` does not open them.

Addresses are canonical before any check: every spelling the resolver (inet_aton) accepts
for an IPv4 address is that address (`2852039166`, `0xa9fea9fe`, `0251.0376.0251.0376`,
`0xa9.0xfe.0xa9.0xfe`, `169.254.43518`); IPv6 that carries an IPv4 address to the IPv4
host is that address (IPv4-mapped `::ffff:169.254.169.254`, IPv4-compatible
`::169.254.169.254`, NAT64 `64:ff9b::a9fe:a9fe`); zone ids (`fe80::1%eth0`) are dropped.
Host names cannot be judged from the plan: the tool resolves them and asks again with the
address it is about to connect to (`ToolContext.check_address`), so a name that resolves to
a metadata address is refused too.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# one to four parts, each decimal, octal (leading 0) or hex (0x): what inet_aton reads
_INET_ATON = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}", re.IGNORECASE)
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def parse_network(text: str) -> Network:
    """`10.0.0.0/8`, `fe80::/10`, or one address (a /32 or /128); ValueError when invalid."""
    return ipaddress.ip_network(text.strip(), strict=False)


def canonical(address: str) -> Address | None:
    """The IP address `address` denotes (see the module docstring), or None for a host name."""
    text = address.strip().strip("[]").split("%", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return _inet_aton(text)
    if isinstance(ip, ipaddress.IPv6Address):
        return _embedded_ipv4(ip) or ip
    return ip


def _inet_aton(text: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a resolver reads from a numeric spelling, or None when it is none."""
    if not _INET_ATON.fullmatch(text):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except OSError:  # out of range ("256.1.1.1", "4294967296"): not an address
        return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    packed = ip.packed
    if ip in NAT64 or (packed[:12] == bytes(12) and int.from_bytes(packed[12:]) > 1):  # NAT64, ::a.b.c.d
        return ipaddress.IPv4Address(packed[12:])
    return None


@dataclass(frozen=True)
class Restricted:
    """A named range nobody reaches without listing it explicitly (e.g. `cloud-metadata`)."""

    name: str
    networks: tuple[Network, ...]


def restricted_ranges(data: Mapping[str, Iterable[str]]) -> tuple[Restricted, ...]:
    return tuple(Restricted(name, tuple(parse_network(n) for n in nets)) for name, nets in data.items())


def address_denial(
    ip: Address, allowed: Iterable[Network], restricted: Iterable[Restricted], role: str
) -> str | None:
    """Why `role` may not target `ip` (naming the rule), or None when it may."""
    covering = [n for n in allowed if n.version == ip.version and ip in n]
    if not covering:
        return f"{ip} is outside the networks the {role} role may target (policy roles.{role}.addresses)"
    return restricted_denial(ip, covering, restricted)


def restricted_denial(
    ip: Address, allowed: Iterable[Network], restricted: Iterable[Restricted]
) -> str | None:
    """Why `ip` may not be reached because it is in a restricted range that none of the `allowed`
    networks lists itself (None when it may). For destinations the bot chooses, such as a
    notification channel's host, this is the whole check."""
    covering = [n for n in allowed if n.version == ip.version and ip in n]
    broken = [
        (max(r.prefixlen for r in ranges), rule.name)
        for rule in restricted
        if (ranges := [r for r in rule.networks if r.version == ip.version and ip in r])
        and not any(_inside(n, r) for n in covering for r in ranges)
    ]
    if not broken:
        return None
    _, name = max(broken)  # the most specific range names the rule: cloud-metadata, not link-local
    return (
        f"{ip} is in the restricted range {name} (policy addresses.restricted.{name}); "
        f"a role may reach it only by listing it in its own addresses"
    )


def _inside(network: Network, restricted: Network) -> bool:
    return network.version == restricted.version and network.subnet_of(restricted)  # type: ignore[arg-type]
