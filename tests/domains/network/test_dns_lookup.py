"""network.dns_lookup against a DNS server the test runs on loopback."""

from __future__ import annotations

from typing import Any

import pytest

from domains.network.config import NetworkConfig
from domains.network.tools import DnsLookupArgs, dns_lookup
from pipeline.contracts import AssetRef
from pipeline.errors import ToolFailed, ToolTimeout
from pipeline.registry import ToolContext
from tests.domains.network.dns_server import StandInZone

Server = tuple[str, int, StandInZone]


def context(server: Server, timeout_s: float = 2.0) -> ToolContext:
    address, port, _ = server
    config = NetworkConfig(dns_nameservers=(address,), dns_port=port, dns_timeout_s=timeout_s)
    return ToolContext("exec-1", "step-1", {NetworkConfig: config})


async def lookup(server: Server, name: str, record_type: str = "A") -> dict[str, Any]:
    args = DnsLookupArgs.model_validate({"name": name, "record_type": record_type})
    output = await dns_lookup(context(server), None, args)
    assert output.summary.startswith(output.data["name"])
    return output.data


@pytest.mark.parametrize(
    ("name", "record_type", "records"),
    [
        ("web.example.test", "A", ["127.0.0.10", "127.0.0.11"]),
        ("web.example.test", "aaaa", ["::1"]),
        ("www.example.test", "CNAME", ["web.example.test."]),
        ("example.test", "NS", ["ns1.example.test."]),
        ("example.test", "TXT", ["v=spf1 -all", "team=ops split"]),
        ("127.0.0.10", "PTR", ["web.example.test."]),
    ],
)
async def test_record_types(dns_server: Server, name: str, record_type: str, records: list[str]) -> None:
    data = await lookup(dns_server, name, record_type)
    assert sorted(data["records"]) == sorted(records)
    assert data["ttl"] == 300 and data["nameserver"] == "127.0.0.1"


async def test_mx_and_soa_are_structured(dns_server: Server) -> None:
    mx = await lookup(dns_server, "example.test", "MX")
    assert sorted(mx["records"], key=lambda r: r["preference"]) == [
        {"preference": 10, "exchange": "mail.example.test."},
        {"preference": 20, "exchange": "backup-mail.example.test."},
    ]
    soa = await lookup(dns_server, "example.test", "SOA")
    assert soa["records"][0]["serial"] == 2026112701
    assert soa["records"][0]["mname"] == "ns1.example.test."


async def test_srv_is_structured(dns_server: Server) -> None:
    srv = await lookup(dns_server, "_ldap._tcp.example.test", "srv")
    assert sorted(srv["records"], key=lambda r: r["priority"]) == [
        {"priority": 0, "weight": 100, "port": 389, "target": "dc1.example.test."},
        {"priority": 10, "weight": 50, "port": 389, "target": "dc2.example.test."},
    ]


async def test_a_target_is_the_nameserver_asked(dns_server: Server) -> None:
    """'ask ns1 for the MX of example.test': the inventory asset answers, on the configured port;
    the bot's own resolver (here: nothing listening) is not asked."""
    address, port, zone = dns_server
    config = NetworkConfig(dns_nameservers=("127.0.0.9",), dns_port=port, dns_timeout_s=2.0)
    ctx = ToolContext("exec-1", "step-1", {NetworkConfig: config})
    ns1 = AssetRef(name="ns1", address=address, type="dns_server", os="linux")
    args = DnsLookupArgs.model_validate({"name": "example.test", "record_type": "MX"})
    output = await dns_lookup(ctx, ns1, args)
    assert output.data["nameserver"] == address and len(output.data["records"]) == 2
    assert zone.queries[-1] == ("example.test.", "MX")


async def test_a_lookup_follows_cname(dns_server: Server) -> None:
    data = await lookup(dns_server, "www.example.test", "A")
    assert data["canonical_name"] == "web.example.test."
    assert sorted(data["records"]) == ["127.0.0.10", "127.0.0.11"]


async def test_ptr_asks_the_reverse_name(dns_server: Server) -> None:
    await lookup(dns_server, "127.0.0.10", "PTR")
    assert ("10.0.0.127.in-addr.arpa.", "PTR") in dns_server[2].queries


async def test_nxdomain(dns_server: Server) -> None:
    with pytest.raises(ToolFailed, match=r"nope\.example\.test does not exist \(NXDOMAIN\)"):
        await lookup(dns_server, "nope.example.test")


async def test_no_answer(dns_server: Server) -> None:
    with pytest.raises(ToolFailed, match="exists but has no MX records"):
        await lookup(dns_server, "web.example.test", "MX")


async def test_server_failure(dns_server: Server) -> None:
    with pytest.raises(ToolFailed, match="SERVFAIL"):
        await lookup(dns_server, "x.broken.example.test")


async def test_timeout(dns_server: Server) -> None:
    args = DnsLookupArgs(name="x.silent.example.test")
    with pytest.raises(ToolTimeout, match=r"no DNS answer for x\.silent\.example\.test A within 0\.5 s"):
        await dns_lookup(context(dns_server, timeout_s=0.5), None, args)
