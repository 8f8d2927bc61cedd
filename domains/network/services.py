"""What the composition root registers for the network tools (one call, one closer)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from domains.network.bandwidth import ThroughputMeter
from domains.network.config import NetworkConfig
from domains.network.icmp import IcmpProbe
from domains.network.portscan import PortScanner


def network_services(config: NetworkConfig) -> tuple[dict[type[Any], Any], Callable[[], Awaitable[None]]]:
    """The config, one shared ICMP probe, port scanner and throughput meter, plus the probe's closer.

    Register `NetworkResults` (db.network_results.SqlNetworkResults) next to these to
    store results. Sockets open lazily on the running loop, at the first ping.
    """
    probe = IcmpProbe(privileged=config.icmp_privileged)
    scanner = PortScanner(concurrency=config.scan_concurrency, timeout_s=config.port_timeout_s)
    meter = ThroughputMeter(config)
    return {
        NetworkConfig: config,
        IcmpProbe: probe,
        PortScanner: scanner,
        ThroughputMeter: meter,
    }, probe.close
