"""`SqlImpactFacts`: what the inventory and the execution history say about a change's targets
(implements `pipeline.ports.ImpactFacts`): dependants through relationships, locks, recent changes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.assets import SqlAssetRepository
from db.engine import store_errors
from db.locks import SqlTargetLocks
from db.models import Execution, ExecutionStep
from domains.assets.directory import DEPENDENCY_KINDS, asset_key
from pipeline.contracts import AssetRef, RecentChange

CHANGING = ("write", "critical")


class SqlImpactFacts:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], assets: SqlAssetRepository) -> None:
        self._sessions = sessions
        self._assets = assets
        self._locks = SqlTargetLocks(sessions)

    async def dependants(self, names: Sequence[str], limit: int) -> tuple[list[tuple[AssetRef, str]], bool]:
        """Breadth first over reversed dependency edges, nearest dependants first."""
        reverse: dict[str, list[tuple[str, str]]] = {}
        for source, kind, target in await self._assets.relationships():
            if kind in DEPENDENCY_KINDS:
                reverse.setdefault(target, []).append((source, kind))
        by_name = {a.name: a for a in await self._assets.snapshot()}
        seen = {asset_key(n) for n in names}
        queue = deque(sorted(seen))
        found: list[tuple[AssetRef, str]] = []
        while queue:
            node = queue.popleft()
            for source, kind in sorted(reverse.get(node, ())):
                if source in seen:
                    continue
                if len(found) == limit:
                    return found, True
                seen.add(source)
                found.append((by_name.get(source) or AssetRef(name=source, address=source), f"{kind} {node}"))
                queue.append(source)
        return found, False

    async def locked(self, names: Sequence[str], now: datetime) -> dict[str, str]:
        return await self._locks.holders(names, now)

    async def recent_changes(self, names: Sequence[str], since: datetime) -> dict[str, RecentChange]:
        """The latest change step started since `since` on each of `names`: its targets, and the
        assets it wrote on besides them (a copy's destination, kept with the execution's plan)."""
        wanted = set(names)
        query = (
            select(ExecutionStep.execution_id, ExecutionStep.step_id, ExecutionStep.tool)
            .add_columns(ExecutionStep.targets, ExecutionStep.started_at, Execution.principal, Execution.plan)
            .join(Execution, ExecutionStep.execution_id == Execution.id)
            .where(ExecutionStep.risk.in_(CHANGING), ExecutionStep.started_at >= since)
            .order_by(ExecutionStep.started_at.desc())
        )
        async with store_errors(), self._sessions() as session:
            rows = (await session.execute(query)).all()
        latest: dict[str, RecentChange] = {}
        for execution_id, step_id, tool, targets, started_at, principal, plan in rows:
            for name in [*_names(targets), *_destinations(plan, step_id)]:
                if name in wanted and name not in latest:
                    latest[name] = RecentChange(
                        execution_id=execution_id, tool=tool, by=principal, at=started_at
                    )
        return latest


def _names(assets: object) -> list[str]:
    """The names of stored assets (AssetRef dumps)."""
    found = assets if isinstance(assets, list) else []
    return [str(a["name"]) for a in found if isinstance(a, dict) and a.get("name")]


def _destinations(plan: object, step_id: str) -> list[str]:
    """The destinations of step `step_id` in a stored plan."""
    steps = plan.get("steps") if isinstance(plan, dict) else None
    for step in steps if isinstance(steps, list) else []:
        if isinstance(step, dict) and step.get("id") == step_id:
            return _names(step.get("destinations"))
    return []
