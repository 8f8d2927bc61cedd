"""A path graph (pipeline.topology) drawn as a PNG with networkx and matplotlib's Agg backend.

Left to right by distance from the bot (one column per hop count), one lane per host: a hop
several paths pass sits between their lanes, so shared segments show as merged lines, drawn
thicker; the slowest hop in red with what it
adds; every timed link labelled with its milliseconds. Runs in a worker thread (called through
`MatplotlibCharts.paths`): each drawing is its own `Figure`, no pyplot state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.topology import PathGraph

COLOURS = {
    "origin": "#9e9e9e",
    "hop": "#90caf9",
    "silent": "#ffffff",
    "target": "#a5d6a7",
    "unreached": "#ef9a9a",
}
DPI = 100
GAP = 0.8  # lanes between two nodes of one column, at least
LEGEND = (
    "red: the slowest hop (what it adds to the round trip)   thicker: a segment several paths share   "
    "*: a hop that did not answer   green: reached   pink: not reached"
)


def draw(graph: PathGraph, title: str, path: Path) -> None:
    import networkx as nx
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    nxg = nx.DiGraph()
    for node in graph.nodes.values():
        nxg.add_node(node.id, depth=node.depth)
    for link in graph.links:
        nxg.add_edge(link.a, link.b)
    positions = lanes(graph)
    columns = max((n.depth for n in graph.nodes.values()), default=0) + 1
    rows = max(len(graph.traces), 1)
    figure = Figure(figsize=(max(8.0, 1.9 * columns), max(4.0, 1.2 * rows + 1.8)), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_axis_off()
    _edges(nx, nxg, graph, positions, axes)
    _nodes(nx, nxg, graph, positions, axes)
    axes.set_title(title)
    axes.margins(0.08, 0.25)
    figure.text(0.01, 0.01, LEGEND, fontsize=7, color="#455a64")
    figure.tight_layout()
    figure.savefig(path, format="png")


def lanes(graph: PathGraph) -> dict[str, tuple[float, float]]:
    """x: hops from the bot; y: the mean lane of the hosts whose paths pass the node (hosts with
    a common route in neighbouring lanes). A column is ordered by where its nodes' parents sit
    (fewer crossings), its nodes kept at least `GAP` apart and centred where they wanted to be."""
    by_route = sorted(
        graph.traces, key=lambda t: [h.address or "~" for h in t.hops]
    )  # shared prefixes adjacent
    lane = {trace.target: -float(i) for i, trace in enumerate(by_route)}
    through: dict[str, set[str]] = {node: set() for node in graph.nodes}
    for link in graph.links:
        through[link.a].update(link.targets)
        through[link.b].update(link.targets)
    wanted = {
        node: sum(lane[t] for t in hosts) / len(hosts) if hosts else 0.0 for node, hosts in through.items()
    }
    columns: dict[int, list[str]] = {}
    for entry in graph.nodes.values():
        columns.setdefault(entry.depth, []).append(entry.id)
    parents: dict[str, list[str]] = {node: [] for node in graph.nodes}
    for link in graph.links:
        parents[link.b].append(link.a)
    positions: dict[str, tuple[float, float]] = {}

    def parent_y(node: str) -> float:
        placed = [positions[p][1] for p in parents[node] if p in positions]
        return sum(placed) / len(placed) if placed else 0.0

    for depth in sorted(columns):
        members = columns[depth]
        members.sort(key=lambda n: (-parent_y(n), -wanted[n], n))
        placed: list[float] = []
        for node in members:
            placed.append(min(wanted[node], placed[-1] - GAP) if placed else wanted[node])
        shift = (sum(wanted[n] for n in members) - sum(placed)) / len(members)
        for node, y in zip(members, placed, strict=True):
            positions[node] = (float(depth), y + shift)
    return positions


def _edges(nx: Any, nxg: Any, graph: PathGraph, positions: Any, axes: Any) -> None:
    slowest = graph.slowest()
    widths, colours, labels = [], [], {}
    for a, b in nxg.edges():
        link = next(link for link in graph.links if (link.a, link.b) == (a, b))
        is_slowest = slowest is not None and (slowest.a, slowest.b) == (a, b)
        widths.append(1.2 + 1.6 * (len(link.targets) - 1) + (1.5 if is_slowest else 0))
        colours.append("#d32f2f" if is_slowest else "#546e7a")
        if link.added_ms is not None:
            labels[(a, b)] = f"+{link.added_ms:.3g} ms"
    nx.draw_networkx_edges(
        nxg, positions, ax=axes, width=widths, edge_color=colours, arrows=True, arrowsize=12, node_size=2200
    )
    nx.draw_networkx_edge_labels(nxg, positions, edge_labels=labels, ax=axes, font_size=7, rotate=False)


def _nodes(nx: Any, nxg: Any, graph: PathGraph, positions: Any, axes: Any) -> None:
    order = list(nxg.nodes())
    nodes = [graph.nodes[n] for n in order]
    nx.draw_networkx_nodes(
        nxg,
        positions,
        nodelist=order,
        ax=axes,
        node_color=[COLOURS[n.kind] for n in nodes],
        edgecolors="#37474f",
        node_size=2200,
        node_shape="o",
    )
    labels = {
        n.id: n.label + (f"\n{n.rtt_ms:.3g} ms" if n.rtt_ms and n.kind != "origin" else "") for n in nodes
    }
    nx.draw_networkx_labels(nxg, positions, labels=labels, ax=axes, font_size=7)
