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
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine, store_errors
from pipeline.errors import SetupIncomplete

PACKAGE_DIR = Path(__file__).resolve().parent
MIGRATION_LOCK = 0x6F70_7363  # "opsc": the advisory lock key migrations hold on PostgreSQL


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
    """Migrate through an engine the caller already holds (the bot's own). On PostgreSQL an
    advisory lock lets one process migrate while others starting at the same time wait."""
    await _run(engine, revision, up=True)


async def require_head(engine: AsyncEngine) -> None:
    """SetupIncomplete, naming the fix, unless the database is at the revision this code needs."""
    async with store_errors(), engine.connect() as conn:
        current = await conn.run_sync(_current)
    head = head_revision()
    if current == head:
        return
    where = engine.url.render_as_string(hide_password=True)
    if current is None:
        state = "was never migrated (it has no tables yet)"
    elif ScriptDirectory.from_config(alembic_config()).get_revision(current) is None:
        raise SetupIncomplete(
            f"the database {where} is at revision {current}, which this version of OpsConductor "
            f"does not know (it needs {head}): it was migrated by a newer version; run that version"
        )
    else:
        state = f"is at revision {current}, older than the {head} this version needs"
    raise SetupIncomplete(
        f"the database {where} {state}: run `opsconductor db upgrade` "
        "(or set db.migrate_on_start to migrate when the bot starts)"
    )


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
        if conn.dialect.name == "postgresql":  # held until this connection commits
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        await conn.run_sync(run)
        await conn.commit()


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
