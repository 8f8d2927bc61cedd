"""Automation tools against a real OpenSSH sshd (tests/integration/sshd_testbed.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.localfiles import DirectoryFetchedFiles, DirectoryTemplates
from adapters.ssh import AsyncsshShell, SshConfig
from adapters.ssh.files import AsyncsshFiles
from db.engine import create_engine, session_factory
from db.migrate import upgrade
from domains.automation.ports import FetchedFiles, FileTemplates, RemoteFiles, RemoteShell
from domains.automation.tools import automation
from pipeline.contracts import AssetRef, ToolOutput
from pipeline.registry import ToolContext
from tests.integration.sshd_fixtures import in_testbed, sshd_testbed, testbed_known_hosts
from tests.integration.sshd_testbed import SshdTestbed

__all__ = ["in_testbed", "sshd_testbed", "testbed_known_hosts"]

RunTool = Callable[..., Awaitable[ToolOutput]]


@pytest.fixture
async def shell(in_testbed: SshdTestbed, testbed_known_hosts: Path) -> AsyncIterator[AsyncsshShell]:
    config = SshConfig(
        username="root",  # the testbed's sshd has only root
        known_hosts=str(testbed_known_hosts),
        client_keys=(str(in_testbed.client_key),),
        connect_timeout_s=2.0,
    )
    remote = AsyncsshShell(config)
    yield remote
    await remote.close()


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated SQLite database (the tests run inside the testbed's namespace, where the
    PostgreSQL server is not)."""
    url = f"sqlite+aiosqlite:///{tmp_path}/opsconductor.db"
    await upgrade(url)
    engine = create_engine(url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
def services(shell: AsyncsshShell, tmp_path: Path) -> dict[type[Any], Any]:
    return {
        RemoteShell: shell,
        RemoteFiles: AsyncsshFiles(shell),
        FetchedFiles: DirectoryFetchedFiles(tmp_path / "fetched"),
        FileTemplates: DirectoryTemplates([tmp_path / "templates"]),
    }


@pytest.fixture
def run_tool(services: dict[type[Any], Any]) -> RunTool:
    """Validate raw args with the tool's model, then call it on one target, as the executor does."""
    specs = {spec.name: spec for spec in automation.specs}

    async def run(name: str, target: AssetRef | None, **raw: Any) -> ToolOutput:
        spec = specs[name]
        ctx = ToolContext(execution_id="test", step_id="s1", services=services)
        return await spec.func(ctx, target, spec.parse_args(raw))

    return run
