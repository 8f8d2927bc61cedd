"""Database fixtures: every `db_url` test runs on a SQLite file and on a fresh PostgreSQL database.

PostgreSQL comes from the suite's `fresh_postgres_url` fixture (tests/conftest.py).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import create_engine, session_factory
from db.executions import SqlExecutionStore
from db.migrate import upgrade
from pipeline.contracts import ChatIdentity, InboundMessage, Plan, Principal


@pytest.fixture
def sqlite_url(tmp_path: os.PathLike[str]) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/opsconductor.db"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """The same test on SQLite and on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "fresh_postgres_url"
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


@pytest.fixture
def make_execution(sessions: async_sessionmaker[AsyncSession]) -> Callable[[], Awaitable[str]]:
    """Create a running, empty execution (for rows that reference executions); returns its id."""
    store = SqlExecutionStore(sessions)
    message = InboundMessage(identity=ChatIdentity(platform="console", user_id="u"), text="x")

    async def make() -> str:
        return await store.create(Plan(), message, Principal(subject="u"), "running")

    return make
