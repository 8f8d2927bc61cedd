"""Example requests drawn from the live inventory, for help and for the answers that ask back.

Each example names what the inventory really holds (a web server, a database server, a service it
records, its environments and places), never the reference inventory's web-01/db-01; the help
keeps only the examples that plan when sent back. An empty inventory gets placeholders and the way
to import one. A catalog tool shows its first declared example that plans, its host names that
the inventory lacks replaced by one it has.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pipeline.contracts import AssetRef, ToolCall
from pipeline.nlu import messages
from pipeline.nlu.interpret import _example_args as example_args
from pipeline.nlu.inventory import InventoryIndex, signature
from pipeline.nlu.toolwords import ToolView

PLACEHOLDER = "<host>"
_SERVERS = ("web_server", "app_server", "db_server", "domain_controller")
_NO_SHELL = frozenset({"windows", "network"})  # no syslog, no POSIX shell to run `df -h` in
_LOGIN_SERVICE = "sshd"  # runs on every Linux host the bot logs in to
_NUMBERED = re.compile(r"^(.*?)(\d+)$")


@dataclass(frozen=True)
class Hosts:
    """The inventory values the examples use: placeholders when the inventory is empty."""

    host: str = PLACEHOLDER
    other: str = ""  # a second host ('ping a b'), or none
    web: str = PLACEHOLDER
    db: str = PLACEHOLDER
    shell: str = ""  # a host with a POSIX shell, or none
    service: str = ""  # a service the inventory records (or sshd on a shell host), with its host
    service_host: str = ""
    where: tuple[str, ...] = ()  # selectors one asset matches together ('env=prod', 'location=nyc')
    selectors: tuple[str, ...] = ()  # one of each kind the inventory holds, for the targets line
    span: str = ""  # 'app-eu-7 to app-eu-8', a range of names the inventory holds, or ''

    @property
    def empty(self) -> bool:
        return self.host == PLACEHOLDER

    @classmethod
    def of(cls, assets: Sequence[AssetRef]) -> Hosts:
        if not assets:
            return cls()
        ordered = sorted(assets, key=lambda a: (a.type not in _SERVERS, a.name))
        first = ordered[0]
        db = _first(ordered, "db_server") or first
        web = _first(ordered, "web_server") or _first(ordered, "app_server") or first
        other = db if db is not first else next((a for a in ordered if a is not first), None)
        shell = next((a for a in ordered if a.os.lower() not in _NO_SHELL), None)
        service, service_host = _service(ordered, shell)
        return cls(
            host=first.name,
            other=other.name if other else "",
            web=web.name,
            db=db.name,
            shell=shell.name if shell else "",
            service=service,
            service_host=service_host,
            where=_where(ordered),
            selectors=_selectors(ordered),
            span=_span(ordered),
        )


def _first(assets: Sequence[AssetRef], kind: str) -> AssetRef | None:
    return next((a for a in assets if a.type == kind), None)


def _service(assets: Sequence[AssetRef], shell: AssetRef | None) -> tuple[str, str]:
    """A service the inventory records (the login's own sshd is a poor one to restart), with its host."""
    recorded = [(s, a.name) for a in assets if a.os.lower() != "network" for s in a.services]
    chosen = next((r for r in recorded if r[0].lower() != _LOGIN_SERVICE), None) or next(iter(recorded), None)
    if chosen is not None:
        return chosen
    return (_LOGIN_SERVICE, shell.name) if shell is not None else ("", "")


def _where(assets: Sequence[AssetRef]) -> tuple[str, ...]:
    for asset in assets:
        pairs = [f"env={asset.environment}" if asset.environment else ""]
        pairs.append(f"location={asset.location}" if asset.location else "")
        found = tuple(p for p in pairs if p and " " not in p)
        if found:
            return found
    return ()


def _selectors(assets: Sequence[AssetRef]) -> tuple[str, ...]:
    def one(key: str, values: list[str]) -> str:
        found = next((v for v in values if v and " " not in v), "")
        return f"{key}={found}" if found else ""

    kinds = (
        one("env", [a.environment for a in assets]),
        one("location", [a.location for a in assets]),
        one("os", [a.os for a in assets]),
        one("type", [a.type for a in assets]),
        one("service", [s for a in assets for s in a.services]),
        next((f"{k}={v}" for a in assets for k, v in a.tags.items() if " " not in k + v), ""),
    )
    return tuple(k for k in kinds if k)


def _span(assets: Sequence[AssetRef]) -> str:
    """Two names differing only in their last number ('app-eu-7 to app-eu-8')."""
    by_stem: dict[str, list[tuple[int, str]]] = {}
    for asset in assets:
        found = _NUMBERED.match(asset.name)
        if found:
            by_stem.setdefault(found.group(1), []).append((int(found.group(2)), asset.name))
    for numbered in by_stem.values():
        if len(numbered) > 1:
            ordered = sorted(numbered)
            return f"{ordered[0][1]} to {ordered[-1][1]}"
    return ""


def requests(hosts: Hosts) -> list[tuple[str, str]]:
    """(request, what it shows) for the help, each naming only what `hosts` holds."""
    h = hosts
    found = [
        (f"ping {h.host} {h.other}".strip(), "reachability, latency and loss"),
        (f"is {h.web} reachable?", ""),
    ]
    if h.service:
        found += [
            (f"check {h.service} on {h.service_host}", "service status"),
            (f"restart {h.service} on {h.service_host}", "(asks for approval first)"),
        ]
    found.append((f"how much disk is left on {h.db}?", "uptime, disk, memory, cpu, os"))
    if h.shell:
        found += [
            (f"show processes on {h.shell}", ""),
            (f"tail /var/log/syslog on {h.shell}", ""),
            (f'run "df -h" on {h.shell}', "(critical: a second person must approve)"),
        ]
    found += [
        (f"scan 22,80,443 on {h.web}", "TCP ports, lists and ranges"),
        (f"traceroute {h.host}", ""),
        ("dns MX example.org", ""),
        (f"assets {' '.join(h.where)}" if h.where else "list all assets", "what the inventory holds"),
        ("email oncall@example.com that the maintenance starts at 22:00", ""),
    ]
    return found


def retargeted(example: str, index: InventoryIndex, hosts: Hosts) -> str:
    """A declared example with the host names the inventory lacks replaced by one it has: a name
    with the same letters ('web-07' for 'web-01') when there is one, else the examples' host."""

    def swap(found: re.Match[str]) -> str:
        word = found.group(0)
        if word.lower() in index.by_name or not index.looks_like_host(word):
            return word
        letters = signature(word)[0]
        alike = sorted(
            n for (other, _), names in index.by_signature.items() if other == letters for n in names
        )
        return alike[0] if alike else hosts.host

    return re.sub(r"(?<![\w./=-])[A-Za-z][\w-]*\d[\w-]*(?![\w./-])", swap, example)


def structured(tool: ToolView, hosts: Hosts) -> str | None:
    """The tool's structured form on an inventory host (`web.rolling_restart app-eu-7 service=tomcat`):
    for a catalog tool none of whose declared examples plans on this inventory."""
    read = {s.name: hosts.service for s in tool.slots if s.kind == "service" and hosts.service}
    args = example_args(tool, read, every=False)
    if args is None:
        return None
    targets = ((hosts.service_host if read else hosts.host),) if tool.takes_targets else ()
    return messages.structured(ToolCall(tool=tool.name, args=args, targets=targets))


def planning(candidates: Sequence[str], plans: Callable[[str], bool]) -> str | None:
    """The first candidate request that plans."""
    return next((c for c in candidates if plans(c)), None)
