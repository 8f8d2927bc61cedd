"""Stored traceroutes merged into one path graph: hops, shared segments, where latency jumps.

Every trace starts at the bot (`ORIGIN`). A hop that answered is a node named by its address,
so the paths to several hosts meet where they pass the same router; a hop that did not answer
is a node of its own path only ("*" at that distance). The last hop of a trace that reached
its host is the host itself.

A link's latency is what the hop adds: the round trip to its far end less the round trip to
the nearest answering hop before it (the bot counts as 0 ms), the median over the paths that
use the link. The slowest hop is the link adding the most; a jump is a link adding at least
`JUMP_MS` and `JUMP_SHARE` of its path's whole round trip.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from statistics import median
from typing import Literal

ORIGIN = "bot"
JUMP_MS = 5.0
JUMP_SHARE = 0.3

NodeKind = Literal["origin", "hop", "silent", "target", "unreached"]


@dataclass(frozen=True)
class TracedHop:
    ttl: int
    address: str | None
    rtt_ms: float | None
    note: str = ""


@dataclass(frozen=True)
class Trace:
    """One stored traceroute to an inventory asset."""

    target: str
    address: str
    at: datetime
    hops: tuple[TracedHop, ...]

    @property
    def reached(self) -> bool:
        return bool(self.hops) and self.hops[-1].note == "destination"


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    depth: int
    kind: NodeKind
    rtt_ms: float | None = None


@dataclass(frozen=True)
class Link:
    a: str
    b: str
    targets: tuple[str, ...]  # the hosts whose paths use it
    added_ms: float | None  # what the hop adds to the round trip (median over those paths)

    @property
    def shared(self) -> bool:
        return len(self.targets) > 1


@dataclass(frozen=True)
class PathGraph:
    nodes: dict[str, Node]
    links: tuple[Link, ...]
    traces: tuple[Trace, ...]

    def label(self, node: str) -> str:
        return self.nodes[node].label.replace("\n", " ")

    def slowest(self) -> Link | None:
        """The link that adds the most to the round trip (None when no hop answered)."""
        timed = [link for link in self.links if link.added_ms is not None]
        return max(timed, key=lambda link: link.added_ms or 0.0, default=None)

    def shared(self) -> list[Link]:
        return [link for link in self.links if link.shared and link.a != ORIGIN]

    def jumps(self) -> list[Link]:
        """Links adding at least JUMP_MS and JUMP_SHARE of the round trip of a path using them."""
        totals = {t.target: _total(t) for t in self.traces}
        found = []
        for link in self.links:
            if link.added_ms is None or link.added_ms < JUMP_MS:
                continue
            if any(link.added_ms >= JUMP_SHARE * totals.get(name, 0.0) for name in link.targets):
                found.append(link)
        return sorted(found, key=lambda link: -(link.added_ms or 0.0))


def merge(traces: Iterable[Trace]) -> PathGraph:
    """One graph from the traces (one per host: the newest)."""
    kept = tuple(sorted(traces, key=lambda t: t.target))
    nodes: dict[str, Node] = {ORIGIN: Node(ORIGIN, "bot", 0, "origin", 0.0)}
    rtts: dict[str, list[float]] = defaultdict(list)
    used: dict[tuple[str, str], list[str]] = defaultdict(list)
    added: dict[tuple[str, str], list[float]] = defaultdict(list)
    for trace in kept:
        previous, last_rtt = ORIGIN, 0.0
        for hop in trace.hops:
            node = _node(trace, hop)
            if node.id not in nodes or nodes[node.id].depth > node.depth:
                nodes[node.id] = node
            if hop.rtt_ms is not None:
                rtts[node.id].append(hop.rtt_ms)
            key = (previous, node.id)
            if trace.target not in used[key]:
                used[key].append(trace.target)
            if hop.rtt_ms is not None:
                added[key].append(max(hop.rtt_ms - last_rtt, 0.0))
                last_rtt = hop.rtt_ms
            previous = node.id
        if not trace.reached:
            lost = Node(
                f"unreached:{trace.target}",
                f"{trace.target}\n(not reached)",
                len(trace.hops) + 1,
                "unreached",
            )
            nodes[lost.id] = lost
            used[(previous, lost.id)].append(trace.target)
    for node_id, values in rtts.items():
        node = nodes[node_id]
        nodes[node_id] = Node(node.id, node.label, node.depth, node.kind, round(median(values), 2))
    links = tuple(
        Link(a, b, tuple(targets), round(median(added[(a, b)]), 2) if added.get((a, b)) else None)
        for (a, b), targets in used.items()
    )
    return PathGraph(nodes, links, kept)


def _node(trace: Trace, hop: TracedHop) -> Node:
    if hop.note == "destination":
        return Node(
            f"target:{trace.target}", f"{trace.target}\n{hop.address or trace.address}", hop.ttl, "target"
        )
    if hop.address is None:
        return Node(f"*:{trace.target}:{hop.ttl}", "*", hop.ttl, "silent")
    return Node(hop.address, hop.address, hop.ttl, "hop")


def _total(trace: Trace) -> float:
    timed = [h.rtt_ms for h in trace.hops if h.rtt_ms is not None]
    return timed[-1] if timed else 0.0


def describe(graph: PathGraph) -> str:
    """'Paths to 3 hosts: 2 shared hops (...). Slowest hop: a -> b (+38.2 ms, to web-03, api-02).'"""
    hosts = len(graph.traces)
    parts = [f"Network paths to {hosts} host(s)"]
    unreached = [t.target for t in graph.traces if not t.reached]
    shared = graph.shared()
    if shared:
        names = ", ".join(f"{graph.label(s.a)} -> {graph.label(s.b)}" for s in shared[:3])
        parts.append(f"{len(shared)} shared segment(s) ({names})")
    slowest = graph.slowest()
    summary = ": ".join(parts[:1]) + ("; " + "; ".join(parts[1:]) if len(parts) > 1 else "") + "."
    if slowest is not None:
        summary += (
            f" Slowest hop: {graph.label(slowest.a)} -> {graph.label(slowest.b)} "
            f"(+{slowest.added_ms:g} ms, on the path to {', '.join(slowest.targets)})."
        )
    if unreached:
        summary += f" Not reached: {', '.join(unreached)}."
    return summary


def per_host(graph: PathGraph) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """For each host: its facts (when traced, hops, round trip, the hop adding the most)."""
    rows = []
    for trace in graph.traces:
        steps = [h for h in trace.hops if h.rtt_ms is not None]
        worst = _worst_step(trace)
        facts = [
            ("traced", f"{trace.at:%Y-%m-%d %H:%M} UTC"),
            ("hops", str(len(trace.hops))),
            ("round trip", f"{steps[-1].rtt_ms:g} ms" if steps else "no answer"),
            ("reached", "yes" if trace.reached else "no"),
        ]
        if worst:
            facts.append(("biggest jump", worst))
        rows.append((trace.target, tuple(facts)))
    return rows


def _worst_step(trace: Trace) -> str:
    best, last, where = 0.0, 0.0, ""
    for hop in trace.hops:
        if hop.rtt_ms is None:
            continue
        if hop.rtt_ms - last > best:
            best, where = (
                hop.rtt_ms - last,
                f"hop {hop.ttl} ({hop.address or '*'}) +{hop.rtt_ms - last:.3g} ms",
            )
        last = hop.rtt_ms
    return where
