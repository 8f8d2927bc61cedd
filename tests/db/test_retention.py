"""Retention on SQLite and PostgreSQL: old results pruned in batches, recent ones and the audit trail
kept, a dry run removes nothing, two pruners at once neither double-count nor deadlock, and the
pruning job runs once per period across replicas."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.retention import JOB, Pruned, RetentionJob, prune, report
from bot.scheduling import TickLoop
from bot.settings import RetentionSettings
from db.audit import SqlAuditLog
from db.engine import create_engine, session_factory
from db.models import (
    Approval,
    AuditRecord,
    BandwidthTest,
    ConnectivityTest,
    Execution,
    ExecutionStep,
    MaintenanceRun,
    NetworkScan,
    PortScanResult,
    ScheduleRow,
    ScheduleRun,
)
from db.retention import SqlRetention

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=200)  # older than every default retention
RECENT = NOW - timedelta(days=3)
SECTION = RetentionSettings()  # 90 days for results, 180 for executions


@dataclass
class Seeded:
    """How many rows of each table were seeded old (to go) and recent (to stay)."""

    old: dict[str, int]
    recent: dict[str, int]


async def seed_scan(session: AsyncSession, kind: str, at: datetime, rows: int) -> None:
    scan = NetworkScan(kind=kind, status="completed", started_at=at)
    session.add(scan)
    await session.flush()
    for n in range(rows):
        if kind == "ping":
            session.add(ConnectivityTest(scan_id=scan.id, target=f"h{n}", sent=1, received=1, at=at))
        elif kind == "port_scan":
            session.add(PortScanResult(scan_id=scan.id, target="h", port=n + 1, state="open", at=at))
        elif kind == "bandwidth":
            session.add(
                BandwidthTest(
                    scan_id=scan.id,
                    source="a",
                    target=f"b{n}",
                    method="ssh",
                    bytes=1,
                    seconds=1,
                    mbps=8,
                    at=at,
                )
            )


async def seed_execution(session: AsyncSession, at: datetime, status: str, steps: int) -> None:
    run = Execution(
        request="ping", platform="console", user_id="u", principal="u", status=status, created_at=at
    )
    session.add(run)
    await session.flush()
    for n in range(steps):
        session.add(
            ExecutionStep(
                execution_id=run.id, step_id=f"s{n}", tool="network.ping", idempotency_key=f"{run.id}:s{n}"
            )
        )
    session.add(
        Approval(execution_id=run.id, state="approved", requester="u", expires_at=at + timedelta(hours=1))
    )


async def seed(sessions: Sessions, copies: int = 1) -> Seeded:
    """Each kind of stored result, old and recent; `copies` times over (for batches)."""
    async with sessions() as session, session.begin():
        session.add(ScheduleRow(**SCHEDULE_FIELDS))
        for _ in range(copies):
            for at in (OLD, RECENT):
                await seed_scan(session, "ping", at, 3)
                await seed_scan(session, "port_scan", at, 4)
                await seed_scan(session, "dns_lookup", at, 0)
                await seed_scan(session, "bandwidth", at, 2)
                await seed_scan(session, "traceroute", at, 0)
                await seed_execution(session, at, "succeeded", 2)
        await seed_execution(session, OLD, "running", 1)  # never pruned, however old: it is not over
        for n in range(copies * 5):
            for at in (OLD, RECENT):
                session.add(
                    ScheduleRun(schedule_id="sched1", tick_at=at + timedelta(minutes=n), claimed_by="r")
                )
    per_copy = {
        "connectivity_tests": 3,
        "port_scans": 4,
        "bandwidth_tests": 2,
        "network_scans": 5,
        "executions": 1,
        "execution_steps": 2,
        "approvals": 1,
        "schedule_runs": 5,
    }
    old = {table: n * copies for table, n in per_copy.items()}
    recent = dict(old)
    recent.update(executions=copies + 1, execution_steps=2 * copies + 1, approvals=copies + 1)
    return Seeded(old=old, recent=recent)


SCHEDULE_FIELDS = {
    "id": "sched1",
    "number": 1,
    "name": "watch",
    "text": "ping db-01",
    "owner": "olga",
    "next_run_at": NOW,
}
TABLES = {
    "connectivity_tests": ConnectivityTest,
    "port_scans": PortScanResult,
    "bandwidth_tests": BandwidthTest,
    "network_scans": NetworkScan,
    "executions": Execution,
    "execution_steps": ExecutionStep,
    "approvals": Approval,
    "schedule_runs": ScheduleRun,
    "audit_log": AuditRecord,
}


async def counts(sessions: Sessions) -> dict[str, int]:
    async with sessions() as session:
        return {
            name: int((await session.execute(select(func.count()).select_from(model))).scalar_one())
            for name, model in TABLES.items()
        }


def totals(pruned: Sequence[Pruned]) -> dict[str, int]:
    """table -> rows, summed over the kinds of one or more prune runs."""
    summed: dict[str, int] = {}
    for part in pruned:
        for table, rows in part.removed.items():
            summed[table] = summed.get(table, 0) + rows
    return summed


async def audited(sessions: Sessions) -> SqlAuditLog:
    log = SqlAuditLog(sessions)
    for n in range(3):
        await log.record("request.received", actor="olga", detail={"n": n})
    return log


async def test_old_results_go_recent_ones_and_the_audit_trail_stay(sessions: Sessions) -> None:
    seeded = await seed(sessions)
    log = await audited(sessions)
    before = await counts(sessions)

    pruned = await prune(SqlRetention(sessions), SECTION, NOW)

    after = await counts(sessions)
    removed = totals(pruned)
    for table, old in seeded.old.items():
        if table == "approvals":  # cascaded with their executions, not counted apart
            continue
        assert removed[table] == old, table
    for table in seeded.old:
        assert after[table] == before[table] - seeded.old[table], table
        assert after[table] == seeded.recent[table], table
    assert after["audit_log"] == before["audit_log"] == 3
    assert (await log.verify()).ok
    async with sessions() as session:  # what stayed is the recent data and the unfinished run
        assert set(await session.scalars(select(NetworkScan.started_at))) == {RECENT}
        statuses = set(await session.scalars(select(Execution.status).where(Execution.created_at == OLD)))
        assert statuses == {"running"}
    # nothing older is left: a second run finds nothing
    assert sum(totals(await prune(SqlRetention(sessions), SECTION, NOW)).values()) == 0


async def test_a_dry_run_counts_exactly_what_a_run_removes_and_removes_nothing(sessions: Sessions) -> None:
    await seed(sessions)
    before = await counts(sessions)

    counted = await prune(SqlRetention(sessions), SECTION, NOW, dry_run=True)

    assert await counts(sessions) == before
    lines = report(counted, SECTION, dry_run=True)
    assert any(
        line.startswith("measurements") and "would remove 3 connectivity_tests" in line for line in lines
    )
    assert lines[-1].startswith("audit_log") and "never pruned" in lines[-1]
    assert totals(counted) == totals(await prune(SqlRetention(sessions), SECTION, NOW))


async def test_deletes_go_in_bounded_batches_until_nothing_old_is_left(sessions: Sessions) -> None:
    seeded = await seed(sessions, copies=12)
    pruned = await prune(SqlRetention(sessions, batch=10), SECTION, NOW)  # 60 schedule runs: 7 batches
    removed = totals(pruned)
    assert removed["schedule_runs"] == seeded.old["schedule_runs"] == 60
    assert removed["network_scans"] == 60 and removed["executions"] == 12
    assert (await counts(sessions))["schedule_runs"] == seeded.recent["schedule_runs"]


async def test_a_kind_kept_forever_is_not_touched(sessions: Sessions) -> None:
    seeded = await seed(sessions)
    section = RetentionSettings(executions_days=0, traceroutes_days=0)
    pruned = await prune(SqlRetention(sessions), section, NOW)
    assert {p.kind for p in pruned} == {"measurements", "bandwidth", "schedule_runs"}
    left = await counts(sessions)
    assert left["executions"] == seeded.old["executions"] + seeded.recent["executions"]
    # of the 10 scans, the old ping, port_scan, dns_lookup and bandwidth went; the old traceroute stayed
    assert left["network_scans"] == 2 * 5 - 4
    assert any(
        "kept forever (retention.executions_days = 0)" in line
        for line in report(pruned, section, dry_run=False)
    )


@pytest.fixture
async def second_engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    """Another replica's connection pool on the same database."""
    engine = create_engine(migrated_url)
    yield engine
    await engine.dispose()


