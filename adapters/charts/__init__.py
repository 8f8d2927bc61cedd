"""Charts as PNG files (matplotlib, Agg backend), drawn in a worker thread."""

from adapters.charts.matplotlib_charts import MatplotlibCharts

__all__ = ["MatplotlibCharts"]
