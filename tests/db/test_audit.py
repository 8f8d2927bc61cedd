"""SqlAuditLog: gapless hash chain under concurrency, redaction, and tamper detection."""

from __future__ import annotations

import asyncio
import itertools
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.audit import GENESIS, SqlAuditLog, chain_hash
from db.models import AuditChainHead, AuditRecord
from pipeline.errors import StoreUnavailable

Sessions = async_sessionmaker[AsyncSession]
ROOT = Path(__file__).resolve().parents[2]


def _mask_passwords(detail: dict[str, Any]) -> dict[str, Any]:
    return {k: "[REDACTED]" if "password" in k else v for k, v in detail.items()}


@pytest.fixture
async def filled(sessions: Sessions) -> SqlAuditLog:
    log = SqlAuditLog(sessions)
    for i in range(5):
        await log.record(f"event.{i}", actor="alice", execution_id="e" * 32, chat="slack:C1", detail={"i": i})
    return log


async def _rows(sessions: Sessions) -> list[AuditRecord]:
    async with sessions() as session:
        return list(await session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))


async def test_chain_links_and_verifies(filled: SqlAuditLog, sessions: Sessions) -> None:
    rows = await _rows(sessions)
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert await filled.head() == (5, rows[-1].hash)
    report = await filled.verify()
    assert (report.ok, report.records, report.first_bad_seq) == (True, 5, None)
    entries = await filled.entries(limit=2)
    assert [e.event for e in entries] == ["event.3", "event.4"]
    assert entries[0].at.tzinfo is not None


async def test_empty_log_verifies(sessions: Sessions) -> None:
    report = await SqlAuditLog(sessions).verify()
    assert (report.ok, report.records) == (True, 0)


async def test_detail_is_redacted_before_hashing_and_storing(sessions: Sessions) -> None:
    log = SqlAuditLog(sessions, redact=_mask_passwords)
    await log.record("login", actor="bob", detail={"user": "bob", "db_password": "hunter2"})
    (row,) = await _rows(sessions)
    assert row.detail == {"user": "bob", "db_password": "[REDACTED]"}
    assert (await log.verify()).ok


async def test_awkward_detail_values_survive_the_round_trip(sessions: Sessions) -> None:
    log = SqlAuditLog(sessions)
    detail = {
        "float": 0.1,
        "whole": 2.0,
        "big": 1e20,
        "tiny": 1.5e-7,
        "nan": float("nan"),
        "tuple": (1, "a"),
        "when": datetime(2026, 1, 1, tzinfo=UTC),
        "unicode": "grüße ✓",
        "nested": {"b": [None, True], "a": {}},
    }
    await log.record("odd", actor="x", detail=detail)
    assert (await log.verify()).ok


async def test_concurrent_appends_are_gapless(sessions: Sessions) -> None:
    logs = [SqlAuditLog(sessions) for _ in range(4)]
    await asyncio.gather(*(logs[i % 4].record("e", actor=f"a{i}", detail={"i": i}) for i in range(40)))
    assert [r.seq for r in await _rows(sessions)] == list(range(1, 41))
    assert (await logs[0].verify()).records == 40


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from db.engine import create_engine, session_factory
    from db.audit import SqlAuditLog

    async def main(url, n):
        engine = create_engine(url)
        log = SqlAuditLog(session_factory(engine))
        await asyncio.gather(*(log.record("proc", actor=str(i)) for i in range(n)))
        await engine.dispose()

    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
    """
)


async def test_appends_from_several_processes_stay_linear(sessions: Sessions, migrated_url: str) -> None:
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", WRITER, migrated_url, "15", stderr=asyncio.subprocess.PIPE, cwd=ROOT
        )
        for _ in range(3)
    ]
    errors = [(await proc.communicate())[1].decode() for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], errors
    report = await SqlAuditLog(sessions).verify()
    assert (report.ok, report.records) == (True, 45), report


async def test_altered_record_is_detected(filled: SqlAuditLog, sessions: Sessions) -> None:
    async with sessions.begin() as session:
        await session.execute(update(AuditRecord).where(AuditRecord.seq == 3).values(actor="mallory"))
    report = await filled.verify()
    assert (report.ok, report.first_bad_seq, report.records) == (False, 3, 2)
    assert "altered" in report.reason


async def test_deleted_record_in_the_middle_is_detected(filled: SqlAuditLog, sessions: Sessions) -> None:
    async with sessions.begin() as session:
        await session.execute(delete(AuditRecord).where(AuditRecord.seq == 3))
    report = await filled.verify()
    assert (report.ok, report.first_bad_seq) == (False, 3)
    assert "missing" in report.reason


async def test_deleted_records_at_the_end_are_detected(filled: SqlAuditLog, sessions: Sessions) -> None:
    async with sessions.begin() as session:
        await session.execute(delete(AuditRecord).where(AuditRecord.seq >= 4))
    report = await filled.verify()
    assert (report.ok, report.first_bad_seq, report.records) == (False, 4, 3)
    assert "deleted" in report.reason


async def test_replaced_record_with_valid_hash_breaks_the_next_link(
    filled: SqlAuditLog, sessions: Sessions
) -> None:
    rows = await _rows(sessions)
    forged = rows[2]
    new_hash = chain_hash(3, forged.at, "mallory", forged.event, None, "", {}, forged.prev_hash)
    async with sessions.begin() as session:
        await session.execute(
            update(AuditRecord)
            .where(AuditRecord.seq == 3)
            .values(actor="mallory", execution_id=None, chat="", detail={}, hash=new_hash)
        )
    report = await filled.verify()
    assert (report.ok, report.first_bad_seq) == (False, 4)
    assert "does not link" in report.reason


async def test_record_appended_behind_the_heads_back_is_detected(
    filled: SqlAuditLog, sessions: Sessions
) -> None:
    rows = await _rows(sessions)
    at = datetime.now(UTC)
    forged_hash = chain_hash(6, at, "mallory", "x", None, "", {}, rows[-1].hash)
    async with sessions.begin() as session:
        session.add(
            AuditRecord(
                seq=6,
                at=at,
                actor="mallory",
                event="x",
                chat="",
                detail={},
                prev_hash=rows[-1].hash,
                hash=forged_hash,
            )
        )
    report = await filled.verify()
    assert (report.ok, report.first_bad_seq) == (False, 6)
    assert "inserted" in report.reason


async def test_missing_head_with_records_refuses_to_append(filled: SqlAuditLog, sessions: Sessions) -> None:
    async with sessions.begin() as session:
        await session.execute(delete(AuditChainHead))
    assert not (await filled.verify()).ok
    with pytest.raises(StoreUnavailable, match="chain head"):
        await filled.record("after", actor="x")
    async with sessions.begin() as session:
        await session.execute(text("DELETE FROM audit_log"))
    await filled.record("fresh", actor="x")
    assert (await filled.verify()).records == 1
