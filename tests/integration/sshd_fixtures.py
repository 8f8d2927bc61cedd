"""pytest fixtures over `sshd_testbed`: import the ones you need into a conftest.py.

- ``sshd_testbed`` (session): the namespace with one sshd serving `SSH_HOSTS`, nothing on
  `REFUSING` (port closed), a TCP listener that never speaks on `HANGING`. Skips the test
  with the reason when the machine cannot run it (not root, no openssh-server).
- ``in_testbed`` (function): the test's own sockets live in the namespace while it runs.
- ``testbed_known_hosts`` (function): a known_hosts file listing `SSH_HOSTS`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
