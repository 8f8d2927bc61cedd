"""Hole 6: tampering with the audit chain is caught without trusting the database.

Each attack is made with SQL on the real SQLite file and the real PostgreSQL database, by
someone who holds the database but not the audit key nor the head file: delete the tail and
move the head row, empty both tables, rewrite a record and recompute the chain, rewrite the
whole chain as unkeyed. Keyed hashes (HMAC) and the head file outside the database catch each.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.audit import GENESIS, SqlAuditLog, chain_hash
from db.audit_anchor import AuditKey, AuditKeyError, Head, HeadFile, load_heads, parse_heads, read_key_file
from db.models import AuditChainHead, AuditRecord

Sessions = async_sessionmaker[AsyncSession]
KEY = AuditKey(b"k" * 32)


@pytest.fixture
def head_file(tmp_path: Path) -> HeadFile:
    return HeadFile(tmp_path / "audit.head")


@pytest.fixture
async def keyed(sessions: Sessions, head_file: HeadFile) -> SqlAuditLog:
    log = SqlAuditLog(sessions, key=KEY, anchor=head_file)
    for i in range(5):
        await log.record(f"event.{i}", actor="alice", chat="slack:C1", detail={"i": i})
    return log


async def _rows(sessions: Sessions) -> list[AuditRecord]:
    async with sessions() as session:
        return list(await session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))


async def _recompute_from(sessions: Sessions, start: int, key: AuditKey | None) -> None:
    """What an attacker with the database does after editing record `start`: rehash every record
    from there on (with `key`: a guessed key; None: plain sha256) and move the head row."""
    rows = await _rows(sessions)
    prev = rows[start - 2].hash if start > 1 else GENESIS
    async with sessions.begin() as session:
        for row in rows[start - 1 :]:
            digest = chain_hash(
                row.seq, row.at, row.actor, row.event, row.execution_id, row.chat, row.detail, prev, key
            )
            await session.execute(
                update(AuditRecord).where(AuditRecord.seq == row.seq).values(prev_hash=prev, hash=digest)
            )
            prev = digest
        await session.execute(update(AuditChainHead).values(hash=prev))


async def test_every_append_writes_the_head_file_private(
    keyed: SqlAuditLog, sessions: Sessions, head_file: HeadFile
) -> None:
    rows = await _rows(sessions)
    assert [(h.seq, h.hash) for h in head_file.heads()] == [(r.seq, r.hash) for r in rows]
    assert stat.S_IMODE(head_file.path.stat().st_mode) == 0o600
    assert all(
        r.hash != chain_hash(r.seq, r.at, r.actor, r.event, None, r.chat, r.detail, r.prev_hash) for r in rows
    )
    report = await keyed.verify(head_file.heads())
    assert (report.ok, report.records, report.anchored) == (True, 5, 5)


async def test_deleting_the_tail_and_moving_the_head_row_is_caught_by_the_head(
    keyed: SqlAuditLog, sessions: Sessions, head_file: HeadFile
) -> None:
    rows = await _rows(sessions)
    exported = Head(5, rows[4].hash, "exported")
    async with sessions.begin() as session:
        await session.execute(delete(AuditRecord).where(AuditRecord.seq >= 4))
        await session.execute(update(AuditChainHead).values(seq=3, hash=rows[2].hash))
    for heads in (head_file.heads(), [exported]):
        report = await keyed.verify(heads)
        assert (report.ok, report.records, report.first_bad_seq) == (False, 3, 4)
        assert "the chain ends at record 3" in report.reason and "records 4..5 were deleted" in report.reason


async def test_deleting_the_whole_table_is_not_intact_against_a_known_head(
    keyed: SqlAuditLog, sessions: Sessions, head_file: HeadFile
) -> None:
    async with sessions.begin() as session:
        await session.execute(delete(AuditRecord))
        await session.execute(delete(AuditChainHead))
    report = await keyed.verify(head_file.heads())
    assert (report.ok, report.records, report.first_bad_seq) == (False, 0, 1)
    assert "the audit log is empty" in report.reason and "names record 5" in report.reason


@pytest.mark.parametrize("attacker_key", [None, AuditKey(b"g" * 32)], ids=["sha256", "guessed-key"])
async def test_a_rewritten_record_with_the_chain_recomputed_without_the_key_is_caught(
    keyed: SqlAuditLog, sessions: Sessions, attacker_key: AuditKey | None
) -> None:
    async with sessions.begin() as session:
        await session.execute(update(AuditRecord).where(AuditRecord.seq == 3).values(actor="mallory"))
    await _recompute_from(sessions, 3, attacker_key)
    report = await keyed.verify()  # even with no exported head
    assert (report.ok, report.first_bad_seq, report.records) == (False, 3, 2)
    assert "record 3 was" in report.reason
    if attacker_key is None:
        assert "without the audit key" in report.reason


async def test_the_whole_chain_rewritten_unkeyed_is_caught(keyed: SqlAuditLog, sessions: Sessions) -> None:
    await _recompute_from(sessions, 1, None)  # a downgrade: every record plain sha256
    report = await keyed.verify()
    assert (report.ok, report.first_bad_seq) == (False, 1)
    assert "without the audit key" in report.reason


async def test_a_rewritten_chain_matching_the_db_head_differs_from_the_exported_head(
    keyed: SqlAuditLog, sessions: Sessions, head_file: HeadFile
) -> None:
    """Someone with the key (a stolen key file) rebuilds a consistent chain: the exported head
    taken before still tells."""
    async with sessions.begin() as session:
        await session.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(actor="mallory"))
    await _recompute_from(sessions, 2, KEY)
    assert (await keyed.verify()).ok  # the database alone cannot tell
    report = await keyed.verify(head_file.heads())
    assert (report.ok, report.first_bad_seq) == (False, 2)
    assert "does not match the head in" in report.reason and "rewritten" in report.reason


async def test_records_from_before_the_key_stay_verifiable_and_covered(
    sessions: Sessions, head_file: HeadFile
) -> None:
    old = SqlAuditLog(sessions)  # written before keyed hashes existed
    for i in range(3):
        await old.record("old", actor="a", detail={"i": i})
    last, unkeyed = await old.chain_end()
    assert (last, unkeyed) == (3, True)
    key = AuditKey(b"k" * 32, unkeyed_through=last)
    log = SqlAuditLog(sessions, key=key, anchor=head_file)
    await log.record("new", actor="a")
    assert await log.chain_end() == (4, False)
    assert (await log.verify(head_file.heads())).ok
    async with sessions.begin() as session:  # rewrite an old record and recompute the old part
        await session.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(actor="mallory"))
    rows = await _rows(sessions)
    prev = rows[0].hash
    async with sessions.begin() as session:
        for row in rows[1:3]:
            digest = chain_hash(row.seq, row.at, row.actor, row.event, None, row.chat, row.detail, prev)
            await session.execute(
                update(AuditRecord).where(AuditRecord.seq == row.seq).values(prev_hash=prev, hash=digest)
            )
            prev = digest
    report = await log.verify()
    assert (report.ok, report.first_bad_seq) == (False, 4)  # the first keyed record covers them


async def test_two_heads_naming_different_hashes_for_one_record_fail(keyed: SqlAuditLog) -> None:
    report = await keyed.verify([Head(2, "a" * 64, "one"), Head(2, "b" * 64, "two")])
    assert not report.ok and "name different hashes for record 2" in report.reason


def test_heads_parse_from_values_files_and_remote_logs(tmp_path: Path) -> None:
    digest = "ab" * 32
    assert load_heads(f"7:{digest}") == [Head(7, digest, "--head")]
    log = tmp_path / "remote.log"
    log.write_text(f"# anchors\nDec  4 17:00:01 host opsconductor-audit: 7:{digest}\n\n9:{'cd' * 32} x\n")
    assert [(h.seq, h.source) for h in load_heads(str(log))] == [(7, f"{log}:2"), (9, f"{log}:4")]
    with pytest.raises(ValueError, match=r"bad\.log:1: not an audit head"):
        bad = tmp_path / "bad.log"
        bad.write_text("hello\n")
        load_heads(str(bad))
    with pytest.raises(ValueError, match="neither SEQ:HASH nor a readable file"):
        load_heads(str(tmp_path / "missing"))
    assert parse_heads("", "x") == []


def test_key_file_round_trips_with_its_unkeyed_count(tmp_path: Path) -> None:
    key = AuditKey(b"z" * 32, unkeyed_through=17)
    path = tmp_path / "audit.key"
    path.write_text(key.file_text())
    assert read_key_file(path) == key
    path.write_text("not base64!\n")
    with pytest.raises(AuditKeyError, match="is not valid base64"):
        read_key_file(path)
