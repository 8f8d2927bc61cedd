"""Suite-wide fixtures: real PostgreSQL and Redis, and the loopback-only network guard.

Fixtures (servers start lazily, the first time a test asks for them):

- ``postgres_url`` (session): postgresql+asyncpg URL of an empty database made for this
  session, dropped at the end.
- ``fresh_postgres_url`` (function): a new empty database for one test (migrations).
- ``postgres_server`` (session): the ``tests.services.PostgresServer`` behind them.
- ``redis_url`` (function): redis:// URL of a logical database claimed by this session
  and emptied before each test.
- ``redis_session_url`` (session): another claimed database, never emptied mid-session,
  for session-scoped fixtures.

Set OPSCONDUCTOR_TEST_PG_URL / OPSCONDUCTOR_TEST_REDIS_URL to use running servers
instead of throwaway ones. Tests using these fixtures get the ``postgres`` / ``redis``
markers automatically.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import services
from tests.fakes.chat import FakeChat
from tests.infra.netguard import (  # noqa: F401  (pytest hooks: fail tests that leave loopback)
    pytest_configure,
    pytest_runtest_call,
    pytest_runtest_setup,
    pytest_runtest_teardown,
    pytest_unconfigure,
)

_MARKED_FIXTURES = {
    "postgres_server": "postgres",
    "postgres_url": "postgres",
    "fresh_postgres_url": "postgres",
    "redis_server": "redis",
    "redis_url": "redis",
    "redis_session_url": "redis",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        names = getattr(item, "fixturenames", ())
        for marker in sorted({m for f, m in _MARKED_FIXTURES.items() if f in names}):
            item.add_marker(marker)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[services.PostgresServer]:
    server = services.postgres_server()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: services.PostgresServer) -> Iterator[str]:
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture
def fresh_postgres_url(postgres_server: services.PostgresServer) -> Iterator[str]:
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[services.RedisServer]:
    server = services.redis_server()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def _redis_test_db(redis_server: services.RedisServer) -> Iterator[services.RedisDatabase]:
    database = services.RedisDatabase(redis_server)
    yield database
    database.release()


@pytest.fixture
def redis_url(_redis_test_db: services.RedisDatabase) -> str:
    _redis_test_db.flush()
    return _redis_test_db.url


@pytest.fixture(scope="session")
def redis_session_url(redis_server: services.RedisServer) -> Iterator[str]:
    database = services.RedisDatabase(redis_server)
    yield database.url
    database.release()


@pytest.fixture
def fake_chat() -> FakeChat:
    """The whole pipeline in memory behind a chat-like `say` / `click` (tests/fakes/chat.py)."""
    return FakeChat()
