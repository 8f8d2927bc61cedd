"""pytest fixtures over `sshd_testbed`: import the ones you need into a conftest.py.

- ``sshd_testbed`` (session): the namespace with one sshd serving `SSH_HOSTS`, nothing on
  `REFUSING` (port closed), a TCP listener that never speaks on `HANGING`. Skips the test
  with the reason when the machine cannot run it (not root, no openssh-server).
- ``in_testbed`` (function): the test's own sockets live in the namespace while it runs.
- ``testbed_known_hosts`` (function): a known_hosts file listing `SSH_HOSTS`.
- ``sessions`` (function): a migrated SQLite database (inside the namespace the PostgreSQL
  server is not reachable).

`login` is how a test logs in to the testbed's sshd; `shell_fixture` makes a `shell` fixture
(an `AsyncsshShell` logged in that way, closed after the test).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.ssh import AsyncsshShell, SshConfig
from db.engine import create_engine, session_factory
from db.migrate import upgrade
from tests.integration import sshd_testbed as testbed_module
from tests.integration.sshd_testbed import SshdTestbed

SSH_HOSTS = tuple(f"127.0.0.{i}" for i in range(1, 13))
REFUSING = "127.0.0.13"
HANGING = "127.0.0.14"
REBOOTABLE = "127.0.0.20"


@pytest.fixture(scope="session")
def sshd_testbed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshdTestbed]:
    why_not = testbed_module.available()
    if why_not:
        pytest.skip(why_not)
    bed = SshdTestbed(tmp_path_factory.mktemp("sshd"))
    try:
        bed.start_sshd("main", listen=SSH_HOSTS)
        bed.hang_listener(HANGING)
        yield bed
    finally:
        bed.close()


@pytest.fixture
def in_testbed(sshd_testbed: SshdTestbed) -> Iterator[SshdTestbed]:
    with sshd_testbed.inside():
        yield sshd_testbed


@pytest.fixture
def testbed_known_hosts(sshd_testbed: SshdTestbed, tmp_path: Path) -> Path:
    return sshd_testbed.write_known_hosts(tmp_path / "known_hosts", [*SSH_HOSTS, REBOOTABLE])


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = f"sqlite+aiosqlite:///{tmp_path}/opsconductor.db"
    await upgrade(url)
    engine = create_engine(url)
    yield session_factory(engine)
    await engine.dispose()


def login(bed: SshdTestbed, known_hosts: Path, /, **overrides: Any) -> SshConfig:
    """As root (the testbed's sshd has only root) with the testbed's client key, checking host keys
    against `known_hosts`, a 2 s connect timeout; `overrides` set any SshConfig field."""
    values: dict[str, Any] = {
        "username": "root",
        "known_hosts": str(known_hosts),
        "client_keys": (str(bed.client_key),),
        "connect_timeout_s": 2.0,
    }
    values.update(overrides)
    return SshConfig(**values)


def shell_fixture(**overrides: Any) -> Callable[..., AsyncIterator[AsyncsshShell]]:
    """A function-scoped fixture, named by the attribute it is bound to: a shell logged in as
    `login(..., **overrides)` says, from inside the testbed's namespace."""

    @pytest.fixture
    async def fixture(in_testbed: SshdTestbed, testbed_known_hosts: Path) -> AsyncIterator[AsyncsshShell]:
        remote = AsyncsshShell(login(in_testbed, testbed_known_hosts, **overrides))
        yield remote
        await remote.close()

    return fixture
