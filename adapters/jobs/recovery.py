"""`SqlStepRecovery`: what happens to a step whose worker died mid-run.

The step row (execution_steps) is the durable record: a step left 'running' by a lost
attempt is either released for another run (read steps, or all steps when the policy
allows) or closed as failed, each by one conditional UPDATE, so two workers recovering
the same step cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import store_errors
from db.models import ExecutionStep
from db.types import utcnow


@dataclass(frozen=True)
class StepClaim:
    status: str  # planned, running, succeeded, failed, skipped
    attempt: int
    claimed_at: datetime | None

    def older_than(self, seconds: float) -> bool:
        """A claim this old outlived any step timeout: its worker is gone."""
        return self.claimed_at is not None and self.claimed_at < utcnow() - timedelta(seconds=seconds)


class SqlStepRecovery:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def state(self, key: str) -> StepClaim | None:
        """The claim on the step with this idempotency key, or None for an unknown step."""
        query = select(ExecutionStep.status, ExecutionStep.attempt, ExecutionStep.claimed_at).where(
            ExecutionStep.idempotency_key == key
        )
        async with store_errors(), self._sessions() as session:
            row = (await session.execute(query)).first()
        return StepClaim(str(row[0]), int(row[1]), row[2]) if row is not None else None

    async def release(self, key: str, attempt: int) -> bool:
        """Put a lost 'running' claim back to 'planned' so the step can be claimed again."""
        return await self._move(key, attempt, status="planned", claimed_by=None, claimed_at=None)

    async def close_failed(self, key: str, attempt: int) -> bool:
        """Mark a lost 'running' claim failed; True for the one caller that did it."""
        return await self._move(key, attempt, status="failed")

    async def _move(self, key: str, attempt: int, **values: Any) -> bool:
        statement = (
            update(ExecutionStep)
            .where(
                ExecutionStep.idempotency_key == key,
                ExecutionStep.status == "running",
                ExecutionStep.attempt == attempt,
            )
            .values(**values)
        )
        async with store_errors(), self._sessions.begin() as session:
            result = await session.execute(statement)
        return int(cast(Any, result).rowcount) == 1
