"""Settings slice of the network tools, built by the composition root from the app settings."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class NetworkConfig(BaseModel):
    """What the network tools need; register one with the services (`ctx.get(NetworkConfig)`).

    Empty `dns_nameservers` means the system resolver configuration (/etc/resolv.conf), and then
    `hosts_file` answers A, AAAA and PTR questions first, as the system resolver does ('' skips it).
    `icmp_privileged` None chooses raw sockets as root and datagram sockets otherwise.
    `bandwidth_max_s` bounds every throughput measurement, whatever the request asked.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    dns_nameservers: tuple[str, ...] = ()
    dns_port: int = Field(53, ge=1, le=65535)
    dns_timeout_s: float = Field(5.0, gt=0, le=60)
    hosts_file: str = "/etc/hosts"
    scan_concurrency: int = Field(500, ge=1, le=10_000)
    port_timeout_s: float = Field(1.0, gt=0, le=30)
    ping_interval_s: float = Field(0.2, ge=0, le=5)
    ping_timeout_s: float = Field(1.0, gt=0, le=10)
    icmp_privileged: bool | None = None
    traceroute_timeout_s: float = Field(1.0, gt=0, le=10)
    traceroute_window: int = Field(8, ge=1, le=64)
    bandwidth_max_s: float = Field(10.0, gt=0, le=60)  # longer requests are cut to this
    bandwidth_max_bytes: int = Field(1 << 30, ge=1 << 16)  # what a relayed transfer sends at most
    iperf3_command: str = Field("iperf3", min_length=1)  # as found on the targets' PATH, or a path
    iperf3_port: int = Field(5201, ge=1, le=65535)
