"""SqlFileStore on SQLite and PostgreSQL: a file kept by one process is copied to another's disk."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.localfiles import DirectoryFetchedFiles
from db.files import SqlFileStore
from db.models import Execution, StoredFile

Sessions = async_sessionmaker[AsyncSession]
DATA = bytes(range(256)) * 40  # binary, not text


async def test_a_kept_file_is_copied_to_the_disk_of_another_process(
    sessions: Sessions, make_execution: Callable[[], Awaitable[str]], tmp_path: Path
) -> None:
    execution_id = await make_execution()
    worker = SqlFileStore(sessions, DirectoryFetchedFiles(tmp_path / "worker").keep)
    replica = SqlFileStore(sessions, DirectoryFetchedFiles(tmp_path / "replica").keep)

    ref = await worker.keep(execution_id, "web-01", "/var/log/app/dump.bin", DATA)
    assert ref.startswith("stored-file:") and ref.endswith("/dump.bin")
    assert not (tmp_path / "worker").exists()  # kept in the database, not on the worker's disk

    path = await replica.local(ref)
    assert path is not None
    assert Path(path) == tmp_path / "replica" / execution_id / "web-01" / "dump.bin"
    assert on_disk(path) == (DATA, 0o600)


async def test_paths_pass_through_and_a_file_goes_with_its_execution(
    sessions: Sessions, make_execution: Callable[[], Awaitable[str]], tmp_path: Path
) -> None:
    store = SqlFileStore(sessions, DirectoryFetchedFiles(tmp_path).keep)
    assert await store.local("/home/bot/charts/latency.png") == "/home/bot/charts/latency.png"

    execution_id = await make_execution()
    ref = await store.keep(execution_id, "db-01", "/etc/hosts", b"127.0.0.1 localhost\n")
    async with sessions.begin() as session:
        await session.execute(delete(Execution).where(Execution.id == execution_id))
    async with sessions() as session:
        assert list(await session.scalars(select(StoredFile.id))) == []
    assert await store.local(ref) is None  # gone with its execution (retention): left out of the reply


async def test_a_file_from_outside_a_stored_execution_is_kept_too(sessions: Sessions, tmp_path: Path) -> None:
    store = SqlFileStore(sessions, DirectoryFetchedFiles(tmp_path).keep)
    ref = await store.keep("not-stored", "web-01", "/etc/motd", b"hello\n")
    path = await store.local(ref)
    assert path is not None and on_disk(path) == (b"hello\n", 0o600)


def on_disk(path: str) -> tuple[bytes, int]:
    """A local copy's content and permission bits."""
    return Path(path).read_bytes(), Path(path).stat().st_mode & 0o777
