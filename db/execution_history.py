"""`SqlExecutionHistory`: executions as people look them up (filters, one execution in full).

Read-only; the kernel writes through `SqlExecutionStore`. Target filters match the resolved
asset names stored with each step (the same JSON text on SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql import Select

from db.engine import store_errors
from db.models import Approval, Execution, ExecutionStep


@dataclass(frozen=True)
class HistoryFilter:
    """Every field narrows; empty fields match everything."""

    person: str = ""
    tool: str = ""
    target: str = ""
    state: str = ""
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class StepRow:
    step_id: str
    tool: str
    args: dict[str, Any]
    targets: list[str]
    risk: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    result: dict[str, Any] | None


@dataclass(frozen=True)
class ExecutionRow:
    id: str
    request: str
    person: str
    platform: str
    status: str
    outcome: str
    risk: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    tools: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    steps: list[StepRow] = field(default_factory=list)
    plan: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DecidedOutcome:
    """A request someone else approved or rejected, and how it ended."""

    execution: ExecutionRow
    decided_by: str
    approved: bool
    decided_at: datetime


FINISHED = ("succeeded", "failed", "rejected")


class SqlExecutionHistory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def search(self, where: HistoryFilter, *, limit: int = 50, offset: int = 0) -> list[ExecutionRow]:
        """Newest first."""
        query = _filtered(select(Execution), where)
        query = query.order_by(Execution.created_at.desc(), Execution.id).limit(limit).offset(offset)
        async with store_errors(), self._sessions() as session:
            rows = list(await session.scalars(query))
            steps = await _steps(session, [r.id for r in rows])
        return [_execution(r, steps.get(r.id, [])) for r in rows]

    async def get(self, execution_id: str) -> ExecutionRow | None:
        async with store_errors(), self._sessions() as session:
            row = await session.get(Execution, execution_id)
            if row is None:
                return None
            steps = await _steps(session, [row.id])
        return _execution(row, steps.get(row.id, []), with_plan=True)

    async def pending_approvals(self, limit: int = 100) -> list[ExecutionRow]:
        """Executions awaiting a decision, oldest first."""
        query = (
            select(Execution)
            .join(Approval, Approval.execution_id == Execution.id)
            .where(Approval.state == "pending")
            .order_by(Approval.created_at)
            .limit(limit)
        )
        async with store_errors(), self._sessions() as session:
            rows = list(await session.scalars(query))
            steps = await _steps(session, [r.id for r in rows])
        return [_execution(r, steps.get(r.id, []), with_plan=True) for r in rows]


async def decided_by_others(
    sessions: async_sessionmaker[AsyncSession], person: str, since: datetime
) -> list[DecidedOutcome]:
    """`person`'s requests that another person decided and that finished (ran to an end, or were
    rejected) since `since`, oldest first: what the requester has not been told yet."""
    ended = func.coalesce(Execution.finished_at, Approval.decided_at)
    query = (
        select(Execution, Approval.decided_by, Approval.state, Approval.decided_at)
        .join(Approval, Approval.execution_id == Execution.id)
        .where(
            Execution.principal == person,
            Approval.decided_by.is_not(None),
            Approval.decided_by != person,
            Execution.status.in_(FINISHED),
            ended >= since,
        )
        .order_by(ended)
    )
    async with store_errors(), sessions() as session:
        rows = (await session.execute(query)).all()
        steps = await _steps(session, [row.id for row, *_ in rows])
    return [
        DecidedOutcome(_execution(row, steps.get(row.id, []), with_plan=True), by, state == "approved", at)
        for row, by, state, at in rows
    ]


def _filtered(query: Select[Any], where: HistoryFilter) -> Select[Any]:
    if where.person:
        query = query.where(Execution.principal == where.person)
    if where.state:
        query = query.where(Execution.status == where.state)
    if where.since is not None:
        query = query.where(Execution.created_at >= where.since)
    if where.until is not None:
        query = query.where(Execution.created_at < where.until)
    if where.tool or where.target:
        steps = select(ExecutionStep.execution_id)
        if where.tool:
            steps = steps.where(ExecutionStep.tool == where.tool)
        if where.target:
            name = _escaped(where.target.lower())
            steps = steps.where(cast(ExecutionStep.targets, String).like(f'%"name": "{name}"%', escape="\\"))
        query = query.where(Execution.id.in_(steps))
    return query


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace('"', "")


async def _steps(session: AsyncSession, ids: Sequence[str]) -> dict[str, list[StepRow]]:
    if not ids:
        return {}
    query = (
        select(ExecutionStep)
        .where(ExecutionStep.execution_id.in_(ids))
        .order_by(ExecutionStep.execution_id, ExecutionStep.position)
    )
    found: dict[str, list[StepRow]] = {}
    for s in await session.scalars(query):
        found.setdefault(s.execution_id, []).append(
            StepRow(
                step_id=s.step_id,
                tool=s.tool,
                args=dict(s.args),
                targets=[str(t.get("name", "")) for t in s.targets],
                risk=s.risk,
                status=s.status,
                started_at=s.started_at,
                finished_at=s.finished_at,
                result=s.result,
            )
        )
    return found


def _execution(row: Execution, steps: list[StepRow], *, with_plan: bool = False) -> ExecutionRow:
    return ExecutionRow(
        id=row.id,
        request=row.request,
        person=row.principal,
        platform=row.platform,
        status=row.status,
        outcome=row.outcome,
        risk=row.risk,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        tools=list(dict.fromkeys(s.tool for s in steps)),
        targets=list(dict.fromkeys(t for s in steps for t in s.targets)),
        steps=steps if with_plan else [],
        plan=dict(row.plan) if with_plan else {},
    )
