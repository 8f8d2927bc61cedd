"""Hole 6 through the real `opsconductor` command on SQLite and PostgreSQL: the chain's head is
exported (`audit head`, the head file), the database is attacked with SQL by someone without
the audit key, and `audit verify` exits 1 with one clear line; a lost key fails closed."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from db.audit import GENESIS, SqlAuditLog, chain_hash
from db.engine import create_engine, session_factory
from db.models import AuditRecord
from tests.security.serve import base_env, production, run_once
from tests.security.test_startup_files import one_error_line

pytestmark = pytest.mark.timeout(240)


@dataclass
class Store:
    """A bot home and its database (the SQLite file under it, or a fresh PostgreSQL database)."""

    home: Path
    url: str
    env: dict[str, str]

    def run(self, *args: str) -> tuple[int, str, str]:
        done = run_once(self.env, *args, timeout=120)
        return done.returncode, done.stdout.strip(), done.stderr

    def sql(self, *statements: str) -> None:
        asyncio.run(_execute(self.url, statements))

    def rehash_unkeyed(self) -> None:
        """Recompute every record's hash with plain sha256 and move the head row to match: all an
        attacker can do without the audit key."""
        asyncio.run(_rehash_unkeyed(self.url))


async def _execute(url: str, statements: tuple[str, ...]) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def _rehash_unkeyed(url: str) -> None:
    engine = create_engine(url)
    try:
        async with session_factory(engine).begin() as session:
            prev = GENESIS
            for row in (await session.execute(text("select seq from audit_log order by seq"))).scalars():
                record = await session.get(AuditRecord, row)
                assert record is not None
                record.prev_hash = prev
                record.hash = prev = chain_hash(
                    record.seq, record.at, record.actor, record.event, record.execution_id, record.chat,
                    record.detail, prev,
                )  # fmt: skip
            await session.execute(text("update audit_chain_head set hash = :h"), {"h": prev})
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    home = tmp_path / "home"
    if request.param == "sqlite":
        yield Store(home, f"sqlite+aiosqlite:///{home / 'opsconductor.db'}", base_env(home))
        return
    url = str(request.getfixturevalue("fresh_postgres_url"))
    env = base_env(home, db__url=url)
    done = run_once(env, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    yield Store(home, url, env)


def audited(store: Store) -> str:
    """Make some audit records with real requests; the exported head (`audit head`)."""
    for request in ("help", "help"):
        code, _, err = store.run("ask", request)
        assert code == 0, err
    code, head, err = store.run("audit", "head")
    assert code == 0, err
    return head


def broken(store: Store, *args: str) -> str:
    code, out, err = store.run("audit", "verify", *args)
    assert code == 1, out + err
    assert out.startswith("audit chain BROKEN at record ") and "intact" not in out, out
    assert "Traceback" not in err
    return out


def test_deleting_the_tail_and_moving_the_head_row_fails_verify(store: Store) -> None:
    head = audited(store)
    seq = int(head.split(":")[0])
    assert seq >= 4
    code, out, _ = store.run("audit", "verify", "--head", head)
    assert code == 0 and f"intact: {seq} records" in out
    store.sql(
        f"delete from audit_log where seq > {seq - 2}",
        f"update audit_chain_head set seq = {seq - 2}, "
        f"hash = (select hash from audit_log where seq = {seq - 2})",
    )
    line = broken(store, "--head", head)
    assert f"the chain ends at record {seq - 2} but --head names record {seq}" in line
    assert f"records {seq - 1}..{seq} were deleted" in line
    assert "audit.head" in broken(store)  # the head file alone catches it too
    code, _, err = store.run("audit", "head")  # and the broken chain's head is not exported
    assert code == 1 and "its head is not exported" in one_error_line(err)


def test_deleting_the_whole_table_is_not_intact_against_an_exported_head(
    store: Store, tmp_path: Path
) -> None:
    remote = tmp_path / "remote.log"  # what `opsconductor audit head >> remote.log` from cron keeps
    remote.write_text(f"{audited(store)}\n")
    store.sql("delete from audit_log", "delete from audit_chain_head")
    (store.home / "audit.head").unlink()  # the attacker removes the local anchor as well
    code, out, _ = store.run("audit", "verify")
    assert code == 0 and "intact: 0 records" in out  # nothing left to tell, without the export
    line = broken(store, "--head", str(remote))
    assert "the audit log is empty but" in line and str(remote) in line


def test_a_record_rewritten_and_the_chain_recomputed_without_the_key_fails_verify(store: Store) -> None:
    audited(store)
    store.sql("update audit_log set actor = 'mallory' where seq = 1")
    store.rehash_unkeyed()
    (store.home / "audit.head").unlink()  # no exported head at all: the key alone tells
    line = broken(store)
    assert "record 1 was rewritten without the audit key" in line


def test_a_lost_audit_key_fails_closed_and_no_new_key_is_made(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = Store(home, "", base_env(home))
    assert store.run("ask", "help")[0] == 0
    key = store.home / "audit.key"
    key.unlink()
    code, _, err = store.run("ask", "help")
    assert code == 1
    line = one_error_line(err)
    assert f"the audit key file {key} is missing, but the database holds" in line
    assert "No new key was created" in line and not key.exists()


def test_production_keys_an_old_unkeyed_chain_only_when_told(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = production(home)
    url = f"sqlite+aiosqlite:///{home / 'opsconductor.db'}"
    assert run_once(env, "db", "upgrade").returncode == 0
    asyncio.run(_write_unkeyed(url, 3))  # as the bot wrote them before keyed hashes existed
    done = run_once(env, "ask", "help")
    assert done.returncode == 1
    line = one_error_line(done.stderr)
    assert "the 3 audit records predate keyed hashes" in line and "opsconductor audit init-key" in line
    assert not (home / "audit.key").exists()
    done = run_once(env, "audit", "init-key")
    assert done.returncode == 0, done.stderr
    assert "records 1..3 stay unkeyed" in done.stdout
    assert "unkeyed-through: 3" in (home / "audit.key").read_text()
    assert run_once(env, "ask", "help").returncode == 0
    done = run_once(env, "audit", "verify")
    assert done.returncode == 0 and "intact: " in done.stdout, done.stdout + done.stderr
    asyncio.run(_execute(url, ("update audit_log set actor = 'mallory' where seq = 2",)))
    asyncio.run(_rehash_unkeyed(url))  # the old records are covered by the first keyed one
    (home / "audit.head").unlink()
    done = run_once(env, "audit", "verify")
    assert done.returncode == 1 and "BROKEN at record 4" in done.stdout, done.stdout


async def _write_unkeyed(url: str, count: int) -> None:
    engine = create_engine(url)
    try:
        log = SqlAuditLog(session_factory(engine))
        for i in range(count):
            await log.record("request", actor="alice", detail={"i": i})
    finally:
        await engine.dispose()


def test_the_head_file_sits_beside_the_keys(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run_once(base_env(home), "ask", "help").returncode == 0
    elsewhere = tmp_path / "anchors" / "audit.head"
    elsewhere.parent.mkdir()
    env = base_env(home, security__audit_head_file=str(elsewhere))
    assert run_once(env, "ask", "help").returncode == 0
    assert elsewhere.read_text().count("\n") >= 1
    shutil.copy(elsewhere, tmp_path / "copy")
    done = run_once(env, "audit", "verify", "--head", str(tmp_path / "copy"))
    assert done.returncode == 0 and "intact" in done.stdout
