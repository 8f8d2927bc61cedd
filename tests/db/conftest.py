"""Database fixtures: a migrated SQLite file and a fresh PostgreSQL database per test.

PostgreSQL comes from the shared session fixture `postgres_url` (tests/conftest.py)
when it exists; until then from OPSCONDUCTOR_TEST_PG_URL or the local server at
127.0.0.1:5432. Each test gets its own database, created and dropped here.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import create_engine, session_factory
from db.migrate import upgrade

LOCAL_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def sqlite_url(tmp_path: os.PathLike[str]) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/opsconductor.db"


@pytest.fixture(scope="session")
def pg_server_url(request: pytest.FixtureRequest) -> str:
    """A URL on the test PostgreSQL server (any database on it)."""
    try:
        return str(request.getfixturevalue("postgres_url"))
    except pytest.FixtureLookupError:
        return os.environ.get("OPSCONDUCTOR_TEST_PG_URL", LOCAL_PG)


def _dsn(url: str, database: str) -> str:
    parsed = make_url(url).set(drivername="postgresql", database=database)
    return parsed.render_as_string(hide_password=False)


@pytest.fixture
async def pg_url(pg_server_url: str) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"ops_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_dsn(pg_server_url, make_url(pg_server_url).database or "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """The same test on SQLite and on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
async def migrated_url(db_url: str) -> str:
    await upgrade(db_url)
    return db_url


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
def backend(engine: AsyncEngine) -> Iterator[str]:
    yield engine.dialect.name
