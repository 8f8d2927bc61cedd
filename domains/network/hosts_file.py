"""The system resolver's hosts file (/etc/hosts), read the way the C library reads it.

dnspython asks DNS servers only; the system resolver (glibc's `files dns` order) answers names
listed in the hosts file first, so `localhost` resolves with no DNS server at all. The DNS
tool asks this module first when it uses the system resolver's configuration.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

ANSWERS = ("A", "AAAA", "PTR")


def parse(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """(address, names) per line, comments and malformed lines skipped, names lower-cased."""
    entries: list[tuple[str, tuple[str, ...]]] = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2:
            continue
        try:
            address = str(ipaddress.ip_address(fields[0].split("%", 1)[0]))
        except ValueError:
            continue
        entries.append((address, tuple(n.lower().rstrip(".") for n in fields[1:])))
    return entries


def answer(path: Path, name: str, record_type: str) -> dict[str, Any] | None:
    """The lookup result (as `dns.lookup` shapes it) the hosts file gives for `name`, or None when it
    lists nothing for it (the question then goes to DNS). A/AAAA by name, PTR by address."""
    if record_type not in ANSWERS:
        return None
    try:
        entries = parse(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None
    wanted = name.lower().rstrip(".")
    if record_type == "PTR":
        records = [names[0] for address, names in entries if address == _address(wanted)]
    else:
        version = 4 if record_type == "A" else 6
        records = [a for a, names in entries if wanted in names and _version(a) == version]
    if not records:
        return None
    return {
        "name": name,
        "record_type": record_type,
        "canonical_name": None,
        "ttl": None,
        "records": list(dict.fromkeys(records)),
        "nameserver": f"hosts file {path}",
    }


def _version(address: str) -> int:
    return ipaddress.ip_address(address).version


def _address(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return ""
