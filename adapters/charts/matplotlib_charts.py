"""`MatplotlibCharts`: implements pipeline.history.ChartRenderer with matplotlib's Agg backend
(line charts here; network path diagrams in path_diagram.py, laid out and drawn with networkx).

matplotlib is not thread-safe through pyplot's global state, so each chart is its own
`Figure` (the object API, no pyplot) drawn in `asyncio.to_thread`, never on the event loop.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from adapters.charts import path_diagram
from pipeline.history import Sample
from pipeline.topology import PathGraph

WIDTH_IN, HEIGHT_IN, DPI = 8.0, 4.0, 100  # 800 x 400 pixels


class MatplotlibCharts:
    """Writes each chart to a new PNG under `directory` (created private to its owner)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def line(
        self,
        title: str,
        unit: str,
        series: Mapping[str, Sequence[Sample]],
        flagged: Mapping[str, Sequence[Sample]] | None = None,
    ) -> str:
        return await asyncio.to_thread(self._draw, title, unit, series, flagged or {})

    async def paths(self, title: str, graph: PathGraph) -> str:
        return await asyncio.to_thread(self._draw_paths, title, graph)

    def _draw_paths(self, title: str, graph: PathGraph) -> str:
        path = self._new_file("paths")
        path_diagram.draw(graph, title, path)
        return str(path)

    def _new_file(self, kind: str) -> Path:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self.directory / f"{kind}-{uuid.uuid4().hex[:12]}.png"

    def _draw(
        self,
        title: str,
        unit: str,
        series: Mapping[str, Sequence[Sample]],
        flagged: Mapping[str, Sequence[Sample]],
    ) -> str:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
        from matplotlib.figure import Figure

        figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        for label, samples in series.items():
            marker = "o" if len(samples) < 40 else ""
            axes.plot(_days(samples), [s.value for s in samples], label=label, marker=marker, markersize=3)
        for label, samples in flagged.items():
            if samples:
                axes.scatter(
                    _days(samples),
                    [s.value for s in samples],
                    color="red",
                    zorder=3,
                    label=f"{label}: anomaly",
                )
        axes.set_title(title)
        axes.set_ylabel(unit)
        axes.grid(alpha=0.3)
        if series:
            axes.legend(loc="upper left", fontsize=8)
        locator = AutoDateLocator()  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
        figure.tight_layout()
        path = self._new_file("chart")
        figure.savefig(path, format="png")
        return str(path)


def _days(samples: Sequence[Sample]) -> list[float]:
    """matplotlib's date numbers: days since 1970-01-01 UTC (its default epoch)."""
    return [s.at.timestamp() / 86400.0 for s in samples]
