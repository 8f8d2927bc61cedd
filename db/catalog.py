"""`SqlToolCatalog`: the tool catalog mirrored in SQL, intent patterns, timeout policies, telemetry.

The registry (`pipeline.registry`) is the source of truth for tools; `sync` mirrors
it so operators and dashboards can query it. Timeout policies are data: a glob
per tool name (``network.*``) with a timeout and a retry count, the most specific
pattern winning. Telemetry keeps one row per tool run on a target.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import begin_immediate, begin_serialised, store_errors
from db.models import IntentPattern, TimeoutPolicy, Tool, ToolCapability, ToolTelemetry
from db.types import utcnow
from pipeline.errors import InvalidRequest
from pipeline.registry import ToolSpec


@dataclass(frozen=True)
class TimeoutRule:
    pattern: str
    timeout_s: float
    retries: int


@dataclass(frozen=True)
class ToolStats:
    tool: str
    runs: int
    failures: int
    avg_ms: float
    max_ms: float


def specificity(pattern: str) -> tuple[int, int]:
    """Exact names beat globs; among globs the one with more literal characters wins."""
    wild = sum(pattern.count(c) for c in "*?[")
    return (1 if wild == 0 else 0, len(pattern) - wild)


class SqlToolCatalog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def sync(self, specs: Iterable[ToolSpec]) -> int:
        """Make the tools table equal to `specs` (insert, update, remove stale); returns the count."""
        declared = {spec.name: spec for spec in specs}
        async with store_errors(), self._sessions.begin() as session:
            # replicas starting together sync at once: the second waits here for the first
            # instead of inserting the same names and failing on the primary key
            await begin_serialised(session, "tools")
            rows = {row.name: row for row in await session.scalars(select(Tool))}
            for name in rows.keys() - declared.keys():
                await session.delete(rows[name])
            for name, spec in declared.items():
                row = rows.get(name) or Tool(name=name)
                row.domain, row.risk, row.timeout_s = spec.domain, spec.risk.value, spec.timeout_s
                row.takes_targets, row.description = spec.takes_targets, spec.description
                row.args_schema = spec.json_schema()
                row.updated_at = utcnow()
                session.add(row)
        return len(declared)

    async def tools(self) -> list[Tool]:
        async with store_errors(), self._sessions() as session:
            return list(await session.scalars(select(Tool).order_by(Tool.name)))

    async def set_capabilities(self, tool: str, capabilities: Iterable[str]) -> None:
        async with store_errors(), self._sessions.begin() as session:
            await session.execute(delete(ToolCapability).where(ToolCapability.tool == tool))
            session.add_all(ToolCapability(tool=tool, capability=c) for c in sorted(set(capabilities)))

    async def capabilities(self, tool: str) -> list[str]:
        async with store_errors(), self._sessions() as session:
            query = select(ToolCapability.capability).where(ToolCapability.tool == tool)
            return sorted(await session.scalars(query))

    async def add_intent_pattern(self, pattern: str, tool: str, priority: int = 0) -> None:
        async with store_errors(), self._sessions.begin() as session:
            session.add(IntentPattern(pattern=pattern, tool=tool, priority=priority))

    async def intent_patterns(self) -> list[tuple[str, str, int]]:
        """(pattern, tool, priority), highest priority first."""
        query = select(IntentPattern).order_by(IntentPattern.priority.desc(), IntentPattern.id)
        async with store_errors(), self._sessions() as session:
            return [(r.pattern, r.tool, r.priority) for r in await session.scalars(query)]

    async def set_timeout_policy(self, pattern: str, timeout_s: float, retries: int = 0) -> None:
        if timeout_s <= 0 or retries < 0:
            raise InvalidRequest("a timeout policy needs timeout_s > 0 and retries >= 0")
        async with store_errors(), self._sessions.begin() as session:
            await begin_immediate(session)
            row = await session.scalar(select(TimeoutPolicy).where(TimeoutPolicy.tool_pattern == pattern))
            row = row or TimeoutPolicy(tool_pattern=pattern)
            row.timeout_s, row.retries = timeout_s, retries
            session.add(row)

    async def timeout_policy(self, tool: str) -> TimeoutRule | None:
        """The most specific policy whose pattern matches `tool`, or None."""
        async with store_errors(), self._sessions() as session:
            rows = list(await session.scalars(select(TimeoutPolicy)))
        matching = [r for r in rows if fnmatch.fnmatchcase(tool, r.tool_pattern)]
        if not matching:
            return None
        best = max(matching, key=lambda r: specificity(r.tool_pattern))
        return TimeoutRule(best.tool_pattern, best.timeout_s, best.retries)

    async def record_telemetry(
        self, tool: str, status: str, duration_ms: float, execution_id: str | None = None
    ) -> None:
        async with store_errors(), self._sessions.begin() as session:
            session.add(
                ToolTelemetry(
                    tool=tool, status=status, duration_ms=duration_ms, execution_id=execution_id, at=utcnow()
                )
            )

    async def telemetry(self, since: datetime) -> list[ToolStats]:
        """Per-tool runs, failures (anything but ok/skipped), mean and max duration since `since`."""
        failed = case((ToolTelemetry.status.in_(("ok", "skipped")), 0), else_=1)
        query = (
            select(
                ToolTelemetry.tool,
                func.count(),
                func.sum(failed),
                func.avg(ToolTelemetry.duration_ms),
                func.max(ToolTelemetry.duration_ms),
            )
            .where(ToolTelemetry.at >= since)
            .group_by(ToolTelemetry.tool)
            .order_by(ToolTelemetry.tool)
        )
        async with store_errors(), self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [ToolStats(t, int(n), int(f or 0), float(a or 0), float(m or 0)) for t, n, f, a, m in rows]
