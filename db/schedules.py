"""`SqlScheduleStore`: schedules and their runs in SQL (implements pipeline.schedules.ScheduleStore).

A tick is claimed in one transaction: a conditional UPDATE moves `next_run_at` on only
while it still holds the tick, and the run row's primary key (schedule, tick) refuses a
second claim of the same tick; so across any number of replicas one caller wins each tick.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import begin_immediate, begin_serialised, rowcount, store_errors
from db.models import ScheduleRow, ScheduleRun
from db.types import utcnow
from pipeline.schedules import RunState, Schedule, ScheduleState


def _row(schedule: Schedule) -> ScheduleRow:
    data = schedule.model_dump(mode="json")
    return ScheduleRow(
        id=schedule.id,
        number=schedule.number,
        name=schedule.name,
        text=schedule.text,
        plan=data["plan"],
        cadence=data["cadence"],
        destination=data["destination"],
        notify=schedule.notify,
        owner=schedule.owner,
        message=data["message"],
        state=schedule.state,
        next_run_at=schedule.next_run_at,
        last_run_at=schedule.last_run_at,
        last_state=schedule.last_state,
        approved_by=schedule.approved_by,
        created_at=schedule.created_at,
    )


def _schedule(row: ScheduleRow) -> Schedule:
    fields: dict[str, Any] = {
        column: getattr(row, column)
        for column in (
            "id", "number", "name", "text", "plan", "cadence", "destination", "notify", "owner", "message",
            "state", "next_run_at", "last_run_at", "last_state", "approved_by", "created_at",
        )
    }  # fmt: skip
    return Schedule.model_validate(fields)


NUMBER_TRIES = 5


class SqlScheduleStore:
    """ScheduleStore on SQLAlchemy; one instance per process, safe to share between tasks."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add(self, schedule: Schedule) -> Schedule:
        """Store `schedule` under the next free number (the highest so far + 1); returns it numbered."""
        for attempt in range(NUMBER_TRIES):
            try:
                async with store_errors(), self._sessions() as session, session.begin():
                    await begin_serialised(session, "schedules")  # replicas adding at once wait in turn
                    highest = await session.scalar(select(func.max(ScheduleRow.number)))
                    numbered = schedule.model_copy(update={"number": (highest or 0) + 1})
                    session.add(_row(numbered))
                return numbered
            except IntegrityError:  # another replica took that number at the same moment
                if attempt == NUMBER_TRIES - 1:
                    raise
        raise AssertionError("unreachable")

    async def get(self, schedule_id: str) -> Schedule | None:
        async with store_errors(), self._sessions() as session:
            row = await session.get(ScheduleRow, schedule_id)
            return _schedule(row) if row is not None else None

    async def all(self) -> list[Schedule]:
        async with store_errors(), self._sessions() as session:
            rows = await session.scalars(select(ScheduleRow).order_by(ScheduleRow.created_at))
            return [_schedule(r) for r in rows]

    async def set_state(self, schedule_id: str, state: ScheduleState, approved_by: str | None = None) -> bool:
        values: dict[str, Any] = {"state": state}
        if approved_by is not None:
            values["approved_by"] = approved_by
        async with store_errors(), self._sessions() as session, session.begin():
            result = await session.execute(
                update(ScheduleRow).where(ScheduleRow.id == schedule_id).values(**values)
            )
            return rowcount(result) == 1

    async def delete(self, schedule_id: str) -> bool:
        async with store_errors(), self._sessions() as session, session.begin():
            result = await session.execute(delete(ScheduleRow).where(ScheduleRow.id == schedule_id))
            return rowcount(result) == 1

    async def due(self, now: datetime) -> list[Schedule]:
        async with store_errors(), self._sessions() as session:
            rows = await session.scalars(
                select(ScheduleRow)
                .where(ScheduleRow.state == "active", ScheduleRow.next_run_at <= now)
                .order_by(ScheduleRow.next_run_at)
            )
            return [_schedule(r) for r in rows]

    async def claim(self, schedule_id: str, tick: datetime, next_at: datetime, by: str) -> bool:
        try:
            async with store_errors(), self._sessions() as session, session.begin():
                await begin_immediate(session)
                moved = await session.execute(
                    update(ScheduleRow)
                    .where(
                        ScheduleRow.id == schedule_id,
                        ScheduleRow.state == "active",
                        ScheduleRow.next_run_at == tick,
                    )
                    .values(next_run_at=next_at, last_run_at=tick)
                )
                if rowcount(moved) != 1:
                    return False
                session.add(ScheduleRun(schedule_id=schedule_id, tick_at=tick, claimed_by=by, posted=False))
        except IntegrityError:  # the same tick recorded already: someone else has it
            return False
        return True

    async def finish_run(
        self, schedule_id: str, tick: datetime, execution_id: str | None, state: RunState, posted: bool
    ) -> None:
        async with store_errors(), self._sessions() as session, session.begin():
            await session.execute(
                update(ScheduleRun)
                .where(ScheduleRun.schedule_id == schedule_id, ScheduleRun.tick_at == tick)
                .values(execution_id=execution_id, finished_at=utcnow(), state=state, posted=posted)
            )
            await session.execute(
                update(ScheduleRow).where(ScheduleRow.id == schedule_id).values(last_state=state)
            )
