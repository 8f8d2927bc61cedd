"""Driver failures leave the db package as StoreUnavailable with a one-line message."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from db.audit import SqlAuditLog
from db.engine import create_engine, session_factory, sqlite_path, store_errors
from db.executions import SqlExecutionStore
from db.migrate import current_revision, upgrade
from pipeline.errors import StoreUnavailable


def _one_line(err: pytest.ExceptionInfo[StoreUnavailable]) -> str:
    message = str(err.value)
    assert "\n" not in message
    return message


def _make_read_only(directory: Path, path: Path) -> str:
    if os.geteuid() == 0:  # root ignores file modes: ask SQLite to open it read-only instead
        return f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true"
    for file in directory.iterdir():
        file.chmod(0o444)
    directory.chmod(0o555)
    return f"sqlite+aiosqlite:///{path}"


async def test_read_only_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    await upgrade(f"sqlite+aiosqlite:///{path}")
    engine = create_engine(_make_read_only(tmp_path, path))
    try:
        audit = SqlAuditLog(session_factory(engine))
        with pytest.raises(StoreUnavailable) as err:
            await audit.record("x", actor="a")
        # As root the file is opened read-only by request; otherwise SQLite may refuse to open
        # a WAL file in a read-only directory at all. Either way: one line, store unavailable.
        assert "read-only" in _one_line(err) or "cannot be opened" in str(err.value)
    finally:
        await engine.dispose()
        os.chmod(tmp_path, 0o755)


async def test_corrupt_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"this is not a database " * 400)
    url = f"sqlite+aiosqlite:///{path}"
    with pytest.raises(StoreUnavailable) as err:
        await upgrade(url)
    assert "corrupt" in _one_line(err)
    engine = create_engine(url)
    try:
        with pytest.raises(StoreUnavailable, match="corrupt"):
            await SqlExecutionStore(session_factory(engine)).load("x")
        with pytest.raises(StoreUnavailable, match="not a database"):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_unreachable_postgres_server() -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/opsconductor"
    with pytest.raises(StoreUnavailable) as err:
        await current_revision(url)
    assert "unreachable" in _one_line(err)
    engine = create_engine(url)
    try:
        store = SqlExecutionStore(session_factory(engine))
        with pytest.raises(StoreUnavailable, match="unreachable"):
            await store.decide_approval("x", True, "bob", datetime.now(UTC))
    finally:
        await engine.dispose()


async def test_integrity_errors_are_not_availability_errors() -> None:
    with pytest.raises(ValueError, match="boom"):
        async with store_errors():
            raise ValueError("boom")


def test_sqlite_path() -> None:
    assert sqlite_path("sqlite+aiosqlite:////var/x.db") == Path("/var/x.db")
    assert sqlite_path("sqlite+aiosqlite:///file:/var/x.db?mode=ro&uri=true") == Path("/var/x.db")
    assert sqlite_path("sqlite+aiosqlite://") is None
    assert sqlite_path("postgresql+asyncpg://h/db") is None


async def test_missing_postgres_database(postgres_url: str) -> None:
    url = make_url(postgres_url).set(database="opsconductor_no_such_database")
    with pytest.raises(StoreUnavailable) as err:
        await current_revision(url)
    assert "does not exist" in _one_line(err)
