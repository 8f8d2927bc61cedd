"""Engines and sessions for SQLite (embedded default) and PostgreSQL, with driver errors translated.

`create_engine(url)` tunes each backend: SQLite gets WAL, foreign keys, a busy
timeout and explicit BEGIN (so a transaction really starts at its first
statement; `begin_immediate(session)` makes it ``BEGIN IMMEDIATE``); PostgreSQL
gets a connection pool with pre-ping.

Errors that mean "the database cannot be used" (unreachable server, read-only or
corrupt file, disk full) leave this package as `StoreUnavailable` with a one-line
message; constraint violations stay `sqlalchemy.exc.IntegrityError`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.engine.interfaces import ExceptionContext
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from pipeline.errors import StoreCorrupt, StoreUnavailable

SQLITE_BUSY_TIMEOUT_MS = 10_000

_MESSAGES = (
    ("readonly database", "the database file is read-only"),
    ("file is not a database", "the database file is corrupt (not a database)"),
    ("database disk image is malformed", "the database file is corrupt (malformed)"),
    ("unable to open database file", "the database file cannot be opened"),
    ("database or disk is full", "the database disk is full"),
    ("database is locked", "the database is locked by another process"),
    ("connection refused", "the database server refused the connection"),
    ("connect call failed", "the database server is unreachable"),
    ("could not connect", "the database server is unreachable"),
    ("connection was closed", "the connection to the database server was lost"),
    ("connection is closed", "the connection to the database server was lost"),
    ("the database system is shutting down", "the database server is shutting down"),
    ("too many connections", "the database server has too many connections"),
    ("password authentication failed", "the database server rejected the credentials"),
)


def translate(err: BaseException) -> StoreUnavailable | None:
    """The StoreUnavailable meaning `err`, or None when it is not an availability problem."""
    if isinstance(err, StoreUnavailable):
        return err
    if isinstance(err, IntegrityError):
        return None
    original = err.orig if isinstance(err, DBAPIError) and err.orig is not None else err
    text = _first_line(original)
    for needle, message in _MESSAGES:
        if needle in text.lower():
            kind = StoreCorrupt if "corrupt" in message else StoreUnavailable
            return kind(f"{message}: {text}")
    if isinstance(err, OSError | ConnectionError | TimeoutError):
        return StoreUnavailable(f"the database server is unreachable: {text}")
    if isinstance(err, OperationalError | InterfaceError) or isinstance(original, sqlite3.OperationalError):
        return StoreUnavailable(f"the database is unavailable: {text}")
    if type(original).__module__.startswith("asyncpg") and "Connection" in type(original).__name__:
        return StoreUnavailable(f"the database connection failed: {text}")
    return None


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


@asynccontextmanager
async def store_errors() -> AsyncIterator[None]:
    """Re-raise availability failures inside the block as StoreUnavailable (one line)."""
    try:
        yield
    except StoreUnavailable:
        raise
    except Exception as err:
        translated = translate(err)
        if translated is None:
            raise
        raise translated from err


# A URL naming no driver gets the async one the bot ships with; a sync driver is refused in words.
ASYNC_DRIVERS = {"postgresql": "asyncpg", "sqlite": "aiosqlite"}


def async_url(url: str | URL) -> URL:
    """`url` with the async driver: postgresql:// (and postgres://) become postgresql+asyncpg://,
    sqlite:// becomes sqlite+aiosqlite://; ValueError naming the fix for a synchronous driver."""
    if isinstance(url, str) and url.startswith("postgres://"):  # the Heroku-style spelling
        url = "postgresql://" + url.removeprefix("postgres://")
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise ValueError(f"db.url is not a database URL: {err}") from None
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    wanted = ASYNC_DRIVERS.get(backend)
    if wanted is None or "+" not in parsed.drivername:
        return parsed.set(drivername=f"{backend}+{wanted}") if wanted else parsed
    if driver != wanted:
        raise ValueError(
            f"db.url names the driver {driver!r}, which is not asynchronous; write "
            f"{backend}+{wanted}://... (or {backend}://..., which uses {wanted})"
        )
    return parsed


def create_engine(url: str | URL, *, echo: bool = False, pool_size: int = 10) -> AsyncEngine:
    """An async engine for `url` (sqlite+aiosqlite or postgresql+asyncpg), tuned per backend;
    a URL without a driver (postgresql://...) gets the async one (`async_url`)."""
    parsed = async_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(parsed, echo)
    else:
        engine = create_async_engine(
            parsed, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
        )
    event.listen(engine.sync_engine, "handle_error", _handle_error)
    event.listen(engine.sync_engine, "do_connect", _connect)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (repositories return plain models)."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def begin_immediate(session: AsyncSession) -> None:
    """Start the session's transaction as a writer: BEGIN IMMEDIATE on SQLite, plain BEGIN elsewhere.

    Call it first in a transaction that reads and then writes, so SQLite takes its write
    lock up front instead of failing on a stale read snapshot.
    """
    await session.connection(execution_options={"sqlite_immediate": True})


async def begin_serialised(session: AsyncSession, table: str) -> None:
    """`begin_immediate`, and on PostgreSQL a lock on `table` that other writers of it wait for:
    for a read-then-insert that must not interleave with another process doing the same (numbering
    the next row, replicas syncing one table at start), which SQLite's write lock already serialises."""
    await begin_immediate(session)
    if session.bind.dialect.name == "postgresql":
        await session.execute(text(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))


def rowcount(result: object) -> int:
    """Rows matched by an UPDATE/DELETE (or inserted by an INSERT ... ON CONFLICT DO NOTHING)."""
    return int(cast(Any, result).rowcount)


def dialect_insert(session: AsyncSession) -> Any:
    """The backend's own `insert` (it has ``on_conflict_do_nothing``) for the session's database."""
    return postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert


def sqlite_path(url: str | URL) -> Path | None:
    """The file of a file-backed SQLite url, else None."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.query.get("uri") == "true":  # file:path?mode=ro&uri=true
        return Path((parsed.database or "").removeprefix("file:"))
    return Path(parsed.database or "")


def _sqlite_engine(url: URL, echo: bool) -> AsyncEngine:
    path = sqlite_path(url)
    if path is not None and url.query.get("uri") != "true":
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
    event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when transactions begin (see _sqlite_on_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode")
        (mode,) = cursor.fetchone()
        if str(mode).lower() != "wal":
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
    # Connection failures (refused, unreachable, no such file) are not DBAPI errors for every
    # driver, so handle_error does not see them all: translate them here.
    try:
        return dialect.connect(*cargs, **cparams)
    except Exception as err:
        raise (
            translate(err) or StoreUnavailable(f"cannot connect to the database: {_first_line(err)}")
        ) from err


def _handle_error(context: ExceptionContext) -> StoreUnavailable | None:
    if context.is_pre_ping:  # the pool reconnects by itself
        return None
    if context.sqlalchemy_exception is not None and isinstance(context.sqlalchemy_exception, IntegrityError):
        return None
    translated = translate(context.original_exception)
    if translated is not None:
        raise translated
    return None
