"""Catalog-defined tools against the real OpenSSH sshd (tests/integration/sshd_testbed.py)."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.ssh import AsyncsshShell
from domains.automation.ports import RemoteShell
from tests.integration.sshd_fixtures import in_testbed, shell_fixture, sshd_testbed, testbed_known_hosts

__all__ = ["in_testbed", "sshd_testbed", "testbed_known_hosts"]


shell = shell_fixture()


@pytest.fixture
def services(shell: AsyncsshShell) -> dict[type[Any], Any]:
    return {RemoteShell: shell}
