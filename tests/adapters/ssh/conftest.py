"""Real OpenSSH sshd in a network namespace (see tests/integration/sshd_testbed.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.ssh import AsyncsshShell, SshConfig
from tests.integration.sshd_fixtures import in_testbed, login, sshd_testbed, testbed_known_hosts
from tests.integration.sshd_testbed import SshdTestbed

__all__ = ["in_testbed", "sshd_testbed", "testbed_known_hosts"]


@pytest.fixture
def ssh_config(in_testbed: SshdTestbed, testbed_known_hosts: Path) -> Callable[..., SshConfig]:
    def make(**overrides: Any) -> SshConfig:
        return login(in_testbed, testbed_known_hosts, **{"command_timeout_s": 10.0, **overrides})

    return make


@pytest.fixture
async def shell(ssh_config: Callable[..., SshConfig]) -> AsyncIterator[AsyncsshShell]:
    remote = AsyncsshShell(ssh_config())
    yield remote
    await remote.close()
