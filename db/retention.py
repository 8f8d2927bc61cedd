"""`SqlRetention`: deletes stored results older than a cutoff, in short batches, and claims the
pruning job's ticks.

What each kind of stored data covers (the audit trail is never touched: it is hash-chained):

    measurements   network_scans of ping, port_scan, dns_lookup, with connectivity_tests, port_scans
    bandwidth      network_scans of bandwidth, with bandwidth_tests
    traceroutes    network_scans of traceroute (the hops are in the scan's summary)
    executions     finished executions (never one still planned, waiting or running), with their
                   steps' outputs, approvals, queue rows and locks (ON DELETE CASCADE)
    schedule_runs  schedule_runs by tick (a tick is claimed by moving `next_run_at` first, so a
                   deleted run row never lets an old tick run again)

Every DELETE removes at most `batch` rows (children before their scans, so a cascade stays
small) in its own transaction, so a big table is never locked for long. On PostgreSQL the rows
are chosen `FOR UPDATE SKIP LOCKED`: two pruners at once (two replicas, or the job and
`opsconductor history prune`) each delete rows the other has not taken, neither waits on the
other, and the counts they report add up to what was removed. On SQLite writers take turns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, Select, delete, func, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from db.engine import begin_immediate, rowcount, store_errors
from db.models import (
    BandwidthTest,
    ConnectivityTest,
    Execution,
    ExecutionStep,
    MaintenanceRun,
    NetworkScan,
    PortScanResult,
    ScheduleRun,
)
from db.types import utcnow

RetainedKind = Literal["measurements", "bandwidth", "traceroutes", "executions", "schedule_runs"]
RETAINED_KINDS: tuple[RetainedKind, ...] = get_args(RetainedKind)
SCAN_KINDS: dict[str, tuple[str, ...]] = {
    "measurements": ("ping", "port_scan", "dns_lookup"),
    "bandwidth": ("bandwidth",),
    "traceroutes": ("traceroute",),
}
FINISHED = ("succeeded", "failed", "rejected", "expired", "refused", "answered")
_SCAN_CHILDREN = (ConnectivityTest, PortScanResult, BandwidthTest)
SCANS_PER_ROUND = 100  # scans whose children are deleted (in batches) before the scans themselves

Removed = dict[str, int]  # table -> rows
Key = ColumnElement[Any] | InstrumentedAttribute[Any]
_PLAIN = {"synchronize_session": False}  # bulk DELETEs: no ORM objects to keep in step


class SqlRetention:
    """Prunes old rows of one kind at a time; safe to run from several processes at once."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], batch: int = 1000) -> None:
        self._sessions = sessions
        self.batch = batch

    async def prune(self, kind: RetainedKind, before: datetime, *, dry_run: bool = False) -> Removed:
        """Delete (or, with dry_run, count) the rows of `kind` older than `before`, per table."""
        if kind in SCAN_KINDS:
            scans = (NetworkScan.kind.in_(SCAN_KINDS[kind]), NetworkScan.started_at < before)
            return await (self._count_scans(scans) if dry_run else self._prune_scans(scans))
        if kind == "executions":
            old = (Execution.status.in_(FINISHED), Execution.created_at < before)
            return await (self._count_executions(old) if dry_run else self._prune_executions(old))
        runs = (ScheduleRun.tick_at < before,)
        if dry_run:
            counted = select(func.count()).select_from(ScheduleRun).where(*runs)
            return {"schedule_runs": await self._count(counted)}
        key = tuple_(ScheduleRun.schedule_id, ScheduleRun.tick_at)
        chosen = select(ScheduleRun.schedule_id, ScheduleRun.tick_at).where(*runs)
        return {"schedule_runs": await self._delete_batches(ScheduleRun, key, chosen)}

    # ------------------------------------------------------------------ the tick claim

    async def claim(self, job: str, tick: datetime, by: str) -> bool:
        """True for exactly one caller per (job, tick), across every process on the database."""
        try:
            async with store_errors(), self._sessions() as session, session.begin():
                session.add(MaintenanceRun(job=job, tick_at=tick, claimed_by=by))
        except IntegrityError:  # someone else holds this tick
            return False
        return True

    async def finish(self, job: str, tick: datetime, result: dict[str, Any]) -> None:
        async with store_errors(), self._sessions() as session, session.begin():
            await session.execute(
                update(MaintenanceRun)
                .where(MaintenanceRun.job == job, MaintenanceRun.tick_at == tick)
                .values(finished_at=utcnow(), result=result)
            )

    # ------------------------------------------------------------------ network scans

    async def _prune_scans(self, scans: Sequence[ColumnElement[bool]]) -> Removed:
        removed: Counter[str] = Counter()
        while True:
            async with store_errors(), self._sessions() as session:
                ids = list(
                    await session.scalars(
                        select(NetworkScan.id)
                        .where(*scans)
                        .order_by(NetworkScan.started_at)
                        .limit(SCANS_PER_ROUND)
                    )
                )
            if not ids:
                break
            for child in _SCAN_CHILDREN:
                chosen = select(child.id).where(child.scan_id.in_(ids))
                removed[child.__tablename__] += await self._delete_batches(child, child.id, chosen)
            these = select(NetworkScan.id).where(NetworkScan.id.in_(ids))
            gone = await self._delete_batches(NetworkScan, NetworkScan.id, these)
            removed["network_scans"] += gone
            if gone == 0:  # another pruner holds these scans right now: it removes them
                break
        return dict(removed)

    async def _count_scans(self, scans: Sequence[ColumnElement[bool]]) -> Removed:
        counted: Removed = {}
        for child in _SCAN_CHILDREN:
            query = select(func.count()).select_from(child).join(NetworkScan, child.scan_id == NetworkScan.id)
            counted[child.__tablename__] = await self._count(query.where(*scans))
        scan_count = select(func.count()).select_from(NetworkScan).where(*scans)
        counted["network_scans"] = await self._count(scan_count)
        return counted

    # ------------------------------------------------------------------ executions

    async def _prune_executions(self, old: Sequence[ColumnElement[bool]]) -> Removed:
        removed: Counter[str] = Counter()
        while True:
            async with store_errors(), self._sessions() as session, session.begin():
                await begin_immediate(session)
                chosen = select(Execution.id).where(*old).limit(self.batch).with_for_update(skip_locked=True)
                ids = list(await session.scalars(chosen))
                if ids:
                    steps = select(func.count()).where(ExecutionStep.execution_id.in_(ids))
                    removed["execution_steps"] += int((await session.execute(steps)).scalar_one())
                    gone = delete(Execution).where(Execution.id.in_(ids))
                    result = await session.execute(gone, execution_options=_PLAIN)
                    removed["executions"] += rowcount(result)
            if len(ids) < self.batch:
                return {"executions": removed["executions"], "execution_steps": removed["execution_steps"]}

    async def _count_executions(self, old: Sequence[ColumnElement[bool]]) -> Removed:
        steps = select(func.count()).select_from(ExecutionStep).join(Execution).where(*old)
        return {
            "executions": await self._count(select(func.count()).select_from(Execution).where(*old)),
            "execution_steps": await self._count(steps),
        }

    # ------------------------------------------------------------------ batches

    async def _delete_batches(self, table: type[Any], key: Key, chosen: Select[Any]) -> int:
        """DELETE FROM table WHERE key IN (chosen LIMIT batch [FOR UPDATE SKIP LOCKED]) to a short batch."""
        total = 0
        while True:
            batch = chosen.limit(self.batch).with_for_update(skip_locked=True)
            async with store_errors(), self._sessions() as session, session.begin():
                await begin_immediate(session)
                result = await session.execute(delete(table).where(key.in_(batch)), execution_options=_PLAIN)
                deleted = rowcount(result)
            total += deleted
            if deleted < self.batch:
                return total

    async def _count(self, query: Select[Any]) -> int:
        async with store_errors(), self._sessions() as session:
            return int((await session.execute(query)).scalar_one())
