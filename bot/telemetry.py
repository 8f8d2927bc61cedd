"""Per-tool telemetry in the catalog tables: every target result of every step, and the tools
table kept equal to the catalog (built-in and defined tools, after each reload)."""

from __future__ import annotations

import logging

from db.catalog import SqlToolCatalog
from pipeline.contracts import PlanStep, StepResult
from pipeline.dispatch import StepDispatcher, StepJob
from pipeline.errors import OpsError
from pipeline.ports import ProgressCallback
from pipeline.registry import ToolRegistry

log = logging.getLogger(__name__)


class TelemetryDispatcher:
    """StepDispatcher decorator: records each target result (tool, status, duration) in
    `tool_telemetry`; a database hiccup costs the record, never the step."""

    def __init__(self, inner: StepDispatcher, catalog: SqlToolCatalog, registry: ToolRegistry) -> None:
        self.inner, self.catalog, self.registry = inner, catalog, registry
        self._synced = -1

    async def dispatch(self, job: StepJob, step: PlanStep, progress: ProgressCallback | None) -> StepResult:
        result = await self.inner.dispatch(job, step, progress)
        try:
            await self.sync()
            for target in result.results:
                await self.catalog.record_telemetry(
                    result.tool, target.status.value, target.duration_ms, job.execution_id
                )
        except OpsError:
            log.warning("tool telemetry not recorded for %s", result.tool, exc_info=True)
        return result

    async def sync(self) -> None:
        """Mirror the catalog into the tools table when it changed since the last look."""
        if self._synced != self.registry.version:
            version = self.registry.version
            await self.catalog.sync(self.registry)
            self._synced = version
