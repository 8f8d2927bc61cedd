"""A small authoritative DNS server over UDP on loopback, built on dnspython's message API.

It answers from a dict of (name, type) -> records, follows CNAMEs like a resolver
would see them, returns NXDOMAIN for unknown names, an empty NOERROR answer for
known names without the asked type, SERVFAIL for `broken.` names, and never answers
names under `silent.` (to exercise timeouts).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import cast

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


@dataclass
class StandInZone:
    records: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    queries: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def example(cls) -> StandInZone:
        return cls(
            {
                ("web.example.test.", "A"): ["127.0.0.10", "127.0.0.11"],
                ("web.example.test.", "AAAA"): ["::1"],
                ("www.example.test.", "CNAME"): ["web.example.test."],
                ("example.test.", "MX"): ["10 mail.example.test.", "20 backup-mail.example.test."],
                ("example.test.", "TXT"): ['"v=spf1 -all"', '"team=ops" " split"'],
                ("example.test.", "NS"): ["ns1.example.test."],
                ("example.test.", "SOA"): [
                    "ns1.example.test. hostmaster.example.test. 2026112701 3600 600 86400 300"
                ],
                ("10.0.0.127.in-addr.arpa.", "PTR"): ["web.example.test."],
                ("mail.example.test.", "A"): ["127.0.0.25"],
                ("_ldap._tcp.example.test.", "SRV"): [
                    "0 100 389 dc1.example.test.",
                    "10 50 389 dc2.example.test.",
                ],
            }
        )

    def known(self, name: str) -> bool:
        return any(n == name for n, _ in self.records)

    def answer(self, query: dns.message.Message) -> dns.message.Message | None:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        name, kind = question.name.to_text(), dns.rdatatype.to_text(question.rdtype)
        self.queries.append((name, kind))
        if name.endswith("silent.example.test."):
            return None
        if name.endswith("broken.example.test."):
            response.set_rcode(dns.rcode.SERVFAIL)
            return response
        if not self.known(name):
            response.set_rcode(dns.rcode.NXDOMAIN)
            return response
        for _ in range(8):  # follow CNAMEs
            cname = self.records.get((name, "CNAME"))
            if kind != "CNAME" and cname:
                response.answer.append(dns.rrset.from_text(name, 300, "IN", "CNAME", *cname))
                name = cname[0]
                continue
            values = self.records.get((name, kind))
            if values:
                response.answer.append(dns.rrset.from_text(name, 300, "IN", kind, *values))
            break
        return response


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, zone: StandInZone) -> None:
        self.zone = zone
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        response = self.zone.answer(dns.message.from_wire(data))
        if response is not None and self.transport is not None:
            self.transport.sendto(response.to_wire(), addr)


async def start_dns_server(zone: StandInZone) -> tuple[asyncio.DatagramTransport, int]:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(zone), local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    return transport, port
