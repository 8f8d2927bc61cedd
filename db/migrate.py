"""Apply the Alembic migrations shipped in this package, from async code.

    await upgrade("sqlite+aiosqlite:///~/.opsconductor/opsconductor.db")
    await current_revision(url)  # "0001" once migrated, None on an empty database

Alembic itself is synchronous; it runs inside `AsyncConnection.run_sync`, so the
same code path serves SQLite (aiosqlite) and PostgreSQL (asyncpg).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine, store_errors

PACKAGE_DIR = Path(__file__).resolve().parent


def alembic_config() -> Config:
    """The shipped alembic.ini with its script location resolved inside the installed package."""
    config = Config(str(PACKAGE_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(PACKAGE_DIR / "migrations"))
    return config


def head_revision() -> str:
    """The newest revision the code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def upgrade(url: str | URL, revision: str = "head") -> None:
    """Migrate the database at `url` up to `revision` (idempotent)."""
    await _with_engine(url, lambda engine: _run(engine, revision, up=True))


async def downgrade(url: str | URL, revision: str) -> None:
    """Migrate down to `revision` ("base" drops everything)."""
    await _with_engine(url, lambda engine: _run(engine, revision, up=False))


async def current_revision(url: str | URL) -> str | None:
    """The revision stamped in the database, or None when it was never migrated."""
    engine = create_engine(url)
    try:
        async with store_errors(), engine.connect() as conn:
            return await conn.run_sync(_current)
    finally:
        await engine.dispose()


async def upgrade_engine(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate through an engine the caller already holds (the bot's own)."""
    await _run(engine, revision, up=True)


async def _with_engine(url: str | URL, action: Callable[[AsyncEngine], Awaitable[None]]) -> None:
    engine = create_engine(url)
    try:
        await action(engine)
    finally:
        await engine.dispose()


async def _run(engine: AsyncEngine, revision: str, *, up: bool) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        if up:
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)

    async with store_errors(), engine.connect() as conn:
        await conn.run_sync(run)
        await conn.commit()


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