async def test_two_pruners_at_once_remove_each_row_once_without_deadlock(
    sessions: Sessions, second_engine: AsyncEngine
) -> None:
    seeded = await seed(sessions, copies=15)
    replicas = [SqlRetention(sessions, batch=7), SqlRetention(session_factory(second_engine), batch=7)]

    runs = await asyncio.wait_for(
        asyncio.gather(*(prune(store, SECTION, NOW) for store in replicas * 2)), timeout=120
    )

    removed = totals([part for run in runs for part in run])
    for table, old in seeded.old.items():
        if table != "approvals":
            assert removed[table] == old, (table, removed)
    assert await counts(sessions) == {**seeded.recent, "audit_log": 0}


async def test_the_job_runs_once_per_period_across_replicas_and_is_audited(
    sessions: Sessions, second_engine: AsyncEngine
) -> None:
    await seed(sessions)
    clock = Clock(NOW)
    logs = [SqlAuditLog(sessions), SqlAuditLog(session_factory(second_engine))]
    jobs = [
        RetentionJob(SqlRetention(sessions), SECTION, logs[0], "replica-1", clock),
        RetentionJob(SqlRetention(session_factory(second_engine)), SECTION, logs[1], "replica-2", clock),
    ]
    day = datetime(2026, 12, 4, tzinfo=UTC)

    won = await asyncio.gather(*(job.claim_due() for job in jobs))
    assert sorted(won, key=repr) == [None, day]  # one replica has today's tick
    assert [await job.claim_due() for job in jobs] == [None, None]  # looked at already: not tried again
    winner = jobs[won.index(day)]
    pruned = await winner.run(day)
    assert totals(pruned)["network_scans"] == 5

    clock.now = NOW + timedelta(days=1)  # the next period: claimed once more
    assert sorted(await asyncio.gather(*(job.claim_due() for job in jobs)), key=repr) == [
        None,
        day + timedelta(days=1),
    ]
    async with sessions() as session:
        runs = list(await session.scalars(select(MaintenanceRun).order_by(MaintenanceRun.tick_at)))
    assert [(r.job, r.tick_at) for r in runs] == [(JOB, day), (JOB, day + timedelta(days=1))]
    assert runs[0].finished_at is not None and runs[0].result is not None
    assert runs[0].result["measurements"]["connectivity_tests"] == 3
    entries = await logs[0].entries()
    assert [e.event for e in entries] == ["history.pruned"]
    assert entries[0].actor == "opsconductor:retention"
    assert (await logs[0].verify()).ok


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_retention_shorter_than_the_anomaly_baselines_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"retention\.measurements_days is 5: keep at least 8 days"):
        RetentionSettings(measurements_days=5)
    assert RetentionSettings(measurements_days=0, bandwidth_days=8).days()["measurements"] == 0


async def test_the_tick_loop_runs_the_job_it_won_without_any_schedules(sessions: Sessions) -> None:
    seeded = await seed(sessions)
    job = RetentionJob(SqlRetention(sessions), SECTION, SqlAuditLog(sessions), "replica-1", Clock(NOW))
    loop = TickLoop(None, {}, tick_s=1.0, max_running=1, jobs=[job])  # schedules.enabled = false

    assert await loop.once() == 1
    await asyncio.wait_for(asyncio.gather(*loop.running), timeout=60)
    assert await loop.once() == 0  # the period's tick is spent

    assert (await counts(sessions))["connectivity_tests"] == seeded.recent["connectivity_tests"]
