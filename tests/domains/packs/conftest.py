"""Catalog-defined tools against the real OpenSSH sshd (tests/integration/sshd_testbed.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.ssh import AsyncsshShell, SshConfig
from domains.automation.ports import RemoteShell
from tests.integration.sshd_fixtures import in_testbed, sshd_testbed, testbed_known_hosts
from tests.integration.sshd_testbed import SshdTestbed

__all__ = ["in_testbed", "sshd_testbed", "testbed_known_hosts"]


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
def services(shell: AsyncsshShell) -> dict[type[Any], Any]:
    return {RemoteShell: shell}
