"""DNS lookups with dnspython's async resolver; answers as plain, structured records."""

from __future__ import annotations

import ipaddress
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.name
import dns.resolver
import dns.reversename

from pipeline.errors import ToolFailed, ToolTimeout


def make_resolver(nameservers: tuple[str, ...], port: int, timeout_s: float) -> dns.asyncresolver.Resolver:
    """The system resolver, or one that asks only `nameservers` on `port`."""
    resolver = dns.asyncresolver.Resolver(configure=not nameservers)
    if nameservers:
        resolver.nameservers = list(nameservers)
    resolver.port = port
    resolver.lifetime = timeout_s
    resolver.timeout = min(timeout_s, 2.0)
    return resolver


def query_name(name: str, record_type: str) -> str:
    """The name to ask: for PTR, an IP address becomes its in-addr.arpa / ip6.arpa name."""
    if record_type == "PTR":
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return name
        return dns.reversename.from_address(name).to_text()
    return name


async def lookup(resolver: dns.asyncresolver.Resolver, name: str, record_type: str) -> dict[str, Any]:
    """Resolve one name; ToolFailed for NXDOMAIN, no answer or server failure, ToolTimeout on timeout."""
    qname = query_name(name, record_type)
    try:
        answer = await resolver.resolve(qname, record_type, search=False)
    except dns.resolver.NXDOMAIN as err:
        raise ToolFailed(f"{qname} does not exist (NXDOMAIN)") from err
    except dns.resolver.NoAnswer as err:
        raise ToolFailed(f"{qname} exists but has no {record_type} records") from err
    except dns.resolver.LifetimeTimeout as err:
        raise ToolTimeout(f"no DNS answer for {qname} {record_type} within {resolver.lifetime:g} s") from err
    except dns.resolver.NoNameservers as err:
        raise ToolFailed(f"every nameserver failed to answer {qname} {record_type} (e.g. SERVFAIL)") from err
    except dns.exception.DNSException as err:
        raise ToolFailed(f"DNS lookup of {qname} {record_type} failed: {err}") from err
    records = [record_value(record_type, rdata) for rdata in answer]
    canonical = answer.canonical_name.to_text()
    return {
        "name": qname,
        "record_type": record_type,
        "canonical_name": canonical if canonical != dns.name.from_text(qname).to_text() else None,
        "ttl": answer.rrset.ttl if answer.rrset is not None else None,
        "records": records,
        "nameserver": answer.nameserver,
    }


def record_value(record_type: str, rdata: Any) -> Any:
    """A JSON-friendly value for one record."""
    if record_type == "MX":
        return {"preference": rdata.preference, "exchange": rdata.exchange.to_text()}
    if record_type == "TXT":
        return b"".join(rdata.strings).decode("utf-8", "replace")
    if record_type == "SOA":
        return {
            "mname": rdata.mname.to_text(),
            "rname": rdata.rname.to_text(),
            "serial": rdata.serial,
            "refresh": rdata.refresh,
            "retry": rdata.retry,
            "expire": rdata.expire,
            "minimum": rdata.minimum,
        }
    if record_type == "SRV":
        return {
            "priority": rdata.priority,
            "weight": rdata.weight,
            "port": rdata.port,
            "target": rdata.target.to_text(),
        }
    if record_type in ("CNAME", "NS", "PTR"):
        return rdata.target.to_text()
    return rdata.to_text()


def summarize(result: dict[str, Any]) -> str:
    """One line, e.g. "web.example.org A: 192.0.2.10, 192.0.2.11 (ttl 300)"."""
    shown = [_short(v) for v in result["records"][:10]]
    more = f" (+{len(result['records']) - 10} more)" if len(result["records"]) > 10 else ""
    via = f" via {result['canonical_name']}" if result.get("canonical_name") else ""
    source = f"ttl {result['ttl']}" if result.get("ttl") is not None else f"from the {result['nameserver']}"
    return f"{result['name']} {result['record_type']}{via}: {', '.join(shown)}{more} ({source})"


def _short(value: Any) -> str:
    if isinstance(value, dict) and "exchange" in value:
        return f"{value['preference']} {value['exchange']}"
    if isinstance(value, dict) and "port" in value:
        return f"{value['target']}:{value['port']} (priority {value['priority']}, weight {value['weight']})"
    if isinstance(value, dict):
        return f"{value['mname']} {value['rname']} serial {value['serial']}"
    return str(value)
