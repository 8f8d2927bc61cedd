"""ICMP echo with icmplib: privileged raw sockets as root, unprivileged datagram sockets otherwise."""

from __future__ import annotations

import os

from icmplib import async_ping
from icmplib.exceptions import ICMPLibError, NameLookupError, SocketPermissionError

from pipeline.contracts import ToolOutput
from pipeline.errors import TargetUnreachable, ToolFailed

PERMISSION_HINT = (
    "ICMP is not permitted for this user: run as root, or allow unprivileged ping with "
    "sysctl net.ipv4.ping_group_range='0 2147483647'"
)


async def icmp_ping(
    address: str, *, count: int = 3, interval: float = 0.2, timeout: float = 2.0
) -> ToolOutput:
    """Ping one address; raise TargetUnreachable when no reply came back."""
    try:
        host = await async_ping(
            address, count=count, interval=interval, timeout=timeout, privileged=os.geteuid() == 0
        )
    except SocketPermissionError as err:
        raise ToolFailed(PERMISSION_HINT) from err
    except NameLookupError as err:
        raise ToolFailed(f"cannot resolve {address}") from err
    except ICMPLibError as err:
        raise ToolFailed(f"ping failed: {err}") from err
    data = {
        "address": host.address,
        "sent": host.packets_sent,
        "received": host.packets_received,
        "loss_pct": round(host.packet_loss * 100, 1),
        "rtt_min_ms": round(host.min_rtt, 3),
        "rtt_avg_ms": round(host.avg_rtt, 3),
        "rtt_max_ms": round(host.max_rtt, 3),
    }
    if not host.is_alive:
        raise TargetUnreachable(f"no reply from {address} ({host.packets_sent} sent, 100% loss)")
    summary = (
        f"{host.packets_received}/{host.packets_sent} replies, "
        f"{data['loss_pct']}% loss, rtt avg {data['rtt_avg_ms']} ms"
    )
    return ToolOutput(summary=summary, data=data)
